"""Compose the mails a citizen receives about a booking: subject, text, HTML and invitation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from shared.domain.model import Booking, Channel, Counter, Topic
from shared.i18n import N_, check_language, format_local_date, format_local_time, translate
from shared.mail.checks import require_single_line, split_address
from shared.mail.invite import DEFAULT_ORGANIZER, build_invite
from shared.mail.render import render_body
from shared.ports import Attachment, OutgoingMail


@dataclass(frozen=True)
class MailLinks:
    """The links a booking mail contains. Each is an absolute http(s) URL.

    `join_url` is the Teams join link of a video booking and None for an office booking.
    `booking_url`, when set, is where a citizen books a new appointment after a cancellation.
    """

    join_url: str | None
    manage_url: str
    terms_url: str
    booking_url: str | None = None

    def __post_init__(self) -> None:
        for field in ("join_url", "manage_url", "terms_url", "booking_url"):
            url = getattr(self, field)
            if url is not None:
                _check_url(field, url)


@dataclass(frozen=True)
class MailKind:
    """One kind of booking mail: its template pair, subject msgid and invitation method.

    `subject` is a msgid with `{date}` and `{time}` placeholders. `method` is the iTIP method of
    the attached invitation, or None to attach none. `needs_join_url` makes a video booking
    without a join link an error, for mails whose purpose is to let the citizen join.
    """

    template: str
    subject: str
    method: str | None
    needs_join_url: bool


# To add a mail, add its template pair under templates/ and one entry here.
MAIL_KINDS = {
    "confirmation": MailKind(
        template="confirmation",
        subject=N_("Your appointment on {date} at {time} is confirmed"),
        method="REQUEST",
        needs_join_url=True,
    ),
    "reminder": MailKind(
        template="reminder",
        subject=N_("Reminder: your appointment on {date} at {time}"),
        method=None,
        needs_join_url=True,
    ),
    "cancelled": MailKind(
        template="cancelled",
        subject=N_("Your appointment on {date} at {time} is cancelled"),
        method="CANCEL",
        needs_join_url=False,
    ),
    # The caller composes this mail from the booking after the move, so subject and invitation show the new time.
    "rescheduled": MailKind(
        template="rescheduled",
        subject=N_("Your appointment has been moved to {date} at {time}"),
        method="REQUEST",
        needs_join_url=True,
    ),
    "no_show": MailKind(
        template="no_show",
        subject=N_("Your appointment on {date} at {time} is cancelled because you did not attend"),
        method="CANCEL",
        needs_join_url=False,
    ),
    # Sent when the agency was late or had a technical problem. The booking waits to be rescheduled
    # by the agency, so the invitation cancels the event and the agency's reschedule sends a new one.
    "agent_late": MailKind(
        template="agent_late",
        subject=N_("Your appointment on {date} at {time} could not take place as planned"),
        method="CANCEL",
        needs_join_url=False,
    ),
}


def compose(
    kind: str,
    booking: Booking,
    counter: Counter,
    topic: Topic,
    links: MailLinks,
    *,
    organizer: str = DEFAULT_ORGANIZER,
    now: datetime | None = None,
) -> OutgoingMail:
    """Compose the mail of `kind` (a key of MAIL_KINDS) about `booking`, in the booking's language.

    `organizer` is the mailbox named as ORGANIZER in the invitation, and `now` its DTSTAMP
    (the current time when omitted). The dedup key is "<reference>:<kind>:<sequence>".
    Raises ValueError for an unknown kind, a booking without personal data, a counter or topic
    that is not the booking's, a missing join link, and a line break in a header value.
    """
    mail_kind = MAIL_KINDS.get(kind)
    if mail_kind is None:
        raise ValueError(f"unknown mail kind {kind!r}: expected one of {', '.join(MAIL_KINDS)}")
    _check_booking(booking, counter, topic)
    if booking.channel is Channel.VIDEO and mail_kind.needs_join_url and not links.join_url:
        raise ValueError(f"booking {booking.reference} is a video booking, but links.join_url is missing")

    language = check_language(booking.language)
    subject = translate(
        mail_kind.subject,
        language,
        date=format_local_date(booking.start, language),
        time=format_local_time(booking.start, language),
    )
    context = _template_context(booking, counter, topic, links, language, subject)
    body = render_body(mail_kind.template, language, context)

    attachments: tuple[Attachment, ...] = ()
    if mail_kind.method is not None:
        invite = build_invite(
            booking,
            counter,
            topic,
            join_url=links.join_url,
            manage_url=links.manage_url,
            method=mail_kind.method,
            organizer=organizer,
            now=now,
        )
        content_type = f"text/calendar; method={mail_kind.method}; charset=utf-8"
        attachments = (Attachment(filename="invite.ics", content_type=content_type, content=invite),)

    return OutgoingMail(
        to=booking.personal.email,  # type: ignore[union-attr]
        subject=require_single_line("subject", subject),
        text=body.text,
        html=body.html,
        dedup_key=f"{booking.reference}:{kind}:{booking.sequence}",
        attachments=attachments,
    )


def compose_confirmation(
    booking: Booking,
    counter: Counter,
    topic: Topic,
    links: MailLinks,
    *,
    organizer: str = DEFAULT_ORGANIZER,
    now: datetime | None = None,
) -> OutgoingMail:
    """Compose the confirmation of a new booking, with the invitation as METHOD:REQUEST."""
    return compose("confirmation", booking, counter, topic, links, organizer=organizer, now=now)


def compose_reminder(
    booking: Booking, counter: Counter, topic: Topic, links: MailLinks
) -> OutgoingMail:
    """Compose the reminder before an appointment. It carries no invitation."""
    return compose("reminder", booking, counter, topic, links)


def compose_cancelled(
    booking: Booking,
    counter: Counter,
    topic: Topic,
    links: MailLinks,
    *,
    organizer: str = DEFAULT_ORGANIZER,
    now: datetime | None = None,
) -> OutgoingMail:
    """Compose the notice of a cancelled booking, with the invitation as METHOD:CANCEL.

    The caller raises booking.sequence before, so calendar clients apply the cancellation.
    """
    return compose("cancelled", booking, counter, topic, links, organizer=organizer, now=now)


def compose_rescheduled(
    booking: Booking,
    counter: Counter,
    topic: Topic,
    links: MailLinks,
    *,
    organizer: str = DEFAULT_ORGANIZER,
    now: datetime | None = None,
) -> OutgoingMail:
    """Compose the notice of a moved appointment, with the invitation as METHOD:REQUEST.

    `booking` is the booking after the move, with its new start and its raised sequence, so
    calendar clients update the event that has the same UID.
    """
    return compose("rescheduled", booking, counter, topic, links, organizer=organizer, now=now)


def compose_no_show(
    booking: Booking,
    counter: Counter,
    topic: Topic,
    links: MailLinks,
    *,
    organizer: str = DEFAULT_ORGANIZER,
    now: datetime | None = None,
) -> OutgoingMail:
    """Compose the notice that the appointment is cancelled because the citizen did not attend.

    The invitation is METHOD:CANCEL with the booking's sequence. The mail links to links.booking_url
    when it is set.
    """
    return compose("no_show", booking, counter, topic, links, organizer=organizer, now=now)


def compose_agent_late(
    booking: Booking,
    counter: Counter,
    topic: Topic,
    links: MailLinks,
    *,
    organizer: str = DEFAULT_ORGANIZER,
    now: datetime | None = None,
) -> OutgoingMail:
    """Compose the apology for an appointment the agency could not hold, with METHOD:CANCEL.

    A booking whose status_reason is "technical_problem" gets the technical-problem wording.
    Any other reason, agent_late included, gets the late-start wording.
    """
    return compose("agent_late", booking, counter, topic, links, organizer=organizer, now=now)


def _check_booking(booking: Booking, counter: Counter, topic: Topic) -> None:
    if booking.personal is None:
        raise ValueError(f"booking {booking.reference} has no personal data, so no mail can be addressed")
    require_single_line("to", booking.personal.email)
    check_counter_and_topic(booking, counter, topic)


def check_counter_and_topic(booking: Booking, counter: Counter, topic: Topic) -> None:
    """Raise ValueError unless `counter` and `topic` are the ones the booking refers to."""
    if counter.id != booking.counter_id:
        raise ValueError(f"counter {counter.id} is not the counter {booking.counter_id} of the booking")
    if topic.id != booking.topic_id:
        raise ValueError(f"topic {topic.id} is not the topic {booking.topic_id} of the booking")


def _template_context(
    booking: Booking,
    counter: Counter,
    topic: Topic,
    links: MailLinks,
    language: str,
    subject: str,
) -> dict[str, Any]:
    personal = booking.personal
    assert personal is not None  # checked by _check_booking
    is_office = booking.channel is Channel.OFFICE
    return {
        "subject": subject,
        "first_name": personal.first_name,
        "last_name": personal.last_name,
        "date": format_local_date(booking.start, language),
        "start_time": format_local_time(booking.start, language),
        "end_time": format_local_time(booking.end, language),
        "channel": booking.channel.value,
        "topic": name_in(topic.names, language, f"topic {topic.id}"),
        "office_name": name_in(counter.names, language, f"counter {counter.id}") if is_office else None,
        "office_address": (
            split_address("counter address", name_in(counter.address, language, f"counter {counter.id}"))
            if is_office
            else []
        ),
        "reference": booking.reference,
        "join_url": links.join_url if booking.channel is Channel.VIDEO else None,
        "manage_url": links.manage_url,
        "terms_url": links.terms_url,
        "booking_url": links.booking_url,
        "status_reason": booking.status_reason,
    }


def name_in(names: dict[str, str], language: str, owner: str) -> str:
    """Return the text of a topic or counter in `language`, or raise ValueError if it has none."""
    name = names.get(language)
    if not name:
        raise ValueError(f"{owner} has no text in language {language!r}")
    return name


def _check_url(field: str, url: str) -> None:
    require_single_line(field, url)
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or " " in url:
        raise ValueError(f"{field} must be an absolute http or https URL without spaces")
