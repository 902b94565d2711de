"""Mails through Microsoft Graph: POST /users/{mailbox}/sendMail from the agency's shared mailbox."""

from __future__ import annotations

import asyncio
import base64
import logging
import weakref

from shared.adapters.graph.client import GraphApi
from shared.adapters.graph.errors import GraphConfigurationError, GraphError
from shared.ports import OutgoingMail
from shared.services.provisioning import MailOutcomeUnknown

logger = logging.getLogger(__name__)

# Graph takes file attachments inline in sendMail up to 3 MB; larger ones need an upload session.
MAX_INLINE_ATTACHMENT_BYTES = 3 * 1024 * 1024


class GraphMailer:
    """Sends an OutgoingMail as HTML with its attachments; Sent Items keeps a copy.

    A request that ends without a definite response (a timeout, a lost connection, HTTP 500, 502 or
    504) raises MailOutcomeUnknown, because Graph may have sent the mail. Other failures raise
    GraphError. At most `concurrency` sendMail requests per event loop are under way at once:
    Exchange allows 4 concurrent requests per app and mailbox and answers 429 beyond.
    """

    def __init__(self, api: GraphApi, mailbox: str | None, concurrency: int = 4) -> None:
        self._api = api
        self._mailbox = mailbox
        self._concurrency = concurrency
        self._limits: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    async def send(self, mail: OutgoingMail) -> None:
        mailbox = self._mailbox
        if not mailbox:
            raise GraphConfigurationError("sendMail", "GRAPH_MAILBOX is not set, so no mail can be sent")
        body = send_mail_body(mail)
        async with self._limit():
            try:
                await self._api.request(
                    "sendMail", "POST", lambda graph: graph.users.by_user_id(mailbox).send_mail, body
                )
            except GraphError as error:
                if error.ambiguous:
                    raise MailOutcomeUnknown(f"mail {mail.dedup_key}: {error}") from error
                raise
        logger.info("mail %s sent through Graph", mail.dedup_key, extra={"dedup_key": mail.dedup_key})

    def _limit(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        limit = self._limits.get(loop)
        if limit is None:
            limit = self._limits[loop] = asyncio.Semaphore(self._concurrency)
        return limit


def send_mail_body(mail: OutgoingMail) -> dict:
    """Build the JSON body of sendMail. Graph's JSON message takes one body, so the HTML part is sent.

    saveToSentItems is set explicitly: Graph's default is true, but the SDK's request body model
    defaults to false. Raises ValueError when the attachments exceed the inline limit.
    """
    size = sum(len(attachment.content) for attachment in mail.attachments)
    if size > MAX_INLINE_ATTACHMENT_BYTES:
        raise ValueError(
            f"mail {mail.dedup_key} has {size} bytes of attachments; sendMail takes at most "
            f"{MAX_INLINE_ATTACHMENT_BYTES} inline"
        )
    message = {
        "subject": mail.subject,
        "body": {"contentType": "HTML", "content": mail.html},
        "toRecipients": [{"emailAddress": {"address": mail.to}}],
    }
    if mail.attachments:
        message["attachments"] = [
            {
                "@odata.type": "#microsoft.graph.fileAttachment",
                "name": attachment.filename,
                "contentType": attachment.content_type,
                "contentBytes": base64.b64encode(attachment.content).decode("ascii"),
            }
            for attachment in mail.attachments
        ]
    return {"message": message, "saveToSentItems": True}
