"""Queue trigger: provisions one booking (meeting, then mail) per message."""

from __future__ import annotations

import json
import logging

import azure.functions as func

from functions import dependencies

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@bp.function_name("provision_booking")
@bp.queue_trigger(arg_name="message", queue_name="%PROVISIONING_QUEUE%", connection="AzureWebJobsStorage")
async def provision_booking(message: func.QueueMessage) -> None:
    try:
        reference = json.loads(message.get_body())["reference"]
    except (ValueError, KeyError, TypeError):
        logger.error("dropped a malformed provisioning message %s", message.id)
        return
    await dependencies.provisioning_service().provision(reference)
