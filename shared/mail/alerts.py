"""Compose internal mails to an agency team about a booking. They never contain the citizen's personal data."""

from __future__ import annotations

from typing import Any

from shared.domain.lifecycle import Outcome, Reason
from shared.domain.model import Booking, Counter, Topic
from shared.i18n import N_, check_language, format_local_date, format_local_time, translate
from shared.mail.checks import require_single_line
from shared.mail.compose import MailKind, check_counter_and_topic, name_in
from shared.mail.render import render_body
from shared.ports import OutgoingMail

# Alerts go to a team address, so they are kept apart from MAIL_KINDS, whose mails go to the citizen.
# Their subject takes {reason}, {reference}, {counter}, {date} and {time}. They carry no invitation.
ALERT_KINDS = {
    "agency_alert_agent_late": MailKind(
        template="agency_alert_agent_late",
        subject=N_("{reason}: reschedule appointment {reference} ({counter}, {date} at {time})"),
        method=None,
        needs_join_url=False,
    ),
}

# The status_reason values that leave a booking to be rescheduled by the agency, with their labels.
RESCHEDULE_REASONS = {
    Reason.AGENT_LATE.value: N_("Call not started on time"),
    Outcome.TECHNICAL_PROBLEM.value: N_("Technical problem"),
}


def compose_alert(
    kind: str,
    booking: Booking,
    counter: Counter,
    topic: Topic,
    *,
    to: str,
    language: str | None = None,
) -> OutgoingMail:
    """Compose the alert of `kind` (a key of ALERT_KINDS) about `booking` for the team mailbox `to`.

    The alert is in `language`, or in the booking's language when it is None. It names the booking
    reference, counter, time, topic and reason, and nothing of the citizen: agents look the booking
    up in the agenda. The dedup key is "<reference>:<kind>:<sequence>".
    Raises ValueError for an unknown kind, a booking whose status_reason is not agent_late or
    technical_problem, a counter or topic that is not the booking's, and an invalid `to`.
    """
    alert_kind = ALERT_KINDS.get(kind)
    if alert_kind is None:
        raise ValueError(f"unknown alert kind {kind!r}: expected one of {', '.join(ALERT_KINDS)}")
    reason_label = RESCHEDULE_REASONS.get(booking.status_reason or "")
    if reason_label is None:
        raise ValueError(
            f"booking {booking.reference} has status_reason {booking.status_reason!r}: "
            f"expected one of {', '.join(RESCHEDULE_REASONS)}"
        )
    check_counter_and_topic(booking, counter, topic)
    _check_team_address(to)

    code = check_language(language if language is not None else booking.language)
    context = _alert_context(booking, counter, topic, code, translate(reason_label, code))
    subject = translate(
        alert_kind.subject,
        code,
        reason=context["reason_label"],
        reference=booking.reference,
        counter=context["counter"],
        date=context["date"],
        time=context["start_time"],
    )
    context["subject"] = subject
    body = render_body(alert_kind.template, code, context)

    return OutgoingMail(
        to=to,
        subject=require_single_line("subject", subject),
        text=body.text,
        html=body.html,
        dedup_key=f"{booking.reference}:{kind}:{booking.sequence}",
    )


def compose_agent_late_alert(
    booking: Booking,
    counter: Counter,
    topic: Topic,
    *,
    to: str,
    language: str | None = None,
) -> OutgoingMail:
    """Compose the alert that the team must contact the citizen to reschedule `booking`."""
    return compose_alert("agency_alert_agent_late", booking, counter, topic, to=to, language=language)


def _check_team_address(to: str) -> None:
    require_single_line("to", to)
    if to.count("@") != 1 or any(character in to for character in ' <>",;'):
        raise ValueError("to is not a plain e-mail address")


def _alert_context(
    booking: Booking, counter: Counter, topic: Topic, language: str, reason_label: str
) -> dict[str, Any]:
    # Only booking facts and never booking.personal. StrictUndefined makes a template that uses a name fail.
    return {
        "reference": booking.reference,
        "counter": require_single_line("counter name", name_in(counter.names, language, f"counter {counter.id}")),
        "date": format_local_date(booking.start, language),
        "start_time": format_local_time(booking.start, language),
        "end_time": format_local_time(booking.end, language),
        "channel": booking.channel.value,
        "topic": name_in(topic.names, language, f"topic {topic.id}"),
        "reason": booking.status_reason,
        "reason_label": reason_label,
    }
