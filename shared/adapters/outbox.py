"""A Mailer for local development: writes each mail as an .eml file instead of sending it."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import tempfile
from datetime import datetime, timezone
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path

from shared.mail.checks import require_single_line
from shared.ports import Attachment, OutgoingMail

logger = logging.getLogger(__name__)

DEFAULT_SENDER = "videoloket@hvw.be"
STAND_IN_HEADER = "X-Development-Stand-In"
STAND_IN_VALUE = "local outbox, this mail was not sent"

_UNSAFE_FILENAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


def outbox_filename(dedup_key: str) -> str:
    """Return the .eml file name of a mail, derived from its dedup key only.

    Characters outside [A-Za-z0-9._-] become "_". A hash of the whole key follows, so two keys
    that differ only in replaced characters still get two files.
    """
    readable = _UNSAFE_FILENAME_CHARACTERS.sub("_", dedup_key)[:80].strip("._") or "mail"
    digest = hashlib.sha256(dedup_key.encode("utf-8")).hexdigest()[:16]
    return f"{readable}-{digest}.eml"


class OutboxMailer:
    """Write each mail as an RFC 5322 message file under `directory`, once per dedup key.

    A second send with the same dedup key changes nothing. Files are written to a temporary
    name and renamed, so a reader never sees half a message. Every message has the header
    X-Development-Stand-In, which marks it as never sent.
    """

    def __init__(self, directory: Path, sender: str = DEFAULT_SENDER) -> None:
        self.directory = Path(directory)
        self.sender = require_single_line("sender", sender)

    async def send(self, mail: OutgoingMail) -> None:
        await asyncio.to_thread(self.write, mail)

    def write(self, mail: OutgoingMail) -> Path:
        """Write `mail` unless its file exists, and return the file's path."""
        path = self.directory / outbox_filename(mail.dedup_key)
        if path.exists():
            logger.info("Outbox file %s exists, so the mail is not written again", path.name)
            return path

        content = build_message(mail, self.sender).as_bytes(policy=SMTP)
        self.directory.mkdir(parents=True, exist_ok=True)
        file_descriptor, temporary_name = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(file_descriptor, "wb") as temporary_file:
                temporary_file.write(content)
            os.replace(temporary_name, path)
        except BaseException:
            Path(temporary_name).unlink(missing_ok=True)
            raise
        logger.info("Outbox wrote %s", path.name)
        return path


def build_message(mail: OutgoingMail, sender: str, now: datetime | None = None) -> EmailMessage:
    """Build a multipart/mixed message: text and HTML as multipart/alternative, then the attachments.

    A line break in the sender, recipient or subject raises ValueError.
    """
    message = EmailMessage(policy=SMTP)
    message["From"] = require_single_line("sender", sender)
    message["To"] = require_single_line("to", mail.to)
    message["Subject"] = require_single_line("subject", mail.subject)
    message["Date"] = format_datetime(now or datetime.now(timezone.utc))
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message[STAND_IN_HEADER] = STAND_IN_VALUE

    message.set_content(mail.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(mail.html, subtype="html", charset="utf-8", cte="quoted-printable")
    for attachment in mail.attachments:
        _attach(message, attachment)
    return message


def _attach(message: EmailMessage, attachment: Attachment) -> None:
    filename = require_single_line("attachment filename", attachment.filename)
    content_type = SMTP.header_factory("Content-Type", require_single_line("content type", attachment.content_type))
    parameters = dict(content_type.params)

    if content_type.maintype != "text":
        message.add_attachment(
            attachment.content,
            maintype=content_type.maintype,
            subtype=content_type.subtype,
            filename=filename,
            params=parameters,
        )
        return

    charset = parameters.pop("charset", "utf-8")
    message.add_attachment(
        attachment.content.decode(charset),
        subtype=content_type.subtype,
        charset=charset,
        cte="quoted-printable",
        filename=filename,
        params=parameters,
    )
