"""Assemble the local host from the settings, host.json and the app's functions; start and stop it."""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tools.localhost.auth import Keys, load_keys
from tools.localhost.catalog import Catalog, build_catalog, load_app
from tools.localhost.cors import CorsPolicy
from tools.localhost.host_config import HostConfig, read_host_config
from tools.localhost.http_dispatch import HttpDispatcher
from tools.localhost.http_server import LocalHttpServer
from tools.localhost.invoker import Invoker
from tools.localhost.join_page import JOIN_ROUTE
from tools.localhost.local_settings import apply_to_environment, read_local_settings
from tools.localhost.queues import QueueListener
from tools.localhost.routing import Router
from tools.localhost.timers import TimerScheduler

logger = logging.getLogger(__name__)

DEFAULT_PORT = 7071
STOP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class HostOptions:
    app: str = "function_app:app"
    host: str = "127.0.0.1"
    port: int | None = None  # None: Host.LocalHttpPort from the settings, else 7071
    settings_path: Path = Path("local.settings.json")
    host_json_path: Path = Path("host.json")


class LocalHost:
    def __init__(self, options: HostOptions, output: TextIO = sys.stdout) -> None:
        self._options = options
        self._output = output
        self._stop = threading.Event()
        self._invoker: Invoker | None = None
        self._server: LocalHttpServer | None = None
        self._timers: list[TimerScheduler] = []
        self._listeners: list[QueueListener] = []

    def start(self) -> None:
        """Load everything, open the HTTP port, print the function list, then start timers and queue listeners.

        Raises ValueError for invalid settings or host.json, ImportError if the app cannot be imported and
        OSError if the port cannot be opened.
        """
        settings = read_local_settings(self._options.settings_path)
        apply_to_environment(settings.values)
        config = read_host_config(self._options.host_json_path)
        catalog = build_catalog(load_app(self._options.app), os.environ)
        keys = load_keys(os.environ)

        self._invoker = Invoker(config.function_timeout_seconds)
        self._invoker.start()
        router = Router(catalog.http, config.route_prefix)
        catalog.not_running.update(router.invalid)
        dispatcher = HttpDispatcher(router, keys, CorsPolicy.from_settings(settings.cors), self._invoker)
        port = self._options.port if self._options.port is not None else settings.http_port or DEFAULT_PORT
        self._server = LocalHttpServer((self._options.host, port), dispatcher)
        self._server.start()

        self._prepare_timers(catalog)
        self._prepare_queue_listeners(catalog, config)
        self._print_start_banner(router, catalog, config, keys)
        for worker in [*self._timers, *self._listeners]:
            worker.start()
        logger.info("Local host started on %s:%d with the app %s", self._options.host, self._server.port,
                    self._options.app)

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return self._server.port

    def stop(self) -> None:
        """Stop accepting requests and polling, let running invocations finish (bounded), stop the event loop."""
        logger.info("Local host stopping")
        self._stop.set()
        if self._server is not None:
            self._server.stop()
        for worker in [*self._timers, *self._listeners]:
            worker.join(STOP_TIMEOUT_SECONDS)
        if self._invoker is not None:
            self._invoker.stop()
        logger.info("Local host stopped")

    def _prepare_timers(self, catalog: Catalog) -> None:
        assert self._invoker is not None
        for function in catalog.timers:
            try:
                self._timers.append(TimerScheduler(function, self._invoker, self._stop))
            except ValueError as error:
                logger.error("Function %s cannot run locally: %s", function.name, error)
                catalog.not_running[function.name] = str(error)

    def _prepare_queue_listeners(self, catalog: Catalog, config: HostConfig) -> None:
        assert self._invoker is not None
        for function in catalog.queues:
            connection_string = os.environ.get(function.connection_setting)
            if not connection_string:
                error = f"app setting {function.connection_setting!r} with the storage connection string is not set"
                logger.error("Function %s cannot run locally: %s", function.name, error)
                catalog.not_running[function.name] = error
                continue
            try:
                listener = QueueListener(function, connection_string, config.queues, self._invoker, self._stop,
                                         config.function_timeout_seconds)
            except ValueError as error:  # the storage SDK rejects a malformed connection string
                logger.error("Function %s cannot run locally: app setting %r: %s",
                             function.name, function.connection_setting, error)
                catalog.not_running[function.name] = f"app setting {function.connection_setting!r}: {error}"
                continue
            self._listeners.append(listener)

    def _print_start_banner(self, router: Router, catalog: Catalog, config: HostConfig, keys: Keys) -> None:
        """Print the functions and their URLs to stdout, as `func start` does, and any generated key once."""
        assert self._server is not None
        base = f"http://{self._options.host}:{self._server.port}"
        lines = ["", "Functions:", ""]
        for template, function in sorted(router.routes, key=lambda route: route[1].name):
            methods = ",".join(sorted(function.methods)) or "ALL"
            lines.append(f"\t{function.name}: [{methods}] {base}/{template.template} (auth: {function.auth_level})")
        for timer in self._timers:
            lines.append(f"\t{timer.function.name}: timerTrigger (schedule '{timer.function.schedule}' UTC)")
        for listener in self._listeners:
            lines.append(f"\t{listener.function.name}: queueTrigger (queue '{listener.function.queue_name}')")
        for name, reason in sorted(catalog.not_running.items()):
            lines.append(f"\t{name}: NOT RUNNING: {reason}")
        lines += ["", "Development pages:", "", f"\tjoin: [GET] {base}/{JOIN_ROUTE}", ""]
        for setting in keys.generated:
            key = keys.function_key if setting == "LOCAL_FUNCTION_KEY" else keys.admin_key
            lines.append(f"{setting} is not set; this run uses the generated key {key}")
        lines.append(f"Listening on {base} (route prefix '{config.route_prefix}'). Press Ctrl+C to stop.")
        self._output.write("\n".join(lines) + "\n")
        self._output.flush()
