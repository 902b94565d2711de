"""Run timer triggers on their NCRONTAB schedules (six fields, seconds first, in UTC)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from azure.functions.timer import TimerRequest
from croniter import croniter

from tools.localhost.catalog import TimerFunction
from tools.localhost.invoker import Invoker

logger = logging.getLogger(__name__)

# A tick that starts later than this after its scheduled time is reported as past due. The runtime
# does not document its own margin; this one only has to exceed the host's wake-up jitter.
PAST_DUE_TOLERANCE = timedelta(seconds=5)
NCRONTAB_FIELDS = 6


def validate_schedule(schedule: str) -> None:
    """Raise ValueError unless `schedule` is a six-field NCRONTAB expression."""
    if len(schedule.split()) != NCRONTAB_FIELDS or not croniter.is_valid(schedule, second_at_beginning=True):
        raise ValueError(f"invalid schedule {schedule!r}: expected six NCRONTAB fields "
                         "'second minute hour day month day-of-week', for example '0 */5 * * * *'")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class TimerScheduler:
    """Fire one timer function on its schedule in its own thread; a run never overlaps the previous one."""

    def __init__(self, function: TimerFunction, invoker: Invoker, stop_event: threading.Event,
                 now: Callable[[], datetime] = _utc_now) -> None:
        validate_schedule(function.schedule)
        self.function = function
        self._invoker = invoker
        self._stop = stop_event
        self._now = now
        self._thread = threading.Thread(target=self._run_schedule, name=f"timer-{function.name}", daemon=True)
        self._last_run: datetime | None = None

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread.ident is None:
            return  # never started, because the host failed during start-up
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning("Timer %s is still running after %.0f s; leaving it", self.function.name, timeout)

    def _next_after(self, moment: datetime) -> datetime:
        return croniter(self.function.schedule, moment, second_at_beginning=True).get_next(datetime)

    def _latest_at_or_before(self, moment: datetime) -> datetime:
        return croniter(self.function.schedule, moment + timedelta(microseconds=1),
                        second_at_beginning=True).get_prev(datetime)

    def _run_schedule(self) -> None:
        due = self._next_after(self._now())
        if self.function.run_on_startup:
            self._fire(scheduled=None, next_due=due)

        while True:
            delay = (due - self._now()).total_seconds()
            if self._stop.wait(max(delay, 0.0)):
                return
            following = self._next_after(due)
            self._fire(scheduled=due, next_due=following)

            # Ticks missed while the run lasted collapse into one late run, as in the Functions runtime.
            now = self._now()
            due = following if following > now else self._latest_at_or_before(now)

    def _fire(self, scheduled: datetime | None, next_due: datetime) -> None:
        started = self._now()
        past_due = scheduled is not None and started - scheduled > PAST_DUE_TOLERANCE
        status = {
            "Last": (self._last_run or started).isoformat(),
            "Next": next_due.isoformat(),
            "LastUpdated": started.isoformat(),
        }
        request = TimerRequest(past_due=past_due, schedule_status=status, schedule={"AdjustForDST": False})
        reason = "Timer fired at %s%s" % (started.isoformat(), " (past due)" if past_due else "")
        if scheduled is None:
            reason = "Run on startup"
        try:
            self._invoker.invoke(self.function.name, self.function.user_function, self.function.arg_name,
                                 request, reason=reason)
        except Exception:
            pass  # the invoker has logged the traceback; like the runtime, the next tick runs as scheduled
        self._last_run = started
