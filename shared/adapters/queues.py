"""Storage queue messages that ask for work to be done later."""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor

logger = logging.getLogger(__name__)

# A booked message stays invisible this long, so the queue trigger never reads it before the
# booking transaction that runs at the same time has committed.
BOOKED_MESSAGE_DELAY_SECONDS = 3

_SENDERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="queue-send")


class PendingMessage:
    """A queue message being sent in the background; keep it or take it back."""

    def __init__(self, queue_client, future: Future) -> None:
        self._queue = queue_client
        self._future = future

    def confirm(self) -> None:
        """Wait until the message is on the queue. Raises what the send raised."""
        self._future.result()

    def withdraw(self) -> None:
        """Delete the message: the booking it announced was not stored."""
        try:
            sent = self._future.result()
            self._queue.delete_message(sent.id, sent.pop_receipt)
        except Exception:  # an undeleted message finds no booking and is dropped by the trigger
            logger.warning("could not withdraw a provisioning message", exc_info=True)


class ProvisioningRequests:
    """Puts one message per booking event on the provisioning queue."""

    def __init__(self, queue_client) -> None:
        self._queue = queue_client
        self._checked = False

    def request_provisioning(self, reference: str) -> None:
        self.send({"reference": reference, "event": "booked"})

    def announce_booking(self, reference: str) -> PendingMessage:
        """Start sending the booked message while the booking is being stored, delayed so it is read
        only after the store. Saves one round trip on the booking's request path."""
        message = {"reference": reference, "event": "booked"}
        future = _SENDERS.submit(self.send, message, BOOKED_MESSAGE_DELAY_SECONDS)
        return PendingMessage(self._queue, future)

    def notify(self, reference: str, event: str, sequence: int) -> None:
        """Ask for the mail (and meeting change) that follows a booking event such as "cancelled"."""
        self.send({"reference": reference, "event": event, "sequence": sequence})

    def send(self, message: dict, delay_seconds: int | None = None):
        from azure.core.exceptions import ResourceExistsError

        if not self._checked:
            try:
                self._queue.create_queue()
            except ResourceExistsError:
                pass
            self._checked = True
        return self._queue.send_message(json.dumps(message), visibility_timeout=delay_seconds)
