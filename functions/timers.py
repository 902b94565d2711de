"""Timer triggers. Each run calls the same service functions as the HTTP endpoints."""

from __future__ import annotations

import logging

import azure.functions as func

from functions import dependencies

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@bp.function_name("enforce_rules")
@bp.timer_trigger(arg_name="timer", schedule="%RULES_SCHEDULE%", run_on_startup=False, use_monitor=True)
def enforce_rules(timer: func.TimerRequest) -> None:
    """Send due reminders and apply the 10-minute rules. A late run decides the same as a punctual one."""
    report = dependencies.lifecycle_service().sweep()
    logger.info(
        "rules sweep: %d due, %d changed%s", report.looked_at, len(report.changed), " (late run)" if timer.past_due else "",
        extra={"due": report.looked_at, "changed": len(report.changed), "past_due": timer.past_due},
    )


@bp.function_name("purge_personal_data")
@bp.timer_trigger(arg_name="timer", schedule="%PURGE_SCHEDULE%", run_on_startup=False, use_monitor=True)
def purge_personal_data(timer: func.TimerRequest) -> None:
    """Delete personal data past the retention period. Idempotent; logs counts only."""
    dependencies.retention_service().purge()
