"""The local host (`python -m tools.localhost`) in a subprocess, with a settings file and host.json made for a test."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tests.support.waiting import wait_for

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
_LISTENING = re.compile(r"Listening on (http://127\.0\.0\.1:\d+)")


class _LineCollector:
    """Read a pipe in a thread and keep its lines, so the child never blocks on a full pipe."""

    def __init__(self, stream) -> None:
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            with self._lock:
                self._lines.append(line)

    @property
    def text(self) -> str:
        with self._lock:
            return "".join(self._lines)


class LocalHostProcess:
    def __init__(self, workdir: Path, app: str, values: dict[str, str], host_json: dict,
                 host_section: dict | None = None) -> None:
        self.workdir = workdir
        self.app = app
        self.values = values
        self.host_json = host_json
        self.host_section = host_section or {}
        self.base_url = ""
        self._process: subprocess.Popen | None = None
        self._stdout: _LineCollector | None = None
        self._stderr: _LineCollector | None = None

    def start(self) -> "LocalHostProcess":
        """Start the host on a free port and wait until it prints its URL; raise AssertionError on failure."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        settings_path = self.workdir / "local.settings.json"
        settings_path.write_text(json.dumps({"IsEncrypted": False, "Values": self.values, "Host": self.host_section}))
        host_json_path = self.workdir / "host.json"
        host_json_path.write_text(json.dumps(self.host_json))

        # Variables already in the environment would win over the settings file, as with `func start`.
        environment = {name: value for name, value in os.environ.items() if name not in self.values}
        command = [sys.executable, "-m", "tools.localhost", "--app", self.app, "--port", "0",
                   "--settings", str(settings_path), "--host-json", str(host_json_path)]
        self._process = subprocess.Popen(command, cwd=REPO_ROOT, env=environment, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._stdout = _LineCollector(self._process.stdout)
        self._stderr = _LineCollector(self._process.stderr)

        def listening_url() -> str | None:
            if self._process.poll() is not None:
                raise AssertionError(f"the local host exited with {self._process.returncode}:\n{self.stderr}")
            found = _LISTENING.search(self.stdout)
            return found.group(1) if found else None

        self.base_url = wait_for(listening_url, START_TIMEOUT_SECONDS, "the local host to listen")
        return self

    @property
    def stdout(self) -> str:
        return self._stdout.text if self._stdout else ""

    @property
    def stderr(self) -> str:
        return self._stderr.text if self._stderr else ""

    def url(self, path: str) -> str:
        return self.base_url + path

    def stop(self) -> int | None:
        """Send SIGTERM and return the exit code; kill the host and return None if it does not stop in time."""
        if self._process is None or self._process.poll() is not None:
            return self._process.returncode if self._process else None
        self._process.send_signal(signal.SIGTERM)
        try:
            return self._process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            return None
