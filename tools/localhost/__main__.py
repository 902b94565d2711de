"""Command line of the local host: `python -m tools.localhost [--host] [--port] [--settings] [--app] [--host-json]`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from tools.localhost.host import DEFAULT_PORT, HostOptions, LocalHost

logger = logging.getLogger("tools.localhost")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.localhost",
        description="Serve the function app's HTTP, timer and queue triggers locally, in place of `func start`.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None,
                        help=f"HTTP port; 0 picks a free one (default Host.LocalHttpPort of the settings, else {DEFAULT_PORT})")
    parser.add_argument("--settings", type=Path, default=Path("local.settings.json"),
                        help="local settings file whose Values become environment variables (default local.settings.json)")
    parser.add_argument("--app", default="function_app:app",
                        help="the FunctionApp to serve, as module:attribute (default function_app:app)")
    parser.add_argument("--host-json", type=Path, default=Path("host.json"), help="host.json to read (default host.json)")
    parser.add_argument("--verbose", action="store_true", help="log at DEBUG level, including each HTTP request")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The Azure SDK logs every HTTP request at INFO; the queue listeners alone would flood the log.
    logging.getLogger("azure").setLevel(logging.WARNING)

    stop_requested = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda number, frame: stop_requested.set())

    host = LocalHost(HostOptions(args.app, args.host, args.port, args.settings, args.host_json))
    try:
        host.start()
    except Exception as error:  # any error raised while importing the app's own modules ends up here too
        logger.exception("Local host failed to start: %s", error)
        host.stop()
        return 1

    while not stop_requested.wait(0.5):
        pass
    host.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
