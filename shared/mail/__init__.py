"""Booking mails: translated text and HTML parts, subjects and iCalendar invitations."""

from shared.mail.alerts import ALERT_KINDS, compose_agent_late_alert, compose_alert
from shared.mail.compose import (
    MAIL_KINDS,
    MailKind,
    MailLinks,
    compose,
    compose_agent_late,
    compose_cancelled,
    compose_confirmation,
    compose_no_show,
    compose_reminder,
    compose_rescheduled,
)
from shared.mail.invite import build_invite, event_uid

__all__ = [
    "ALERT_KINDS",
    "MAIL_KINDS",
    "MailKind",
    "MailLinks",
    "build_invite",
    "compose",
    "compose_agent_late",
    "compose_agent_late_alert",
    "compose_alert",
    "compose_cancelled",
    "compose_confirmation",
    "compose_no_show",
    "compose_reminder",
    "compose_rescheduled",
    "event_uid",
]
