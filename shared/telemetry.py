"""Logging set-up: quiet Azure SDK loggers, and our logs to Application Insights when it is configured.

Custom dimensions: our modules log with a module logger and %-style arguments, and put ids and
outcomes in `extra`, for example

    logger.info("appointment %s %s", reference, event, extra={"reference": reference, "status": status})

Each `extra` key becomes a column of customDimensions in the Application Insights traces table.
Only the keys in ALLOWED_EXTRAS leave the process: AllowedExtrasFilter removes every other key, so
personal data passed in `extra` by mistake is never exported. Messages are exported as formatted,
so they must not contain personal data either.

Nothing here runs at import time, and azure.monitor.opentelemetry (a slow import) is imported only
when APPLICATIONINSIGHTS_CONNECTION_STRING is set.
"""

from __future__ import annotations

import logging
import os
import threading

logger = logging.getLogger(__name__)

# The top-level packages of this app; their loggers' records are exported.
APP_LOGGERS = ("shared", "functions")
# Loggers of the Azure SDK and HTTP clients, which log every request at INFO.
SDK_LOGGERS = (
    "azure",
    "azure.core.pipeline.policies.http_logging_policy",
    "azure.identity",
    "msal",
    "httpx",
    "urllib3",
)
# `extra` keys that carry ids, codes and counts, never personal data.
ALLOWED_EXTRAS = frozenset({
    "reference", "counter", "status", "reason", "outcome", "actor", "signal", "event", "due", "changed",
    "past_due", "attempt", "route", "function", "dedup_key", "event_name", "event_id", "receiver_host",
    "provisioning_event", "mail_kind",
})

# Attributes that every LogRecord has; anything else on a record came from `extra`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None))) | {
    "message", "asctime", "taskName",
}

_lock = threading.Lock()
_export_started = False


class AllowedExtrasFilter(logging.Filter):
    """Removes from each record every `extra` key that is not in ALLOWED_EXTRAS, and keeps the record.

    The keys are deleted from the record itself, so handlers that run after this one do not see them either.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        for key in [key for key in vars(record) if key not in _RECORD_ATTRIBUTES and key not in ALLOWED_EXTRAS]:
            delattr(record, key)
        return True


def configure_logging() -> bool:
    """Set the SDK loggers to WARNING and, once per process, start exporting our logs.

    Exporting starts when APPLICATIONINSIGHTS_CONNECTION_STRING is set; the app setting
    OTEL_LOGS_EXPORTER=none (read by azure-monitor-opentelemetry) keeps logs out while traces and
    metrics still go. Returns whether the export was configured. Safe to call on every request.
    """
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)

    connection_string = os.environ.get("APPLICATIONINSIGHTS_CONNECTION_STRING", "").strip()
    if not connection_string:
        return False

    global _export_started
    with _lock:
        if not _export_started:
            _export_started = True  # set first: a failed start is logged once, not on every call
            _start_export(connection_string)
    return True


def _start_export(connection_string: str) -> None:
    """Configure Azure Monitor with an export handler on our loggers, filtered by AllowedExtrasFilter."""
    first, *others = (logging.getLogger(name) for name in APP_LOGGERS)
    handlers_before = list(first.handlers)
    try:
        configure = _azure_monitor_configurer()
        configure(connection_string=connection_string, logger_name=first.name)
    except (ImportError, ValueError) as error:  # the package is missing, or the connection string is invalid
        logger.error("Application Insights export is off: configuring Azure Monitor failed: %s", error)
        return

    added = [handler for handler in first.handlers if handler not in handlers_before]
    if not added:  # OTEL_LOGS_EXPORTER=none turns off the log pipeline
        logger.warning("Azure Monitor added no log handler, so logs are not exported; traces and metrics are")
        return
    for handler in added:
        handler.addFilter(AllowedExtrasFilter())
        for other in others:
            other.addHandler(handler)
    for app_logger in (first, *others):
        if app_logger.level == logging.NOTSET:
            app_logger.setLevel(logging.INFO)  # whatever the root level is, INFO records reach the export
    logger.info("exporting logs of %s to Application Insights", ", ".join(APP_LOGGERS))


def _azure_monitor_configurer():
    """Import configure_azure_monitor; tests replace this function to avoid network calls."""
    from azure.monitor.opentelemetry import configure_azure_monitor

    return configure_azure_monitor
