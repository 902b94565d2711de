"""Run queue triggers: poll Azure Storage queues, call the function, retry, and move poison messages aside."""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from azure.core.exceptions import AzureError, ResourceExistsError
from azure.functions.queue import QueueMessage
from azure.storage.queue import QueueClient
from azure.storage.queue import QueueMessage as StorageMessage

from tools.localhost.catalog import QueueFunction
from tools.localhost.host_config import QueueOptions
from tools.localhost.invoker import Invoker

logger = logging.getLogger(__name__)

# Azurite 3.35 rejects the newer default API version of azure-storage-queue 12.18.
QUEUE_API_VERSION = "2025-11-05"
POISON_SUFFIX = "-poison"
MIN_POLLING_INTERVAL_SECONDS = 0.1
DEFAULT_LEASE_SECONDS = 600
_FAILURE_LOG_EVERY = 60


def decode_message(content: str, encoding: str) -> bytes:
    """Return the message body as bytes; raise ValueError for invalid base64."""
    if encoding == "none":
        return content.encode("utf-8")
    try:
        return base64.b64decode(content, validate=True)
    except binascii.Error as error:
        raise ValueError(f"the message is not valid base64 ({error}); host.json sets messageEncoding base64") from error


class QueueListener:
    """Poll one queue for one function, with up to batchSize + newBatchThreshold messages in progress."""

    def __init__(self, function: QueueFunction, connection_string: str, options: QueueOptions, invoker: Invoker,
                 stop_event: threading.Event, lease_seconds: float | None = None) -> None:
        self.function = function
        self._options = options
        self._invoker = invoker
        self._stop = stop_event
        self._lease_seconds = int(lease_seconds or DEFAULT_LEASE_SECONDS)
        self._queue = QueueClient.from_connection_string(connection_string, function.queue_name,
                                                         api_version=QUEUE_API_VERSION)
        self._poison_queue = QueueClient.from_connection_string(connection_string, function.queue_name + POISON_SUFFIX,
                                                                api_version=QUEUE_API_VERSION)
        self._pool = ThreadPoolExecutor(max_workers=options.batch_size + options.new_batch_threshold,
                                        thread_name_prefix=f"queue-{function.name}")
        self._in_flight = 0
        self._in_flight_changed = threading.Condition()
        self._poll_failures = 0
        self._thread = threading.Thread(target=self._poll, name=f"queue-poll-{function.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread.ident is None:
            return  # never started, because the host failed during start-up
        self._thread.join(timeout)
        self._pool.shutdown(wait=False)
        with self._in_flight_changed:
            self._in_flight_changed.wait_for(lambda: self._in_flight == 0, timeout)
            if self._in_flight:
                logger.warning("Queue %s: %d messages still in progress at stop; they reappear after their lease",
                               self.function.queue_name, self._in_flight)

    def _create_queues(self) -> bool:
        for client in (self._queue, self._poison_queue):
            try:
                client.create_queue()
            except ResourceExistsError:
                pass
            except AzureError as error:
                self._report_poll_failure(error)
                return False
        return True

    def _report_poll_failure(self, error: Exception) -> None:
        self._poll_failures += 1
        if self._poll_failures == 1 or self._poll_failures % _FAILURE_LOG_EVERY == 0:
            logger.error("Queue %s: storage request failed (%d in a row): %s",
                         self.function.queue_name, self._poll_failures, error)

    def _report_poll_success(self) -> None:
        if self._poll_failures:
            logger.info("Queue %s: storage reachable again after %d failed requests",
                        self.function.queue_name, self._poll_failures)
            self._poll_failures = 0

    def _poll(self) -> None:
        interval = MIN_POLLING_INTERVAL_SECONDS
        while not self._create_queues():
            if self._stop.wait(self._options.max_polling_interval_seconds):
                return
        self._report_poll_success()

        while not self._stop.is_set():
            with self._in_flight_changed:
                while self._in_flight > self._options.new_batch_threshold and not self._stop.is_set():
                    self._in_flight_changed.wait(0.2)
            if self._stop.is_set():
                return
            try:
                messages = list(self._queue.receive_messages(
                    messages_per_page=self._options.batch_size, max_messages=self._options.batch_size,
                    visibility_timeout=self._lease_seconds))
            except AzureError as error:
                self._report_poll_failure(error)
                messages = []
            else:
                self._report_poll_success()

            if not messages:
                # Back off exponentially on an empty queue, up to maxPollingInterval.
                self._stop.wait(interval)
                interval = min(interval * 2, self._options.max_polling_interval_seconds)
                continue
            interval = MIN_POLLING_INTERVAL_SECONDS
            for message in messages:
                with self._in_flight_changed:
                    self._in_flight += 1
                self._pool.submit(self._process, message)

    def _process(self, message: StorageMessage) -> None:
        try:
            if self._stop.is_set():
                # Not started before the stop: make it visible again now instead of after its lease.
                self._queue.update_message(message, pop_receipt=message.pop_receipt, visibility_timeout=0)
            else:
                self._handle(message)
        except AzureError as error:
            logger.error("Queue %s: storage request for message %s failed: %s; it reappears after its lease",
                         self.function.queue_name, message.id, error)
        except Exception:
            # A bug in the listener itself: log it here, because the thread pool would keep it silent.
            logger.exception("Queue %s: handling message %s failed", self.function.queue_name, message.id)
        finally:
            with self._in_flight_changed:
                self._in_flight -= 1
                self._in_flight_changed.notify_all()

    def _handle(self, message: StorageMessage) -> None:
        max_attempts = self._options.max_dequeue_count
        if message.dequeue_count > max_attempts:
            self._move_to_poison(message)
            return
        try:
            body = decode_message(message.content, self._options.message_encoding)
        except ValueError as error:
            logger.error("Queue %s: message %s cannot be decoded: %s", self.function.queue_name, message.id, error)
            self._release_or_poison(message)
            return

        trigger_message = QueueMessage(
            id=message.id, body=body, dequeue_count=message.dequeue_count, pop_receipt=message.pop_receipt,
            insertion_time=message.inserted_on, expiration_time=message.expires_on,
            time_next_visible=message.next_visible_on)
        reason = f"New queue message detected on '{self.function.queue_name}'."
        try:
            self._invoker.invoke(self.function.name, self.function.user_function, self.function.arg_name,
                                 trigger_message, reason=reason)
        except Exception:
            self._release_or_poison(message)  # the invoker has logged the traceback
            return
        self._queue.delete_message(message)

    def _release_or_poison(self, message: StorageMessage) -> None:
        """After a failed attempt, make the message visible again after visibilityTimeout, or poison it at the limit."""
        max_attempts = self._options.max_dequeue_count
        if message.dequeue_count >= max_attempts:
            self._move_to_poison(message)
            return
        delay = int(self._options.visibility_timeout_seconds)
        logger.warning("Queue %s: message %s failed on attempt %d of %d; it is retried in %d s",
                       self.function.queue_name, message.id, message.dequeue_count, max_attempts, delay)
        self._queue.update_message(message, pop_receipt=message.pop_receipt, visibility_timeout=delay)

    def _move_to_poison(self, message: StorageMessage) -> None:
        # The content moves unchanged, still encoded, as the runtime does.
        self._poison_queue.send_message(message.content)
        self._queue.delete_message(message)
        logger.error("Queue %s: message %s moved to %s after %d attempts", self.function.queue_name, message.id,
                     self._poison_queue.queue_name, message.dequeue_count)
