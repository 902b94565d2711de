"""The record of sent mails in Table Storage, so each mail goes out at most once per dedup key.

A worker claims a mail with a conditional insert before it sends, so of two workers with the
same mail only one sends it. One row per mail: PartitionKey is the dedup key, RowKey "mail".
The row holds ids, states and times only, never the recipient or the content.

State of a row:
  sending  claimed by a worker that is sending the mail now
  sent     the mailer accepted the mail
  failed   the last attempt failed definitely (such as 429, 503 or 400), so the next one may send
  unknown  the last attempt ended without a definite answer (such as a timeout), so the mail may
           have gone out; it is never resent automatically. An operator checks the mailbox's Sent
           Items and sets the state to "sent", or to "failed" to let the next attempt send it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shared.ports import Clock, Mailer, OutgoingMail
from shared.services.provisioning import MAIL_OUTCOME_UNKNOWN, MailInProgress, MailOutcomeUnknown

logger = logging.getLogger(__name__)

ROW_KEY = "mail"
# A claim older than this belongs to a worker that stopped without recording the outcome. It is
# far longer than one send (the Graph timeout is at most 300 s) and shorter than the first retry.
CLAIM_LEASE = timedelta(minutes=10)
# Table Storage rejects these characters in keys, and keys longer than 1 KiB.
_INVALID_KEY_CHARACTERS = re.compile(r"[/\\#?\x00-\x1f\x7f-\x9f]")
_MAX_KEY_LENGTH = 512
_MAX_ERROR_LENGTH = 500


class MailState(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"


class ClaimResult(StrEnum):
    CLAIMED = "claimed"  # this worker may send now
    ALREADY_SENT = "already_sent"
    IN_PROGRESS = "in_progress"  # another worker has the claim
    UNKNOWN = "unknown"  # the mail may have gone out; do not send


@dataclass(frozen=True)
class Claim:
    result: ClaimResult
    etag: str | None = None


@dataclass(frozen=True)
class MailRecord:
    dedup_key: str
    state: MailState
    attempts: int
    claimed_at: datetime | None
    last_error: str | None


class MailLog:
    def __init__(self, table, clock: Clock, lease: timedelta = CLAIM_LEASE) -> None:
        self._table = table
        self._clock = clock
        self._lease = lease

    def claim(self, dedup_key: str) -> Claim:
        """Claim the mail for sending, unless it was sent, may have been sent, or is being sent."""
        from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

        _check_key(dedup_key)
        now = self._clock.now()
        try:
            metadata = self._table.create_entity(
                {"PartitionKey": dedup_key, "RowKey": ROW_KEY, "State": MailState.SENDING.value,
                 "ClaimedAt": now, "Attempts": 1}
            )
            return Claim(ClaimResult.CLAIMED, metadata["etag"])
        except ResourceExistsError:
            pass

        try:
            row = self._table.get_entity(dedup_key, ROW_KEY)
        except ResourceNotFoundError:
            return Claim(ClaimResult.IN_PROGRESS)  # deleted by an operator in between; the next attempt claims it
        state = MailState(row["State"])
        if state is MailState.SENT:
            return Claim(ClaimResult.ALREADY_SENT)
        if state is MailState.UNKNOWN:
            return Claim(ClaimResult.UNKNOWN)
        if state is MailState.SENDING:
            if now - row["ClaimedAt"] < self._lease:
                return Claim(ClaimResult.IN_PROGRESS)
            reason = "the worker that claimed it stopped without recording the outcome"
            if self._replace(row, {"State": MailState.UNKNOWN.value, "LastError": reason}) is None:
                return Claim(ClaimResult.IN_PROGRESS)
            _log_unknown(dedup_key, reason)
            return Claim(ClaimResult.UNKNOWN)
        # FAILED: the last attempt definitely did not send it.
        etag = self._replace(
            row, {"State": MailState.SENDING.value, "ClaimedAt": now, "Attempts": row.get("Attempts", 0) + 1}
        )
        return Claim(ClaimResult.CLAIMED, etag) if etag else Claim(ClaimResult.IN_PROGRESS)

    def mark_sent(self, dedup_key: str) -> None:
        """Record the mail as sent. Unconditional: a send that succeeded settles every other state."""
        from azure.data.tables import UpdateMode

        self._table.upsert_entity(
            {"PartitionKey": dedup_key, "RowKey": ROW_KEY, "State": MailState.SENT.value,
             "SentAt": self._clock.now(), "LastError": ""},
            mode=UpdateMode.MERGE,
        )

    def mark_failed(self, dedup_key: str, etag: str, error: str) -> None:
        """Release this worker's claim after a definite failure, so a later attempt may send."""
        self._update(dedup_key, etag, {"State": MailState.FAILED.value, "LastError": error[:_MAX_ERROR_LENGTH]})

    def mark_unknown(self, dedup_key: str, etag: str, error: str) -> None:
        """Keep this worker's claim as "unknown": the mail may have been sent."""
        self._update(dedup_key, etag, {"State": MailState.UNKNOWN.value, "LastError": error[:_MAX_ERROR_LENGTH]})

    def get(self, dedup_key: str) -> MailRecord | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            row = self._table.get_entity(dedup_key, ROW_KEY)
        except ResourceNotFoundError:
            return None
        return MailRecord(
            dedup_key=row["PartitionKey"],
            state=MailState(row["State"]),
            attempts=row.get("Attempts", 0),
            claimed_at=row.get("ClaimedAt"),
            last_error=row.get("LastError") or None,
        )

    def _update(self, dedup_key: str, etag: str, fields: dict) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError
        from azure.data.tables import UpdateMode

        try:
            self._table.update_entity(
                {"PartitionKey": dedup_key, "RowKey": ROW_KEY, **fields},
                mode=UpdateMode.MERGE, etag=etag, match_condition=MatchConditions.IfNotModified,
            )
        except ResourceModifiedError:
            # Another worker took the row over after this claim's lease ran out; its state stays.
            logger.warning("mail log row %s changed since it was claimed; left as it is", dedup_key)

    def _replace(self, row, fields: dict) -> str | None:
        """Update `row` if it is unchanged since it was read; return the new ETag, or None."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError
        from azure.data.tables import UpdateMode

        try:
            metadata = self._table.update_entity(
                {"PartitionKey": row["PartitionKey"], "RowKey": ROW_KEY, **fields},
                mode=UpdateMode.MERGE, etag=row.metadata["etag"], match_condition=MatchConditions.IfNotModified,
            )
        except ResourceModifiedError:
            return None
        return metadata["etag"]


class RecordedMailer:
    """A Mailer that claims each mail in the MailLog before another Mailer sends it.

    Raises MailInProgress (a StepFailed, so it is retried later) while another worker sends the
    same mail, and MailOutcomeUnknown when the mail may have been sent. A mail sent before is not
    sent again, and that is not an error.
    """

    def __init__(self, log: MailLog, sender: Mailer) -> None:
        self._log = log
        self._sender = sender

    async def send(self, mail: OutgoingMail) -> None:
        key = mail.dedup_key
        claim = self._log.claim(key)
        if claim.result is ClaimResult.ALREADY_SENT:
            logger.info("mail %s was sent before; not sent again", key, extra={"dedup_key": key})
            return
        if claim.result is ClaimResult.UNKNOWN:
            logger.warning("mail %s may have been sent before; not sent again until an operator resolves it",
                           key, extra={"dedup_key": key})
            raise MailOutcomeUnknown(f"mail {key} may have been sent before")
        if claim.result is ClaimResult.IN_PROGRESS:
            raise MailInProgress(f"mail {key} is being sent by another worker")

        try:
            await self._sender.send(mail)
        except (MailOutcomeUnknown, asyncio.CancelledError) as error:
            reason = str(error) or "the send was cancelled before an answer came"
            self._log.mark_unknown(key, claim.etag, reason)
            _log_unknown(key, reason)
            raise
        except Exception as error:
            self._log.mark_failed(key, claim.etag, f"{type(error).__name__}: {error}")
            raise
        self._log.mark_sent(key)


def _log_unknown(dedup_key: str, reason: str) -> None:
    logger.error(
        "mail_outcome_unknown: mail %s may or may not have been sent (%s); check the Sent Items and "
        "set its mail log state to sent or failed",
        dedup_key, reason, extra={"event": MAIL_OUTCOME_UNKNOWN, "dedup_key": dedup_key},
    )


def _check_key(dedup_key: str) -> None:
    if not dedup_key or len(dedup_key) > _MAX_KEY_LENGTH or _INVALID_KEY_CHARACTERS.search(dedup_key):
        raise ValueError(
            f"dedup key {dedup_key!r} cannot be a Table Storage key: use 1 to {_MAX_KEY_LENGTH} characters "
            "without / \\ # ? or control characters"
        )
