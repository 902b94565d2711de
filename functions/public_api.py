"""The public API that the website calls: anonymous, JSON."""

from __future__ import annotations

import azure.functions as func

from functions import dependencies
from functions.web import handle_errors, json_response, query_params, read_json, validate
from shared.domain import errors

bp = func.Blueprint()

_PUBLIC = func.AuthLevel.ANONYMOUS
_CACHE_FIVE_MINUTES = {"Cache-Control": "public, max-age=300"}


@bp.function_name("list_topics")
@bp.route(route="topics", methods=["GET"], auth_level=_PUBLIC)
@handle_errors
def list_topics(req: func.HttpRequest) -> func.HttpResponse:
    from functions.views import topics_view

    return json_response(topics_view(dependencies.config_store().catalog()), headers=_CACHE_FIVE_MINUTES)


@bp.function_name("list_offices")
@bp.route(route="offices", methods=["GET"], auth_level=_PUBLIC)
@handle_errors
def list_offices(req: func.HttpRequest) -> func.HttpResponse:
    from functions.views import offices_view

    return json_response(offices_view(dependencies.config_store().catalog()), headers=_CACHE_FIVE_MINUTES)


@bp.function_name("find_postcode")
@bp.route(route="postcodes/{postcode}", methods=["GET"], auth_level=_PUBLIC)
@handle_errors
def find_postcode(req: func.HttpRequest) -> func.HttpResponse:
    from functions.views import residence_view
    from shared.postcodes import directory

    residence = directory().find(req.route_params.get("postcode", ""))
    if residence is None:
        raise errors.PostcodeNotFound(field="postcode")
    return json_response(residence_view(residence), headers=_CACHE_FIVE_MINUTES)


@bp.function_name("list_slots")
@bp.route(route="slots", methods=["GET"], auth_level=_PUBLIC)
@handle_errors
def list_slots(req: func.HttpRequest) -> func.HttpResponse:
    from functions.views import slot_query, slots_view
    from shared.schemas import SlotsParams

    params = validate(SlotsParams, query_params(req))
    found = dependencies.booking_service().find_slots(slot_query(params))
    return json_response(slots_view(found))


@bp.function_name("create_booking")
@bp.route(route="bookings", methods=["POST"], auth_level=_PUBLIC)
@handle_errors
def create_booking(req: func.HttpRequest) -> func.HttpResponse:
    from functions.views import booking_request, created_view
    from shared.schemas import BookingBody

    body = validate(BookingBody, read_json(req, dependencies.get_settings().max_request_bytes))
    key = req.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        raise errors.InvalidField("Idempotency-Key", "This value is too long. The maximum is {limit} characters.", limit=200)
    result = dependencies.booking_service().book(booking_request(body), idempotency_key=key)
    headers = {"Location": f"/api/bookings/{result.booking.reference}"}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(created_view(result), status=201, headers=headers)


@bp.function_name("get_booking")
@bp.route(route="bookings/{reference}", methods=["GET"], auth_level=_PUBLIC)
@handle_errors
def get_booking(req: func.HttpRequest) -> func.HttpResponse:
    from functions.views import manage_token, summary_view

    service = dependencies.booking_service()
    booking = service.booking_for_owner(req.route_params.get("reference", ""), manage_token(req))
    catalog = dependencies.config_store().catalog()
    return json_response(summary_view(booking, catalog))
