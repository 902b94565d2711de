"""Queue trigger: delivers one webhook attempt per message.

Retries are new messages with a visibility delay, queued by the delivery itself, so the host's
own retry (maxDequeueCount in host.json, then the -poison queue) only covers a crash or a failed
queue send.
"""

from __future__ import annotations

import logging

import azure.functions as func

from functions import dependencies

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@bp.function_name("deliver_webhook")
@bp.queue_trigger(arg_name="message", queue_name="%WEBHOOK_QUEUE%", connection="AzureWebJobsStorage")
def deliver_webhook(message: func.QueueMessage) -> None:
    from shared.adapters.webhooks import Delivery

    try:
        delivery = Delivery.from_message(message.get_body())
    except ValueError as error:
        logger.error("dropped webhook message %s: %s", message.id, error)
        return
    dependencies.webhook_delivery().deliver(delivery)
