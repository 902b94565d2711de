"""The mail log in Table Storage (Azurite): each mail goes out at most once per dedup key."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from functions import dependencies
from shared.adapters.mail_log import ClaimResult, MailLog, MailState, RecordedMailer
from shared.adapters.storage import ensure_table
from shared.services.provisioning import MailInProgress, MailOutcomeUnknown, StepFailed
from shared.ports import OutgoingMail
from tests.api import SettableClock


class FakeSender:
    """A Mailer that counts sends and raises the given exceptions first."""

    def __init__(self, failures: list[BaseException] | None = None, delay: float = 0.0) -> None:
        self.sent: list[str] = []
        self._failures = list(failures or [])
        self._delay = delay

    async def send(self, mail: OutgoingMail) -> None:
        await asyncio.sleep(self._delay)
        if self._failures:
            raise self._failures.pop(0)
        self.sent.append(mail.dedup_key)


@pytest.fixture
def clock():
    return SettableClock(datetime(2027, 3, 22, 8, 0, tzinfo=timezone.utc))


@pytest.fixture
def table(app_settings):
    dependencies.reset()
    return ensure_table(dependencies.table_service(), f"{app_settings.table_prefix}maillog")


@pytest.fixture
def log(table, clock):
    return MailLog(table, clock)


def mail(key: str = "VL0000000001:confirmation:0") -> OutgoingMail:
    return OutgoingMail(to="jan.peeters@example.be", subject="Bevestiging", text="t", html="<p>h</p>", dedup_key=key)


def test_second_claim_sees_in_progress(log):
    first = log.claim("k1")
    second = log.claim("k1")

    assert first.result is ClaimResult.CLAIMED
    assert second.result is ClaimResult.IN_PROGRESS


def test_sent_mail_is_not_claimed_again(log):
    log.claim("k1")
    log.mark_sent("k1")

    assert log.claim("k1").result is ClaimResult.ALREADY_SENT
    assert log.get("k1").state is MailState.SENT


def test_failed_mail_can_be_claimed_again(log):
    claim = log.claim("k1")
    log.mark_failed("k1", claim.etag, "GraphError: 503")

    again = log.claim("k1")

    assert again.result is ClaimResult.CLAIMED
    assert log.get("k1").attempts == 2


def test_unknown_mail_is_never_claimed_again(log):
    claim = log.claim("k1")
    log.mark_unknown("k1", claim.etag, "timed out")

    assert log.claim("k1").result is ClaimResult.UNKNOWN
    assert log.get("k1").last_error == "timed out"


def test_expired_claim_turns_unknown(log, clock):
    log.claim("k1")
    clock.advance(minutes=11)

    assert log.claim("k1").result is ClaimResult.UNKNOWN
    assert log.get("k1").state is MailState.UNKNOWN


def test_claim_within_the_lease_stays_in_progress(log, clock):
    log.claim("k1")
    clock.advance(minutes=9)

    assert log.claim("k1").result is ClaimResult.IN_PROGRESS


@pytest.mark.parametrize("key", ["a/b", "a#b", "a?b", "a\\b", "a\nb", ""])
def test_keys_table_storage_rejects_are_refused(log, key):
    with pytest.raises(ValueError, match="dedup key"):
        log.claim(key)


def test_recorded_mailer_sends_once_however_often_asked(log):
    sender = FakeSender()
    mailer = RecordedMailer(log, sender)

    async def three_times():
        for _ in range(3):
            await mailer.send(mail())

    asyncio.run(three_times())

    assert sender.sent == ["VL0000000001:confirmation:0"]


def test_recorded_mailer_concurrent_sends_go_out_once(log):
    sender = FakeSender(delay=0.05)
    mailer = RecordedMailer(log, sender)

    async def ten_at_once():
        return await asyncio.gather(*(mailer.send(mail()) for _ in range(10)), return_exceptions=True)

    results = asyncio.run(ten_at_once())

    assert sender.sent == ["VL0000000001:confirmation:0"]
    assert all(result is None or isinstance(result, MailInProgress) for result in results)
    assert all(isinstance(result, StepFailed) for result in results if result is not None)


def test_definite_failure_releases_claim(log):
    sender = FakeSender(failures=[StepFailed("HTTP 503")])
    mailer = RecordedMailer(log, sender)

    with pytest.raises(StepFailed):
        asyncio.run(mailer.send(mail()))
    asyncio.run(mailer.send(mail()))

    assert sender.sent == ["VL0000000001:confirmation:0"]
    assert log.get("VL0000000001:confirmation:0").state is MailState.SENT


def test_recorded_mailer_keeps_an_ambiguous_claim(log):
    sender = FakeSender(failures=[MailOutcomeUnknown("timed out")])
    mailer = RecordedMailer(log, sender)

    with pytest.raises(MailOutcomeUnknown):
        asyncio.run(mailer.send(mail()))
    with pytest.raises(MailOutcomeUnknown):
        asyncio.run(mailer.send(mail()))

    assert sender.sent == []
    assert log.get("VL0000000001:confirmation:0").state is MailState.UNKNOWN


def test_recorded_mailer_treats_cancellation_as_ambiguous(log):
    sender = FakeSender(delay=5)
    mailer = RecordedMailer(log, sender)

    async def cancelled_while_sending():
        task = asyncio.ensure_future(mailer.send(mail()))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancelled_while_sending())

    assert log.get("VL0000000001:confirmation:0").state is MailState.UNKNOWN


def test_operator_can_release_an_unknown_mail(log, table):
    claim = log.claim("k1")
    log.mark_unknown("k1", claim.etag, "timed out")
    row = table.get_entity("k1", "mail")

    # The change docs/graph-admin.md describes for operators after checking Sent Items.
    row["State"] = "failed"
    table.update_entity(row)

    assert log.claim("k1").result is ClaimResult.CLAIMED

