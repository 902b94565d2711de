"""Queue triggers of the provisioning queue: the meeting and the mails after a booking event.

Message contract (JSON, one booking event per message):

    {"reference": "VL7K3M9Q2X4B", "event": "booked", "attempt": 1}

- reference: the booking reference (required).
- event: what happened; "booked" when omitted. The service also handles "rescheduled",
  "cancelled", and mail events such as "reminder" (see shared/services/provisioning.py).
- attempt: 1 for the first delivery. After a failed step the service puts the message back with
  attempt + 1 and a delay. It gives up after PROVISIONING_MAX_ATTEMPTS.
- sequence (optional): the booking's sequence at the event; an older one is skipped.
Other fields are kept when the message is put back. ProvisioningRequest validates the message.

The runtime's own retries (host.json maxDequeueCount, then the poison queue) remain for crashes
and storage outages: a message that ends in the poison queue marks its booking
provisioning_failed, with the same error log event as a step that failed for good.
"""

from __future__ import annotations

import logging

import azure.functions as func

from functions import dependencies

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@bp.function_name("provision_booking")
@bp.queue_trigger(arg_name="message", queue_name="%PROVISIONING_QUEUE%", connection="AzureWebJobsStorage")
async def provision_booking(message: func.QueueMessage) -> None:
    request = _parse(message)
    if request is not None:
        await dependencies.provisioning_service().handle(request)


@bp.function_name("provision_booking_poison")
@bp.queue_trigger(arg_name="message", queue_name="%PROVISIONING_QUEUE%-poison", connection="AzureWebJobsStorage")
def provision_booking_poison(message: func.QueueMessage) -> None:
    request = _parse(message)
    if request is not None:
        dependencies.provisioning_service().give_up(request, "the message reached the poison queue after the runtime's retries")


def _parse(message: func.QueueMessage):
    from pydantic import ValidationError

    from shared.services.provisioning import ProvisioningRequest

    try:
        return ProvisioningRequest.parse(message.get_body())
    except ValidationError as error:
        # The body may hold a reference but no personal data; only the field errors are logged.
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors())
        logger.error("dropped the invalid provisioning message %s: %s", message.id, problems)
        return None
