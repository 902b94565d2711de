"""Agent actions and the agenda, for agent tools and Power Automate flows. Function key required."""

from __future__ import annotations

import azure.functions as func

from functions import dependencies
from functions.web import handle_errors, json_response, query_params, read_json, validate

bp = func.Blueprint()

_KEY = func.AuthLevel.FUNCTION


def _body(req: func.HttpRequest, model):
    return validate(model, read_json(req, dependencies.get_settings().max_request_bytes))


@bp.function_name("record_signal")
@bp.route(route="appointments/{reference}/signals", methods=["POST"], auth_level=_KEY)
@handle_errors
def record_signal(req: func.HttpRequest) -> func.HttpResponse:
    from functions.views import appointment_view
    from shared.domain.lifecycle import Signal
    from shared.schemas import SignalBody

    body = _body(req, SignalBody)
    booking = dependencies.lifecycle_service().record(
        req.route_params.get("reference", ""), Signal(body.signal.value), body.agent_id
    )
    return json_response(appointment_view(booking))


@bp.function_name("end_appointment")
@bp.route(route="appointments/{reference}/end", methods=["POST"], auth_level=_KEY)
@handle_errors
def end_appointment(req: func.HttpRequest) -> func.HttpResponse:
    from functions.views import appointment_view
    from shared.schemas import EndBody

    body = _body(req, EndBody)
    booking = dependencies.lifecycle_service().end(req.route_params.get("reference", ""), body.outcome, body.agent_id)
    return json_response(appointment_view(booking))


@bp.function_name("cancel_appointment")
@bp.route(route="appointments/{reference}/cancel", methods=["POST"], auth_level=_KEY)
@handle_errors
def cancel_appointment(req: func.HttpRequest) -> func.HttpResponse:
    from functions.views import appointment_view
    from shared.domain.lifecycle import Actor
    from shared.schemas import AgencyCancelBody

    body = _body(req, AgencyCancelBody)
    booking = dependencies.lifecycle_service().cancel(
        req.route_params.get("reference", ""), Actor.AGENT, body.agent_id, body.reason.value
    )
    return json_response(appointment_view(booking))


@bp.function_name("reschedule_appointment")
@bp.route(route="appointments/{reference}/reschedule", methods=["POST"], auth_level=_KEY)
@handle_errors
def reschedule_appointment(req: func.HttpRequest) -> func.HttpResponse:
    from functions.views import appointment_view
    from shared.domain.lifecycle import Actor
    from shared.schemas import AgencyRescheduleBody

    body = _body(req, AgencyRescheduleBody)
    booking = dependencies.lifecycle_service().reschedule(
        req.route_params.get("reference", ""), body.start, Actor.AGENT, body.agent_id, body.reason.value
    )
    return json_response(appointment_view(booking))


@bp.function_name("get_agenda")
@bp.route(route="agenda", methods=["GET"], auth_level=_KEY)
@handle_errors
def get_agenda(req: func.HttpRequest) -> func.HttpResponse:
    from functions.views import agenda_view
    from shared.schemas import AgendaParams

    params = validate(AgendaParams, query_params(req))
    catalog, bookings = dependencies.lifecycle_service().agenda(params.counter, params.day)
    return json_response(agenda_view(params.counter, params.day, bookings))
