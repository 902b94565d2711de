"""Conversions between the API's pydantic bodies and the domain's objects."""

from __future__ import annotations

from datetime import timezone

import azure.functions as func

from shared.domain.calendar import to_local
from shared.domain.model import Booking, BookingStatus, Catalog, PersonalData, Provisioning
from shared.domain.residence import Residence
from shared.masking import mask_email, mask_name, mask_phone
from shared.schemas import (
    AgendaItemOut,
    AgendaOut,
    AppointmentOut,
    BookingBody,
    BookingOut,
    BookingSummaryOut,
    ClientOut,
    OfficeOut,
    PostcodeOut,
    SignalsOut,
    SlotOut,
    SlotsOut,
    SlotsParams,
    TopicOut,
)
from shared.services.booking import BookingRequest, BookingResult, SlotList, SlotQuery


def iso_brussels(moment) -> str:
    return to_local(moment).isoformat()


def topics_view(catalog: Catalog) -> list[TopicOut]:
    return [TopicOut(id=t.id, names=t.names) for t in sorted(catalog.topics.values(), key=lambda t: t.id)]


def offices_view(catalog: Catalog) -> list[OfficeOut]:
    return [OfficeOut(id=c.id, names=c.names, address=c.address) for c in sorted(catalog.offices(), key=lambda c: c.id)]


def residence_view(residence: Residence) -> PostcodeOut:
    return PostcodeOut(
        postcode=residence.postcode,
        municipality=residence.names,
        languages=list(residence.official),
        facility_language=residence.facility,
        choice_required=len(residence.official) > 1,
    )


def slot_query(params: SlotsParams) -> SlotQuery:
    return SlotQuery(
        channel=params.channel,
        topic_id=params.topic,
        postcode=params.postcode,
        language=params.language,
        office_id=params.office,
        first_day=params.first_day,
        last_day=params.last_day,
    )


def slots_view(found: SlotList) -> SlotsOut:
    return SlotsOut(
        counter=found.counter.id,
        channel=found.counter.channel,
        language=found.language,
        slots=[SlotOut(start=iso_brussels(s.start), end=iso_brussels(s.end), available=s.available) for s in found.slots],
    )


def booking_request(body: BookingBody) -> BookingRequest:
    return BookingRequest(
        channel=body.channel,
        topic_id=body.topic,
        office_id=body.office,
        start=body.start.astimezone(timezone.utc),
        postcode=body.postcode,
        language=body.language,
        personal=PersonalData(
            first_name=body.first_name,
            last_name=body.last_name,
            email=body.email,
            phone=body.phone,
            national_number=body.national_number,
            postcode=body.postcode,
        ),
        accepted_terms_version=body.accepted_terms_version,
    )


def created_view(result: BookingResult) -> BookingOut:
    booking = result.booking
    return BookingOut(
        reference=booking.reference,
        status=booking.status.value,
        channel=booking.channel,
        start=iso_brussels(booking.start),
        end=iso_brussels(booking.end),
        language=booking.language,
        manage_token=result.manage_token,
    )


def summary_view(booking: Booking, catalog: Catalog) -> BookingSummaryOut:
    personal = booking.personal
    return BookingSummaryOut(
        reference=booking.reference,
        status=booking.status.value,
        status_reason=booking.status_reason,
        provisioning=booking.provisioning.value,
        channel=booking.channel,
        counter=booking.counter_id,
        topic=booking.topic_id,
        start=iso_brussels(booking.start),
        end=iso_brussels(booking.end),
        language=booking.language,
        first_name=mask_name(personal.first_name) if personal else "",
        last_name=mask_name(personal.last_name) if personal else "",
        email=mask_email(personal.email) if personal else "",
        phone=mask_phone(personal.phone) if personal else "",
    )


def manage_token(req: func.HttpRequest) -> str | None:
    """Return the manage token from the X-Manage-Token header, or from ?token= in a mail link."""
    return req.headers.get("X-Manage-Token") or req.params.get("token")


def _iso(moment) -> str | None:
    return iso_brussels(moment) if moment else None


def signals_view(booking: Booking) -> SignalsOut:
    return SignalsOut(
        client_seen_at=_iso(booking.client_seen_at),
        agent_seen_at=_iso(booking.agent_seen_at),
        identity_verified_at=_iso(booking.identity_verified_at),
    )


def appointment_view(booking: Booking) -> AppointmentOut:
    return AppointmentOut(
        reference=booking.reference,
        status=booking.status.value,
        status_reason=booking.status_reason,
        outcome=booking.outcome,
        start=iso_brussels(booking.start),
        end=iso_brussels(booking.end),
        sequence=booking.sequence,
        signals=signals_view(booking),
    )


def _client_view(booking: Booking) -> ClientOut | None:
    """Return the name for the identity check, and contact details only while the agency must call
    the client back: after an agent-late case or a technical problem, or when the confirmation failed."""
    personal = booking.personal
    if personal is None:
        return None
    must_contact = booking.status is BookingStatus.TO_RESCHEDULE or booking.provisioning is Provisioning.FAILED
    return ClientOut(
        first_name=personal.first_name,
        last_name=personal.last_name,
        email=personal.email if must_contact else None,
        phone=personal.phone if must_contact else None,
    )


def agenda_view(counter_id: str, day, bookings: list[Booking]) -> AgendaOut:
    return AgendaOut(
        counter=counter_id,
        date=day,
        appointments=[
            AgendaItemOut(
                reference=b.reference,
                start=iso_brussels(b.start),
                end=iso_brussels(b.end),
                status=b.status.value,
                status_reason=b.status_reason,
                outcome=b.outcome,
                channel=b.channel,
                language=b.language,
                topic=b.topic_id,
                agent=b.agent_id,
                provisioning=b.provisioning.value,
                signals=signals_view(b),
                client=_client_view(b),
            )
            for b in bookings
        ],
    )
