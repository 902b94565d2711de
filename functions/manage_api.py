"""The client's manage link: cancel or reschedule until the start. Anonymous, guarded by the manage token."""

from __future__ import annotations

import azure.functions as func

from functions import dependencies
from functions.web import handle_errors, json_response, read_json, validate

bp = func.Blueprint()


def _owned_reference(req: func.HttpRequest) -> str:
    from functions.views import manage_token

    reference = req.route_params.get("reference", "")
    dependencies.lifecycle_service().owner_booking(reference, manage_token(req))
    return reference


@bp.function_name("cancel_booking")
@bp.route(route="bookings/{reference}/cancel", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@handle_errors
def cancel_booking(req: func.HttpRequest) -> func.HttpResponse:
    from functions.views import appointment_view
    from shared.domain.lifecycle import Actor

    booking = dependencies.lifecycle_service().cancel(_owned_reference(req), Actor.CLIENT)
    return json_response(appointment_view(booking))


@bp.function_name("reschedule_booking")
@bp.route(route="bookings/{reference}/reschedule", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@handle_errors
def reschedule_booking(req: func.HttpRequest) -> func.HttpResponse:
    from functions.views import appointment_view
    from shared.domain.lifecycle import Actor
    from shared.schemas import RescheduleBody

    reference = _owned_reference(req)
    body = validate(RescheduleBody, read_json(req, dependencies.get_settings().max_request_bytes))
    booking = dependencies.lifecycle_service().reschedule(reference, body.start, Actor.CLIENT)
    return json_response(appointment_view(booking))
