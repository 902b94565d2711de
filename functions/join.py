"""GET /api/join/{reference}: the join link in mails; checks the token, then redirects to the meeting."""

from __future__ import annotations

import azure.functions as func

from functions import dependencies
from functions.views import manage_token
from functions.web import handle_errors

bp = func.Blueprint()


@bp.function_name("join_meeting")
@bp.route(route="join/{reference}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@handle_errors
def join_meeting(req: func.HttpRequest) -> func.HttpResponse:
    booking = dependencies.booking_service().booking_for_owner(req.route_params.get("reference", ""), manage_token(req))
    if not booking.join_url:
        # NOTE: the mail goes out only after the meeting exists, so this is reached only by a link
        # shared before then or after a cancellation.
        return func.HttpResponse(status_code=404, headers={"Cache-Control": "no-store"})
    return func.HttpResponse(
        status_code=302, headers={"Location": booking.join_url, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )
