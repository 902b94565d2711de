"""Start and stop the Azurite storage emulator (blobs, queues, tables) for make targets and tests.

Two modes:
- in memory on ports the OS picks (tests): `start_in_memory()` returns a running `Azurite`;
- persistent under a folder on the usual ports 10000-10002 (make run), detached from the caller and
  tracked by a pid file: `python -m tools.azurite start|stop|status`.

Azurite is the npm package pinned in package.json; `npm ci` at the repository root installs it.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
AZURITE_BIN = REPO_ROOT / "node_modules" / ".bin" / "azurite"

# The emulator's fixed development account. Microsoft publishes this key in the Azurite README;
# it is not a secret and only works against an emulator.
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

DEFAULT_PORTS = {"blob": 10000, "queue": 10001, "table": 10002}
SERVICES = ("blob", "queue", "table")
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0

# Azurite prints one such line per service once its port is open, also with --silent.
_LISTENING_LINE = re.compile(r"Azurite (Blob|Queue|Table) service is successfully listening at http://[^:\s]+:(\d+)")


@dataclass(frozen=True)
class Endpoints:
    """The host and ports of one running Azurite."""

    host: str
    blob_port: int
    queue_port: int
    table_port: int

    def connection_string(self) -> str:
        """Return a connection string for the development account with explicit endpoints."""
        base = f"http://{self.host}"
        return (
            "DefaultEndpointsProtocol=http;"
            f"AccountName={ACCOUNT_NAME};"
            f"AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={base}:{self.blob_port}/{ACCOUNT_NAME};"
            f"QueueEndpoint={base}:{self.queue_port}/{ACCOUNT_NAME};"
            f"TableEndpoint={base}:{self.table_port}/{ACCOUNT_NAME};"
        )


class Azurite:
    """A running Azurite process started by this module."""

    def __init__(self, process: subprocess.Popen, endpoints: Endpoints, log_path: Path) -> None:
        self.process = process
        self.endpoints = endpoints
        self.log_path = log_path

    @property
    def connection_string(self) -> str:
        return self.endpoints.connection_string()

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Stop the process: SIGTERM first, SIGKILL if it is still running after `timeout` seconds."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            logger.warning("Azurite (pid %d) did not stop within %.0f s; killing it", self.process.pid, timeout)
            self.process.kill()
            self.process.wait(timeout)


def _azurite_command(host: str, ports: dict[str, int], location: Path | None) -> list[str]:
    if not AZURITE_BIN.exists():
        raise FileNotFoundError(f"{AZURITE_BIN} not found: run `npm ci` in {REPO_ROOT} to install Azurite")
    command = [str(AZURITE_BIN)]
    for service in SERVICES:
        command += [f"--{service}Host", host, f"--{service}Port", str(ports[service])]
    # --inMemoryPersistence and --location together are a fatal error in Azurite, so only one is passed.
    if location is None:
        command.append("--inMemoryPersistence")
    else:
        command += ["--location", str(location)]
    # The pinned Azurite rejects the newer API versions that current Python SDKs send by default.
    command += ["--skipApiVersionCheck", "--disableTelemetry", "--silent"]
    return command


def _read_listening_ports(log_path: Path) -> dict[str, int]:
    text = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    return {service.lower(): int(port) for service, port in _LISTENING_LINE.findall(text)}


def _port_accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _log_tail(log_path: Path, lines: int = 20) -> str:
    if not log_path.exists():
        return "(no output)"
    return "\n".join(log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def _wait_until_ready(process: subprocess.Popen, host: str, log_path: Path, timeout: float) -> Endpoints:
    """Wait for all three "listening" lines and open ports; raise RuntimeError if Azurite exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"Azurite exited with code {process.returncode} during start-up. Its output:\n{_log_tail(log_path)}"
            )
        ports = _read_listening_ports(log_path)
        if len(ports) == len(SERVICES) and all(_port_accepts_connections(host, port) for port in ports.values()):
            return Endpoints(host, ports["blob"], ports["queue"], ports["table"])
        time.sleep(0.1)
    raise TimeoutError(f"Azurite did not open its ports within {timeout:.0f} s. Its output:\n{_log_tail(log_path)}")


def _stop_with_parent() -> None:
    """Ask Linux to send SIGTERM to this child when its parent dies, so a crashed test run leaks no Azurite."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _start(
    host: str, ports: dict[str, int], location: Path | None, log_path: Path, detach: bool, timeout: float
) -> Azurite:
    command = _azurite_command(host, ports, location)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=location or log_path.parent,
            # A detached Azurite gets its own session, so Ctrl-C in the terminal that started it
            # reaches only the foreground program, which then stops Azurite through the pid file.
            start_new_session=detach,
            # NOTE: the death signal follows the thread that started the child, so an in-memory Azurite
            # started from a short-lived thread stops when that thread ends. Linux only.
            preexec_fn=None if detach or not sys.platform.startswith("linux") else _stop_with_parent,
        )
    try:
        endpoints = _wait_until_ready(process, host, log_path, timeout)
    except BaseException:
        Azurite(process, Endpoints(host, 0, 0, 0), log_path).stop()
        raise
    logger.info("Azurite started (pid %d): blob %d, queue %d, table %d", process.pid,
                endpoints.blob_port, endpoints.queue_port, endpoints.table_port)
    return Azurite(process, endpoints, log_path)


def start_in_memory(host: str = "127.0.0.1", timeout: float = START_TIMEOUT_SECONDS) -> Azurite:
    """Start Azurite with in-memory storage on free ports chosen by the OS. The caller must stop() it."""
    log_dir = Path(tempfile.mkdtemp(prefix="azurite-"))
    return _start(host, {service: 0 for service in SERVICES}, None, log_dir / "azurite.log", False, timeout)


def start_persistent(
    location: Path, host: str = "127.0.0.1", ports: dict[str, int] | None = None,
    timeout: float = START_TIMEOUT_SECONDS,
) -> Azurite:
    """Start a detached Azurite that keeps its data under `location`; its output goes to `location`/azurite.log."""
    location = location.resolve()
    location.mkdir(parents=True, exist_ok=True)
    return _start(host, ports or DEFAULT_PORTS, location, location / "azurite.log", True, timeout)


# --- pid file handling for the detached Azurite of make run -------------------------------------


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def _is_azurite(pid: int) -> bool:
    """Tell whether `pid` is alive and still an Azurite process, so a reused pid is never signalled."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"azurite" in cmdline


def running_pid(pid_file: Path) -> int | None:
    """Return the pid recorded in `pid_file` if that process is a live Azurite, else None."""
    pid = _read_pid(pid_file)
    if pid is not None and _is_azurite(pid):
        return pid
    return None


def stop_by_pid_file(pid_file: Path, timeout: float = STOP_TIMEOUT_SECONDS) -> bool:
    """Stop the Azurite recorded in `pid_file` and remove the file. Return False if none was running."""
    pid = running_pid(pid_file)
    pid_file.unlink(missing_ok=True)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_azurite(pid):
            return True
        time.sleep(0.1)
    logger.warning("Azurite (pid %d) did not stop within %.0f s; killing it", pid, timeout)
    os.kill(pid, signal.SIGKILL)
    return True


# --- command line ---------------------------------------------------------------------------------


def _command_start(args: argparse.Namespace) -> int:
    pid_file = Path(args.pid_file)
    pid = running_pid(pid_file)
    if pid is not None:
        print(f"Azurite is already running (pid {pid}, pid file {pid_file}).")
        return 0
    ports = {"blob": args.blob_port, "queue": args.queue_port, "table": args.table_port}
    busy = [f"{service} {port}" for service, port in ports.items() if _port_accepts_connections(args.host, port)]
    if busy:
        print(
            f"Cannot start Azurite: ports already in use on {args.host}: {', '.join(busy)}. "
            "Stop the program that holds them (`make stop` if it is an earlier Azurite).",
            file=sys.stderr,
        )
        return 1
    azurite = start_persistent(Path(args.location), args.host, ports)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(f"{azurite.process.pid}\n")
    print(f"Azurite is running (pid {azurite.process.pid}), data in {args.location}, log {azurite.log_path}.")
    return 0


def _command_stop(args: argparse.Namespace) -> int:
    if stop_by_pid_file(Path(args.pid_file)):
        print("Azurite stopped.")
    else:
        print("Azurite was not running.")
    return 0


def _command_status(args: argparse.Namespace) -> int:
    pid = running_pid(Path(args.pid_file))
    if pid is None:
        print("Azurite is not running.")
        return 1
    print(f"Azurite is running (pid {pid}).")
    return 0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.azurite", description=__doc__.splitlines()[0])
    parser.add_argument("--pid-file", default=".local/azurite.pid", help="file that records the detached process id")
    commands = parser.add_subparsers(dest="command", required=True)

    start = commands.add_parser("start", help="start a detached, persistent Azurite unless one is running")
    start.add_argument("--location", default=".local/azurite", help="folder for Azurite's data and log")
    start.add_argument("--host", default="127.0.0.1", help="address to listen on")
    for service in SERVICES:
        start.add_argument(f"--{service}-port", type=int, default=DEFAULT_PORTS[service],
                           help=f"{service} service port (default {DEFAULT_PORTS[service]})")
    start.set_defaults(handler=_command_start)

    commands.add_parser("stop", help="stop the Azurite recorded in the pid file").set_defaults(handler=_command_stop)
    commands.add_parser("status", help="exit 0 if it runs, 1 if not").set_defaults(handler=_command_status)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    # Warnings only: the commands print their own one-line outcome.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = _parse_args(argv)
    try:
        return args.handler(args)
    except (FileNotFoundError, RuntimeError, TimeoutError) as error:
        print(f"Azurite failed: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
