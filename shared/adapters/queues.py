"""Storage queue messages that ask for work to be done later."""

from __future__ import annotations

import json
import logging

logger = logging.getLogger(__name__)


class ProvisioningRequests:
    """Puts one message per booking event on the provisioning queue."""

    def __init__(self, queue_client) -> None:
        self._queue = queue_client
        self._checked = False

    def request_provisioning(self, reference: str) -> None:
        self.send({"reference": reference, "event": "booked"})

    def notify(self, reference: str, event: str, sequence: int) -> None:
        """Ask for the mail (and meeting change) that follows a booking event such as "cancelled"."""
        self.send({"reference": reference, "event": event, "sequence": sequence})

    def send(self, message: dict, delay_seconds: int | None = None) -> None:
        from azure.core.exceptions import ResourceExistsError

        if not self._checked:
            try:
                self._queue.create_queue()
            except ResourceExistsError:
                pass
            self._checked = True
        self._queue.send_message(json.dumps(message), visibility_timeout=delay_seconds)
