"""Factory helpers for bookings, counters, topics and mail links in the mail and outbox tests."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from shared.domain.model import (
    Booking,
    Channel,
    Counter,
    Language,
    PersonalData,
    TimeRange,
    Topic,
)
from shared.mail.compose import MailLinks

NATIONAL_NUMBER = "85071412330"
UTC = timezone.utc


def make_personal(**changes: str) -> PersonalData:
    values = {
        "first_name": "Anna",
        "last_name": "Peeters",
        "email": "anna.peeters@example.be",
        "phone": "+32470123456",
        "national_number": NATIONAL_NUMBER,
        "postcode": "1000",
    }
    values.update(changes)
    return PersonalData(**values)


def make_topic() -> Topic:
    return Topic(
        id="benefits",
        names={"nl": "Uitkering aanvragen", "fr": "Demander une allocation", "de": "Leistungen beantragen"},
    )


def make_video_counter() -> Counter:
    return Counter(
        id="video",
        channel=Channel.VIDEO,
        names={"nl": "Videoloket", "fr": "Guichet vidéo", "de": "Videoschalter"},
        address={"nl": "", "fr": "", "de": ""},
        slot_minutes=30,
        hours={"tue": (TimeRange(time(8), time(16)),)},
    )


def make_office_counter() -> Counter:
    return Counter(
        id="brussels",
        channel=Channel.OFFICE,
        names={"nl": "Kantoor Brussel", "fr": "Bureau de Bruxelles", "de": "Büro Brüssel"},
        address={
            "nl": "Kruidtuinlaan 50\n1000 Brussel",
            "fr": "Boulevard du Jardin Botanique 50\n1000 Bruxelles",
            "de": "Boulevard du Jardin Botanique 50\n1000 Brüssel",
        },
        slot_minutes=30,
        hours={"tue": (TimeRange(time(8), time(16)),)},
    )


def make_booking(
    *,
    channel: Channel = Channel.VIDEO,
    language: Language = Language.DUTCH,
    start: datetime = datetime(2027, 3, 30, 7, 0, tzinfo=UTC),
    minutes: int = 30,
    sequence: int = 0,
    personal: PersonalData | None = None,
) -> Booking:
    counter_id = "video" if channel is Channel.VIDEO else "brussels"
    return Booking(
        reference="VL-7K3M-Q2",
        counter_id=counter_id,
        channel=channel,
        topic_id="benefits",
        language=language,
        start=start,
        end=start + timedelta(minutes=minutes),
        agent_id="agent-1",
        personal=personal or make_personal(),
        terms_version="2026-01",
        created_at=datetime(2027, 3, 1, 12, 0, tzinfo=UTC),
        manage_token_hash="0" * 64,
        join_url="https://teams.example.test/l/meetup-join/abc" if channel is Channel.VIDEO else None,
        sequence=sequence,
    )


def make_counter_for(booking: Booking) -> Counter:
    return make_video_counter() if booking.channel is Channel.VIDEO else make_office_counter()


def make_links(booking: Booking) -> MailLinks:
    join_url = None
    if booking.channel is Channel.VIDEO:
        join_url = f"https://videoloket.example.test/api/join/{booking.reference}?token=t0k3n"
    return MailLinks(
        join_url=join_url,
        manage_url=f"https://videoloket.example.test/manage#reference={booking.reference}&token=t0k3n",
        terms_url="https://www.hvw.fgov.be/videoloket/terms",
        booking_url="https://videoloket.example.test/book",
    )
