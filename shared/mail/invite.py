"""The iCalendar invitation (RFC 5545, with iTIP methods from RFC 5546) attached to booking mails."""

from __future__ import annotations

from datetime import datetime, timezone

from icalendar import Calendar, Event, vCalAddress

from shared.domain.model import Booking, Channel, Counter, Topic
from shared.i18n import N_, check_language, translate
from shared.mail.checks import require_single_line, split_address

DEFAULT_ORGANIZER = "videoloket@hvw.be"
UID_DOMAIN = "videoloket.hvw.be"
PRODUCT_ID = "-//HVW CAPAC HfA//videoloket//EN"

# RFC 5546 methods and the STATUS each one gives the event.
EVENT_STATUS = {"REQUEST": "CONFIRMED", "CANCEL": "CANCELLED"}

SUMMARIES = {
    Channel.VIDEO: N_("Video appointment with HVW"),
    Channel.OFFICE: N_("Appointment at an HVW office"),
}

# One line of the DESCRIPTION. French puts a non-breaking space before the colon.
LABELLED_VALUE = N_("{label}: {value}")


def event_uid(reference: str) -> str:
    """Return the iCalendar UID of a booking. It stays the same across reschedules and cancellation."""
    return f"{require_single_line('reference', reference)}@{UID_DOMAIN}"


def build_invite(
    booking: Booking,
    counter: Counter,
    topic: Topic,
    *,
    join_url: str | None,
    manage_url: str,
    method: str = "REQUEST",
    organizer: str = DEFAULT_ORGANIZER,
    now: datetime | None = None,
) -> bytes:
    """Build the invitation of `booking` as an iCalendar file in the booking's language.

    The file contains one VEVENT with SEQUENCE = booking.sequence, so the caller raises the sequence
    on every change, a cancellation included, for calendar clients to apply it. Times are in UTC.
    SUMMARY names the agency and the channel only, because calendars are often shared.
    The only personal data is the recipient's address in ATTENDEE: RFC 5546 requires an attendee
    in REQUEST and CANCEL, and calendar clients match the invitation to the recipient by it.
    A line break or control character in any text taken from the booking, counter or topic
    raises ValueError, except between the lines of an office address.
    """
    if method not in EVENT_STATUS:
        raise ValueError(f"unsupported iTIP method {method!r}: expected REQUEST or CANCEL")
    if booking.personal is None:
        raise ValueError(f"booking {booking.reference} has no personal data, so it has no attendee")
    language = check_language(booking.language)

    event = Event()
    event.add("uid", event_uid(booking.reference))
    event.add("sequence", booking.sequence)
    event.add("dtstamp", _utc("now", now or datetime.now(timezone.utc)))
    event.add("dtstart", _utc("booking.start", booking.start))
    event.add("dtend", _utc("booking.end", booking.end))
    event.add("summary", translate(SUMMARIES[booking.channel], language))
    event.add("location", _location(booking, counter, language, join_url))
    event.add("description", _description(booking, topic, language, join_url, manage_url))
    if booking.channel is Channel.VIDEO and join_url:
        event.add("url", require_single_line("join_url", join_url))
    event.add("organizer", _mail_address("organizer", organizer))
    event.add("attendee", _attendee(booking.personal.email))
    event.add("status", EVENT_STATUS[method])
    event.add("transp", "OPAQUE")
    event.add("class", "PRIVATE")

    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(event)
    return calendar.to_ical()


def _utc(field: str, moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{field} must be an aware datetime")
    return moment.astimezone(timezone.utc)


def _location(booking: Booking, counter: Counter, language: str, join_url: str | None) -> str:
    if booking.channel is Channel.VIDEO:
        return require_single_line("join_url", join_url or "Microsoft Teams")
    name = require_single_line("counter name", counter.names[language])
    return ", ".join([name, *split_address("counter address", counter.address[language])])


def _description(
    booking: Booking, topic: Topic, language: str, join_url: str | None, manage_url: str
) -> str:
    rows = [
        (N_("Topic"), require_single_line("topic name", topic.names[language])),
        (N_("Reference"), require_single_line("reference", booking.reference)),
    ]
    if booking.channel is Channel.VIDEO and join_url:
        rows.append((N_("Join the video call"), require_single_line("join_url", join_url)))
    rows.append((N_("Change or cancel your appointment"), require_single_line("manage_url", manage_url)))

    # icalendar escapes these intended line breaks as "\n" inside the one DESCRIPTION value.
    lines = [translate(SUMMARIES[booking.channel], language)]
    for label, value in rows:
        lines.append(translate(LABELLED_VALUE, language, label=translate(label, language), value=value))
    return "\n".join(lines)


def _mail_address(field: str, address: str) -> vCalAddress:
    require_single_line(field, address)
    if "@" not in address or any(character in address for character in ' <>":;,'):
        raise ValueError(f"{field} is not a plain e-mail address")
    return vCalAddress(f"mailto:{address}")


def _attendee(email: str) -> vCalAddress:
    attendee = _mail_address("attendee", email)
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["PARTSTAT"] = "ACCEPTED"
    attendee.params["RSVP"] = "FALSE"
    return attendee
