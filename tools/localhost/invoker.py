"""Call user functions: plain ones in the calling thread, coroutines on one long-lived event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InvocationContext:
    """What the Python worker passes to a parameter named `context`, reduced to the fields code reads."""

    function_name: str
    invocation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_directory: str = "."
    trace_context: Any = None
    retry_context: Any = None


class Invoker:
    """Run functions the way the Python worker does.

    Async functions all run on one event loop in a background thread, so clients bound to a loop (the
    Graph SDK's, for example) keep working across invocations.
    """

    def __init__(self, function_timeout_seconds: float | None = None) -> None:
        self._function_timeout = function_timeout_seconds
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="function-event-loop", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if not self._thread.is_alive():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._loop.close()

    def invoke(self, name: str, user_function: Callable[..., Any], arg_name: str, trigger_value: Any,
               reason: str) -> Any:
        """Call the function with its trigger argument, log start and end, and return its result or raise."""
        context = InvocationContext(function_name=name)
        arguments = {arg_name: trigger_value}
        if "context" in inspect.signature(user_function).parameters:
            arguments["context"] = context

        logger.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", name, reason, context.invocation_id)
        started = time.monotonic()
        try:
            result = self._call(user_function, arguments)
        except Exception:
            logger.exception("Executed 'Functions.%s' (Failed, Id=%s, Duration=%dms)",
                             name, context.invocation_id, (time.monotonic() - started) * 1000)
            raise
        logger.info("Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%dms)",
                    name, context.invocation_id, (time.monotonic() - started) * 1000)
        return result

    def _call(self, user_function: Callable[..., Any], arguments: dict[str, Any]) -> Any:
        # NOTE: functionTimeout is enforced for async functions only, because a running thread cannot be stopped.
        if inspect.iscoroutinefunction(user_function):
            return self._await(user_function(**arguments))
        result = user_function(**arguments)
        if inspect.isawaitable(result):
            return self._await(result)
        return result

    def _await(self, awaitable: Any) -> Any:
        future = asyncio.run_coroutine_threadsafe(_as_coroutine(awaitable), self._loop)
        try:
            return future.result(self._function_timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"the function did not finish within functionTimeout ({self._function_timeout:.0f} s)")


async def _as_coroutine(awaitable: Any) -> Any:
    return await awaitable
