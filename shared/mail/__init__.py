"""Booking mails: translated text and HTML parts, subjects and iCalendar invitations."""

from shared.mail.compose import (
    MAIL_KINDS,
    MailKind,
    MailLinks,
    compose,
    compose_cancelled,
    compose_confirmation,
    compose_reminder,
)
from shared.mail.invite import build_invite, event_uid

__all__ = [
    "MAIL_KINDS",
    "MailKind",
    "MailLinks",
    "build_invite",
    "compose",
    "compose_cancelled",
    "compose_confirmation",
    "compose_reminder",
    "event_uid",
]
