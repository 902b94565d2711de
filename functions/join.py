"""GET /api/join/{reference}: the join link in mails.

It checks the token, records that the client opened the link (a presence signal for the
10-minute rules), then redirects to the current meeting. A link from an older mail (its `v`
is below the booking's sequence) shows a page saying the appointment moved instead.
"""

from __future__ import annotations

import azure.functions as func

from functions import dependencies
from functions.web import handle_errors

bp = func.Blueprint()

_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _page(kind: str, booking, status: int = 200) -> func.HttpResponse:
    from shared.pages import render_page

    html = render_page(kind, booking.language.value, booking.start)
    return func.HttpResponse(html, status_code=status, mimetype="text/html", charset="utf-8", headers=_NO_STORE)


@bp.function_name("join_meeting")
@bp.route(route="join/{reference}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@handle_errors
def join_meeting(req: func.HttpRequest) -> func.HttpResponse:
    from functions.views import manage_token
    from shared.domain.lifecycle import Signal
    from shared.domain.model import BookingStatus

    lifecycle = dependencies.lifecycle_service()
    booking = lifecycle.owner_booking(req.route_params.get("reference", ""), manage_token(req))
    version = req.params.get("v", "")
    if booking.status is BookingStatus.CANCELLED:
        return _page("cancelled", booking, 410)
    if version.isdigit() and int(version) < booking.sequence:
        return _page("moved", booking, 410)
    if booking.status is not BookingStatus.BOOKED:
        return _page("closed", booking, 410)
    if not booking.join_url:
        return _page("not_ready", booking, 503)
    lifecycle.record(booking.reference, Signal.CLIENT_OPENED_LINK)
    return func.HttpResponse(status_code=302, headers={"Location": booking.join_url, **_NO_STORE})
