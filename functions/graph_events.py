"""Microsoft Graph call events of Teams appointments: the notification webhook, the queue trigger that
turns notifications into presence signals, and the timer that keeps the subscriptions and reads
attendance reports. Everything is off unless GRAPH_CALL_EVENTS=true (attendance: GRAPH_ATTENDANCE_RECONCILIATION).

The webhook only checks clientState and queues each accepted item, because Graph expects a 2xx
response within 3 seconds, or it retries and then throttles the endpoint. docs/graph-call-events.md describes the setup.
"""

from __future__ import annotations

import logging

import azure.functions as func

from functions import dependencies

logger = logging.getLogger(__name__)

bp = func.Blueprint()

_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
# Graph's validation tokens are far shorter, so a longer one is not from Graph.
MAX_VALIDATION_TOKEN_LENGTH = 4096


def _text(status: int, text: str = "") -> func.HttpResponse:
    return func.HttpResponse(text, status_code=status, mimetype="text/plain", charset="utf-8", headers=_HEADERS)


@bp.function_name("receive_graph_notification")
@bp.route(route="graph/notifications", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def receive_graph_notification(req: func.HttpRequest) -> func.HttpResponse:
    """Echo Graph's validation token, or queue the notification items whose clientState is ours (202)."""
    settings = dependencies.get_settings()
    if not settings.graph_call_events:
        return _text(404, "Graph call events are off; set GRAPH_CALL_EVENTS=true to receive them")

    token = req.params.get("validationToken")
    if token is not None:
        # Graph creates a subscription only after this echo, which it expects within 10 seconds.
        if len(token) > MAX_VALIDATION_TOKEN_LENGTH:
            return _text(400, f"validationToken is longer than {MAX_VALIDATION_TOKEN_LENGTH} characters")
        return _text(200, token)

    if not settings.graph_notification_client_state:
        logger.error("a Graph notification arrived, but GRAPH_NOTIFICATION_CLIENT_STATE is not set")
        return _text(503, "the notification endpoint is not configured")
    from shared.services.call_events import InvalidNotificationBody, accept_notifications

    try:
        accepted, rejected = accept_notifications(
            req.get_body() or b"", settings.graph_notification_client_state.get_secret_value()
        )
    except InvalidNotificationBody as error:
        logger.warning("rejected a Graph notification: %s", error)
        return _text(400, f"invalid notification: {error}; expected a JSON object with a `value` list")
    if rejected:
        # Not from our subscriptions: a forgery, or a subscription made with another secret.
        logger.warning("dropped %d notification items whose clientState differs", rejected)
    return _queue(accepted)


def _queue(items: list[dict]) -> func.HttpResponse:
    from azure.core.exceptions import AzureError

    received_at = dependencies.clock().now()
    queue = dependencies.notification_queue()
    try:
        for item in items:
            if not queue.send(item, received_at):
                logger.error("dropped a notification of subscription %s: too large for a queue message",
                             item.get("subscriptionId"))
    except AzureError:
        # Graph delivers again after an error response.
        logger.exception("could not queue %d Graph notification items", len(items))
        return _text(503, "the notification could not be stored; deliver it again later")
    return _text(202)


@bp.function_name("process_graph_event")
@bp.queue_trigger(arg_name="message", queue_name="%GRAPH_EVENTS_QUEUE%", connection="AzureWebJobsStorage")
async def process_graph_event(message: func.QueueMessage) -> None:
    """Record the presence signals of one queued notification item, or handle a lifecycle notification."""
    if not dependencies.get_settings().graph_call_events:
        logger.info("dropped the Graph notification message %s: GRAPH_CALL_EVENTS is off", message.id)
        return
    from shared.adapters.graph.subscriptions import InvalidNotification

    try:
        notification = dependencies.notification_reader().read(message.get_body())
    except InvalidNotification as error:
        # Another delivery would fail the same way, so the message is dropped rather than retried.
        logger.error("dropped the Graph notification message %s: %s", message.id, error)
        return
    await dependencies.call_event_service().handle(notification)


@bp.function_name("manage_call_event_subscriptions")
@bp.timer_trigger(arg_name="timer", schedule="%GRAPH_SUBSCRIPTIONS_SCHEDULE%", run_on_startup=False, use_monitor=True)
async def manage_call_event_subscriptions(timer: func.TimerRequest) -> None:
    """Subscribe to the call events of upcoming appointments, renew and delete subscriptions, and store
    the attendance of ended appointments. Each part is idempotent, and a failed one is logged and retried next run."""
    settings = dependencies.get_settings()
    if settings.graph_call_events:
        try:
            report = await dependencies.subscription_manager().run()
        except Exception:  # such as a missing setting, which the message names; the attendance part still runs
            logger.exception("managing the call event subscriptions failed")
        else:
            logger.info(
                "call event subscriptions: %d created, %d renewed, %d deleted, %d failed",
                len(report.created), len(report.renewed), len(report.deleted), len(report.failed),
                extra={"changed": len(report.created) + len(report.renewed) + len(report.deleted)},
            )
    if settings.graph_attendance_reconciliation:
        try:
            attendance = await dependencies.attendance_reconciler().run()
        except Exception:
            logger.exception("reading the attendance reports failed")
        else:
            logger.info(
                "attendance reports: %d stored, %d without records, %d failed",
                len(attendance.stored), len(attendance.empty), len(attendance.failed),
                extra={"changed": len(attendance.stored)},
            )
