"""Logging set-up: the extra-key allow-list, SDK log levels, and the lazy Application Insights export."""

from __future__ import annotations

import ast
import gzip
import json
import logging
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shared import telemetry
from shared.telemetry import ALLOWED_EXTRAS, APP_LOGGERS, SDK_LOGGERS, AllowedExtrasFilter, configure_logging

REPO_ROOT = Path(__file__).resolve().parent.parent
SUBPROCESS_TIMEOUT_SECONDS = 120


@pytest.fixture
def restored_loggers(monkeypatch):
    """Undo what configure_logging() does to the global loggers, after the test."""
    names = (*APP_LOGGERS, *SDK_LOGGERS)
    saved = {name: (logging.getLogger(name).level, list(logging.getLogger(name).handlers)) for name in names}
    monkeypatch.setattr(telemetry, "_export_started", False)
    yield
    for name, (level, handlers) in saved.items():
        logging.getLogger(name).setLevel(level)
        logging.getLogger(name).handlers[:] = handlers


class RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def record_with(**extra) -> logging.LogRecord:
    return logging.getLogger("shared.test").makeRecord(
        "shared.test", logging.INFO, __file__, 1, "booked %s", ("VL-1",), None, extra=extra
    )


def run_python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
    )


def environment_without_telemetry() -> dict:
    return {
        key: value for key, value in os.environ.items()
        if not key.startswith(("APPLICATIONINSIGHTS_", "OTEL_"))
    }


# --- the filter --------------------------------------------------------------------------------


def test_filter_drops_unknown_extras():
    record = record_with(reference="VL-1", email="jan@example.org", national_number="85073003328")

    kept = AllowedExtrasFilter().filter(record)

    assert kept is True
    assert record.reference == "VL-1"
    assert not hasattr(record, "email")
    assert not hasattr(record, "national_number")


def test_filter_keeps_allowed_extras_and_record_fields():
    record = record_with(**{key: f"value of {key}" for key in ALLOWED_EXTRAS})

    AllowedExtrasFilter().filter(record)

    for key in ALLOWED_EXTRAS:
        assert getattr(record, key) == f"value of {key}"
    assert record.getMessage() == "booked VL-1"
    assert record.levelno == logging.INFO


def test_app_log_calls_use_allowed_extras_only():
    """Every literal `extra={...}` key in functions/ and shared/ is exported, not silently dropped."""
    unknown = []
    for path in sorted([*REPO_ROOT.glob("functions/**/*.py"), *REPO_ROOT.glob("shared/**/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg == "extra" and isinstance(keyword.value, ast.Dict):
                    for key in keyword.value.keys:
                        if isinstance(key, ast.Constant) and key.value not in ALLOWED_EXTRAS:
                            unknown.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno} {key.value}")

    assert not unknown, "extra keys that AllowedExtrasFilter drops; rename them or extend ALLOWED_EXTRAS: " + ", ".join(unknown)


# --- configure_logging without Application Insights --------------------------------------------------


def test_sdk_loggers_at_warning_after_configure(monkeypatch, restored_loggers):
    monkeypatch.delenv("APPLICATIONINSIGHTS_CONNECTION_STRING", raising=False)
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)

    exporting = configure_logging()

    assert exporting is False
    for name in SDK_LOGGERS:
        assert logging.getLogger(name).level == logging.WARNING, name


def test_no_connection_string_imports_no_azure_monitor():
    code = (
        "import sys\n"
        "from shared.telemetry import configure_logging\n"
        "assert configure_logging() is False\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('azure.monitor', 'opentelemetry')))\n"
        "print(loaded)\n"
    )

    result = run_python(code, environment_without_telemetry())

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_function_app_import_loads_no_telemetry_packages():
    code = (
        "import sys\n"
        "import function_app\n"
        "print(sorted(m for m in sys.modules if m.startswith(('azure.monitor', 'opentelemetry'))))\n"
    )

    result = run_python(code, {**os.environ, "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=unused"})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- configure_logging with Application Insights -----------------------------------------------------


def test_export_is_configured_once_for_both_packages(monkeypatch, restored_loggers):
    calls = []
    exporter = RecordingHandler()

    def fake_configure(**arguments):
        calls.append(arguments)
        logging.getLogger(arguments["logger_name"]).addHandler(exporter)

    monkeypatch.setattr(telemetry, "_azure_monitor_configurer", lambda: fake_configure)
    monkeypatch.setenv("APPLICATIONINSIGHTS_CONNECTION_STRING", "InstrumentationKey=00000000-0000-0000-0000-000000000000")

    assert configure_logging() is True
    assert configure_logging() is True

    assert len(calls) == 1
    assert calls[0]["logger_name"] == "shared"
    assert exporter in logging.getLogger("functions").handlers
    logging.getLogger("functions.agent_api").info("signal on %s", "VL-1", extra={"reference": "VL-1", "email": "x@y.z"})
    (record,) = [record for record in exporter.records if record.name == "functions.agent_api"]
    assert record.reference == "VL-1"
    assert not hasattr(record, "email")


def test_invalid_connection_string_leaves_export_off(monkeypatch, restored_loggers, caplog):
    def failing_configure(**arguments):
        raise ValueError("Invalid instrumentation key")

    monkeypatch.setattr(telemetry, "_azure_monitor_configurer", lambda: failing_configure)
    monkeypatch.setenv("APPLICATIONINSIGHTS_CONNECTION_STRING", "InstrumentationKey=broken")
    handlers_before = list(logging.getLogger("functions").handlers)

    with caplog.at_level(logging.ERROR, logger="shared.telemetry"):
        configure_logging()

    assert "Application Insights export is off" in caplog.text
    assert logging.getLogger("functions").handlers == handlers_before


class _Ingestion(BaseHTTPRequestHandler):
    """A stand-in for the Application Insights ingestion endpoint, and a proxy that rejects everything.

    The test process points HTTP(S)_PROXY here, so a request that is not for 127.0.0.1 arrives as a
    proxy request, is counted as stray, and gets 403 instead of reaching the internet.
    """

    received: list[tuple[str, bytes]] = []
    strays: list[str] = []

    def handle_any(self) -> None:
        if self.command == "CONNECT" or self.path.startswith("http"):
            self.strays.append(f"{self.command} {self.path}")
            self.send_response(403)
            self.end_headers()
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append((self.path, body))
        answer = json.dumps({"itemsReceived": 1, "itemsAccepted": 1, "errors": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_CONNECT = handle_any

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def ingestion():
    _Ingestion.received = []
    _Ingestion.strays = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingestion)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def exported_messages() -> list[dict]:
    messages = []
    for path, body in _Ingestion.received:
        if path.rstrip("/").endswith("/track"):
            for item in json.loads(body):
                if item["data"]["baseType"] == "MessageData":
                    messages.append(item["data"]["baseData"])
    return messages


def test_exported_traces_carry_only_allowed_dimensions(ingestion, tmp_path):
    env = {
        **environment_without_telemetry(),
        "APPLICATIONINSIGHTS_CONNECTION_STRING": (
            f"InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint={ingestion}/;"
            f"LiveEndpoint={ingestion}/"
        ),
        # Keep azure-monitor-opentelemetry 1.8.11 off its other endpoints and off the VM metadata service.
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        "APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED": "true",
        "APPLICATIONINSIGHTS_SDKSTATS_DISABLED": "true",
        "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "otel",
        "HTTP_PROXY": ingestion, "HTTPS_PROXY": ingestion, "http_proxy": ingestion, "https_proxy": ingestion,
        "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1",
        "TMPDIR": str(tmp_path),  # where the exporter keeps telemetry it could not send
    }
    code = (
        "import logging\n"
        "from opentelemetry._logs import get_logger_provider\n"
        "from shared.telemetry import configure_logging\n"
        "assert configure_logging() and configure_logging()\n"
        "logging.getLogger('functions.agent_api').info('signal %s on %s', 'client_present', 'VL-1',\n"
        "    extra={'reference': 'VL-1', 'signal': 'client_present', 'email': 'jan@example.org'})\n"
        "logging.getLogger('shared.services.provisioning').error('provisioning_failed: booked of %s', 'VL-2',\n"
        "    extra={'event': 'provisioning_failed', 'reference': 'VL-2', 'national_number': '85073003328'})\n"
        "logging.getLogger('azure.core.pipeline').info('an SDK request')\n"
        "get_logger_provider().force_flush()\n"
    )

    result = run_python(code, env)

    assert result.returncode == 0, result.stderr
    assert _Ingestion.strays == []
    by_message = {message["message"]: message["properties"] for message in exported_messages()}
    assert by_message["signal client_present on VL-1"]["reference"] == "VL-1"
    assert by_message["signal client_present on VL-1"]["signal"] == "client_present"
    assert "email" not in by_message["signal client_present on VL-1"]
    assert by_message["provisioning_failed: booked of VL-2"]["event"] == "provisioning_failed"
    assert "national_number" not in by_message["provisioning_failed: booked of VL-2"]
    assert "an SDK request" not in by_message
