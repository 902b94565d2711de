"""Runs the provisioning queue triggers on the messages in Azurite, the way the Functions host does.

The host deletes a message after its function returns, makes it visible again after a failure,
and moves it to "<queue>-poison" after maxDequeueCount failed deliveries. All functions of one
drain run on one event loop, as in the Python worker, so concurrent messages share one Graph client.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import dataclass, field

from azure.functions.queue import QueueMessage

from functions import dependencies
from shared.adapters.storage import queue_client
from tests.api import functions

MAX_DEQUEUE_COUNT = 5  # host.json extensions.queues.maxDequeueCount


@dataclass
class DrainReport:
    handled: list[dict] = field(default_factory=list)  # message bodies, in the order their function finished
    failures: list[tuple[dict, BaseException]] = field(default_factory=list)
    poisoned: list[dict] = field(default_factory=list)

    def attempts(self, reference: str, event: str = "booked") -> list[int]:
        return [m.get("attempt", 1) for m in self.handled
                if m["reference"] == reference and m.get("event", "booked") == event]


class QueueDriver:
    def __init__(self) -> None:
        settings = dependencies.get_settings()
        self._queue = queue_client(settings, settings.provisioning_queue)
        self._poison = queue_client(settings, settings.provisioning_queue + "-poison")
        for client in (self._queue, self._poison):
            try:
                client.create_queue()
            except Exception:  # exists already
                pass

    def put(self, message: dict) -> None:
        self._queue.send_message(json.dumps(message))

    def drain(self, timeout: float = 30.0, batch: int = 32) -> DrainReport:
        """Run the function on every message until the queue is empty, delayed messages included."""
        return asyncio.run(self._drain(timeout, batch))

    async def _drain(self, timeout: float, batch: int) -> DrainReport:
        report = DrainReport()
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                messages = list(self._queue.receive_messages(messages_per_page=batch, max_messages=batch,
                                                             visibility_timeout=60))
                if not messages:
                    if self._queue.get_queue_properties().approximate_message_count == 0:
                        return report
                    await asyncio.sleep(0.1)  # only delayed messages are left
                    continue
                await asyncio.gather(*(self._deliver(message, report) for message in messages))
            raise AssertionError(f"the provisioning queue was not empty after {timeout} s")
        finally:
            await _close_graph_client()

    async def _deliver(self, message, report: DrainReport) -> None:
        body = base64.b64decode(message.content)
        trigger_message = QueueMessage(id=message.id, body=body, dequeue_count=message.dequeue_count,
                                       pop_receipt=message.pop_receipt)
        content = json.loads(body)
        try:
            await functions()["provision_booking"].get_user_function()(trigger_message)
        except Exception as error:  # the host logs it and retries the message
            report.failures.append((content, error))
            if message.dequeue_count >= MAX_DEQUEUE_COUNT:
                self._poison.send_message(body.decode())
                self._queue.delete_message(message)
                report.poisoned.append(content)
                functions()["provision_booking_poison"].get_user_function()(trigger_message)
            else:
                self._queue.update_message(message, pop_receipt=message.pop_receipt, visibility_timeout=0)
            return
        self._queue.delete_message(message)
        report.handled.append(content)


async def _close_graph_client() -> None:
    """Close the Graph client of this event loop, if the app built one, before asyncio.run ends the loop."""
    if dependencies.graph_api.cache_info().currsize:
        await dependencies.graph_api().aclose()
