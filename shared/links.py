"""The links a citizen gets in mails: join, manage and terms of use."""

from __future__ import annotations

from urllib.parse import urlencode

from shared.domain.model import Booking, Channel
from shared.protection import PersonalDataProtector
from shared.services.provisioning import BookingLinks


class PublicLinks:
    """Builds links from the public base URLs.

    The join link goes through our own /api/join endpoint, which records that the client opened it
    and redirects to the current meeting. It carries the booking's sequence, so a link from a mail
    about an older time shows that the appointment moved. The manage link carries the token in
    the URL fragment, which browsers do not send to servers, so it stays out of access logs.
    """

    def __init__(self, api_base_url: str, site_url: str, terms_url: str, protector: PersonalDataProtector):
        self._api = api_base_url.rstrip("/")
        self._site = site_url.rstrip("/")
        self._terms_url = terms_url
        self._protector = protector

    def links_for(self, booking: Booking) -> BookingLinks:
        token = self._protector.manage_token(booking.reference)
        join_url = None
        if booking.channel is Channel.VIDEO:
            query = urlencode({"token": token, "v": booking.sequence})
            join_url = f"{self._api}/api/join/{booking.reference}?{query}"
        manage_url = f"{self._site}/manage#{urlencode({'reference': booking.reference, 'token': token})}"
        return BookingLinks(join_url=join_url, manage_url=manage_url, terms_url=self._terms_url)
