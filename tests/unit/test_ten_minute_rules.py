"""The 10-minute rules as pure functions: boundaries, precedence, settle delay, idempotency."""

from datetime import datetime, timedelta, timezone

from shared.domain.lifecycle import Signal, apply_ten_minute_rules, record_signal
from shared.domain.model import Booking, Channel, Language

START = datetime(2027, 3, 23, 8, 0, tzinfo=timezone.utc)


def booking(**changes) -> Booking:
    base = Booking(
        reference="VL0000000001", counter_id="video", channel=Channel.VIDEO, topic_id="payments",
        language=Language.DUTCH, start=START, end=START + timedelta(minutes=30), agent_id="a1", personal=None,
        terms_version="2026-01", created_at=START - timedelta(days=2), manage_token_hash="0" * 64,
    )
    return base.replace(**changes)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def test_client_seen_at_nine_fifty_nine_counts():
    seen = booking(agent_seen_at=at(1), client_seen_at=at(9 + 59 / 60))

    assert apply_ten_minute_rules(seen, at(10)) is None


def test_client_seen_at_ten_is_a_no_show():
    late = booking(agent_seen_at=at(1), client_seen_at=at(10))

    decision = apply_ten_minute_rules(late, at(10))

    assert decision.booking.status.value == "cancelled"
    assert decision.booking.status_reason == "no_show_client"


def test_nothing_is_decided_before_ten_minutes():
    assert apply_ten_minute_rules(booking(), at(9 + 59 / 60)) is None


def test_absent_agent_wins_over_absent_client():
    decision = apply_ten_minute_rules(booking(), at(10))

    assert decision.booking.status.value == "to_reschedule"
    assert decision.booking.status_reason == "agent_late"


def test_settle_delays_the_decision_not_the_deadline():
    settle = timedelta(seconds=90)
    absent_client = booking(agent_seen_at=at(1))
    seen_late_reported = booking(agent_seen_at=at(1), client_seen_at=at(9.5))

    assert apply_ten_minute_rules(absent_client, at(11), settle) is None
    assert apply_ten_minute_rules(absent_client, at(11.5), settle).booking.status_reason == "no_show_client"
    assert apply_ten_minute_rules(seen_late_reported, at(11.5), settle) is None


def test_office_appointments_are_not_judged():
    assert apply_ten_minute_rules(booking(channel=Channel.OFFICE), at(30)) is None


def test_decided_appointment_is_not_decided_again():
    decided = apply_ten_minute_rules(booking(), at(10)).booking

    assert apply_ten_minute_rules(decided, at(20)) is None


def test_earlier_signal_replaces_a_later_one():
    first = record_signal(booking(), Signal.GUEST_JOINED, at(5))

    again = record_signal(first, Signal.GUEST_JOINED, at(7))
    earlier = record_signal(first, Signal.GUEST_JOINED, at(2))

    assert again is None
    assert earlier.client_seen_at == at(2)


def test_signal_long_before_the_start_is_ignored():
    assert record_signal(booking(), Signal.CLIENT_OPENED_LINK, at(-61)) is None
    assert record_signal(booking(), Signal.CLIENT_OPENED_LINK, at(-59)).client_seen_at == at(-59)
