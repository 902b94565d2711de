"""The local development host, run for real: a subprocess serving tests.support.sample_app over HTTP, with Azurite."""

from __future__ import annotations

import http.client
import json
import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from tests.support.localhost_process import LocalHostProcess
from tests.support.waiting import wait_for
from tools.localhost.host_config import parse_timespan
from tools.localhost.routing import RouteTemplate

SAMPLE_APP = "tests.support.sample_app:app"
FUNCTION_KEY = "test-function-key"
ADMIN_KEY = "test-admin-key"
ALLOWED_ORIGIN = "https://videoloket.example"
OTHER_ORIGIN = "https://elsewhere.example"
MAX_DEQUEUE_COUNT = 3
TIMEOUT = 20.0

# Retries without delay and a short polling interval keep the queue tests fast.
TEST_HOST_JSON = {
    "version": "2.0",
    "extensions": {
        "http": {"routePrefix": "api"},
        "queues": {"maxDequeueCount": MAX_DEQUEUE_COUNT, "visibilityTimeout": "00:00:00",
                   "messageEncoding": "base64", "maxPollingInterval": "00:00:00.500"},
    },
}


def _sample_values(azurite: str, output_dir, queue_name: str, **extra: str) -> dict[str, str]:
    return {
        "SAMPLE_STORAGE": azurite,
        "SAMPLE_QUEUE": queue_name,
        "SAMPLE_TIMER_SCHEDULE": "*/1 * * * * *",
        "SAMPLE_APP_OUTPUT_DIR": str(output_dir),
        **extra,
    }


@pytest.fixture(scope="module")
def queue_name() -> str:
    return "sample" + uuid.uuid4().hex[:10]


@pytest.fixture(scope="module")
def host(azurite, tmp_path_factory, queue_name):
    workdir = tmp_path_factory.mktemp("localhost")
    values = _sample_values(azurite, workdir, queue_name, LOCAL_FUNCTION_KEY=FUNCTION_KEY, LOCAL_ADMIN_KEY=ADMIN_KEY)
    process = LocalHostProcess(workdir, SAMPLE_APP, values, TEST_HOST_JSON,
                               {"CORS": f"{ALLOWED_ORIGIN},https://second.example", "CORSCredentials": False})
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def client(host):
    with httpx.Client(base_url=host.base_url, timeout=TIMEOUT) as client:
        yield client


@pytest.fixture
def queue(azurite, queue_name) -> QueueClient:
    return QueueClient.from_connection_string(azurite, queue_name, api_version="2025-11-05",
                                              message_encode_policy=TextBase64EncodePolicy())


def _lines(host: LocalHostProcess, file_name: str) -> list[str]:
    path = host.workdir / file_name
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


# --- start-up ------------------------------------------------------------------------------------


def test_start_banner_lists_every_function(host):
    banner = host.stdout

    assert f"greet: [GET] {host.base_url}/api/greetings/{{name:alpha}}/{{greeting?}} (auth: anonymous)" in banner
    assert "function_level: [ALL]" in banner
    assert "(auth: function)" in banner
    assert "admin_level: [GET]" in banner
    assert "(auth: admin)" in banner
    assert "tick: timerTrigger (schedule '*/1 * * * * *' UTC)" in banner
    assert "on_startup: timerTrigger (schedule '0 0 0 1 1 *' UTC)" in banner
    assert f"consume: queueTrigger (queue '{host.values['SAMPLE_QUEUE']}')" in banner
    assert f"{host.base_url}/local/join/{{meeting_id}}" in banner


# --- routing -------------------------------------------------------------------------------------


def test_route_params_and_query_reach_function(client, host):
    response = client.get("/api/greetings/Alice/hello", params={"lang": "nl"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    seen = response.json()
    assert seen["route_params"] == {"name": "Alice", "greeting": "hello"}
    assert seen["params"] == {"lang": "nl"}
    assert seen["url"] == f"{host.base_url}/api/greetings/Alice/hello?lang=nl"


def test_optional_route_param_may_be_left_out(client):
    response = client.get("/api/greetings/Alice")

    assert response.status_code == 200
    assert response.json()["route_params"] == {"name": "Alice"}


@pytest.mark.parametrize("path", ["/api/greetings/Al1ce", "/api/items/abc", "/api/items/1.5"])
def test_route_constraint_mismatch_is_404(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_literal_route_wins_over_parameter(client):
    assert client.get("/api/items/latest").text == "latest item"
    assert client.get("/api/items/42").text == "item 42"


def test_unknown_path_is_json_404(client):
    response = client.get("/api/nothing/here")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert "/api/nothing/here" in response.json()["message"]


def test_path_without_route_prefix_is_404(client):
    assert client.get("/greetings/Alice").status_code == 404


def test_wrong_method_is_405_with_allow_header(client):
    response = client.post("/api/greetings/Alice")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.json()["error"] == "method_not_allowed"


def test_route_without_methods_accepts_any_method(client):
    for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        response = client.request(method, "/api/secure", headers={"x-functions-key": FUNCTION_KEY})
        assert response.status_code == 200, method


def test_request_body_and_method_reach_function(client):
    payload = bytes(range(256)) * 10

    response = client.post("/api/echo", content=payload)

    assert response.status_code == 200
    assert response.content == payload
    assert response.headers["x-body-length"] == str(len(payload))
    assert response.headers["x-method"] == "POST"


def test_chunked_request_body_is_read(client):
    chunks = [b"first,", b"second,", b"third"]

    response = client.post("/api/echo", content=iter(chunks))

    assert response.status_code == 200
    assert response.content == b"".join(chunks)


def test_body_over_100_mb_is_rejected_with_413(host):
    address = urlsplit(host.base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=TIMEOUT)
    try:
        # Only the headers are sent, so the host must reject the request from Content-Length alone.
        connection.putrequest("POST", "/api/echo")
        connection.putheader("Content-Length", str(100 * 1024 * 1024 + 1))
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()

    assert response.status == 413
    assert json.loads(body)["error"] == "payload_too_large"


# --- keys ----------------------------------------------------------------------------------------


def test_function_level_without_key_is_empty_401(client):
    response = client.get("/api/secure")

    assert response.status_code == 401
    assert response.content == b""


def test_function_level_with_wrong_key_is_401(client):
    assert client.get("/api/secure", headers={"x-functions-key": "wrong"}).status_code == 401
    assert client.get("/api/secure", params={"code": "wrong"}).status_code == 401


def test_function_key_in_header_is_accepted(client):
    response = client.get("/api/secure", headers={"x-functions-key": FUNCTION_KEY})

    assert response.status_code == 200
    assert response.text == "function level ok"


def test_function_key_in_code_parameter_is_accepted(client):
    assert client.get("/api/secure", params={"code": FUNCTION_KEY}).status_code == 200


def test_admin_key_opens_function_level(client):
    assert client.get("/api/secure", headers={"x-functions-key": ADMIN_KEY}).status_code == 200


def test_admin_level_rejects_function_key(client):
    response = client.get("/api/admin/ping", headers={"x-functions-key": FUNCTION_KEY})

    assert response.status_code == 401
    assert response.content == b""


def test_admin_level_accepts_admin_key(client):
    assert client.get("/api/admin/ping", headers={"x-functions-key": ADMIN_KEY}).text == "admin level ok"
    assert client.get("/api/admin/ping", params={"code": ADMIN_KEY}).status_code == 200


# --- CORS ----------------------------------------------------------------------------------------


def test_cors_preflight_from_allowed_origin_is_answered(client):
    response = client.options("/api/echo", headers={
        "Origin": ALLOWED_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-functions-key",
    })

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] == "content-type,x-functions-key"
    assert "access-control-allow-credentials" not in response.headers


def test_cors_preflight_other_origin_unanswered(client):
    response = client.options("/api/echo", headers={"Origin": OTHER_ORIGIN, "Access-Control-Request-Method": "POST"})

    assert "access-control-allow-origin" not in response.headers
    assert response.status_code == 405  # passed on to routing, and echo accepts POST only


def test_cors_header_added_for_allowed_origin(client):
    response = client.get("/api/items/1", headers={"Origin": "https://second.example"})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://second.example"
    assert response.headers["vary"] == "Origin"


def test_cors_header_added_to_error_responses(client):
    assert client.get("/api/secure", headers={"Origin": ALLOWED_ORIGIN}).headers[
        "access-control-allow-origin"] == ALLOWED_ORIGIN


def test_cors_header_absent_for_other_origin(client):
    response = client.get("/api/items/1", headers={"Origin": OTHER_ORIGIN})

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


# --- invocation ----------------------------------------------------------------------------------


def test_failing_function_gives_generic_500(client, host):
    response = client.get("/api/broken")

    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert "secret detail" not in response.text
    wait_for(lambda: "RuntimeError: sample failure with a secret detail" in host.stderr, TIMEOUT,
             "the traceback in the host's log")


def test_async_functions_share_one_event_loop(client):
    first = client.get("/api/loop")
    second = client.get("/api/loop")

    assert first.status_code == 200
    assert first.text == second.text


# --- timer ---------------------------------------------------------------------------------------


def test_timer_fires_every_second(host):
    ticks = wait_for(lambda: len(_lines(host, "ticks.log")) >= 2 and _lines(host, "ticks.log"), TIMEOUT,
                     "two timer runs")

    assert json.loads(ticks[0]) == {"past_due": False}
    assert "Executed 'Functions.tick' (Succeeded" in host.stderr


def test_run_on_startup_timer_runs_once_at_start(host):
    runs = wait_for(lambda: _lines(host, "startup.log"), TIMEOUT, "the run-on-startup timer")

    assert runs == [json.dumps({"past_due": False})]


# --- queues --------------------------------------------------------------------------------------


def test_queue_message_is_processed_and_deleted(host, queue):
    text = "hello " + uuid.uuid4().hex

    queue.send_message(text)

    wait_for(lambda: text in _lines(host, "consumed.log"), TIMEOUT, "the queue message to be consumed")
    wait_for(lambda: not queue.peek_messages(max_messages=32), TIMEOUT, "the consumed message to be deleted")


def test_failing_queue_message_ends_in_poison_queue(host, queue, azurite, queue_name):
    poison = QueueClient.from_connection_string(azurite, queue_name + "-poison", api_version="2025-11-05")

    queue.send_message("fail")

    encoded = TextBase64EncodePolicy().encode("fail")
    wait_for(lambda: encoded in _poisoned(poison), TIMEOUT, "the failing message in the poison queue")
    assert _poisoned(poison).count(encoded) == 1
    assert _lines(host, "failures.log") == [str(attempt) for attempt in range(1, MAX_DEQUEUE_COUNT + 1)]
    assert not queue.peek_messages(max_messages=32)


def test_undecodable_queue_message_ends_in_poison_queue(host, azurite, queue_name):
    raw_queue = QueueClient.from_connection_string(azurite, queue_name, api_version="2025-11-05")
    poison = QueueClient.from_connection_string(azurite, queue_name + "-poison", api_version="2025-11-05")
    content = "not base64 " + uuid.uuid4().hex

    raw_queue.send_message(content)

    wait_for(lambda: content in _poisoned(poison), TIMEOUT, "the undecodable message in the poison queue")
    assert content not in _lines(host, "consumed.log")
    assert "cannot be decoded" in host.stderr


def _poisoned(poison: QueueClient) -> list[str]:
    return [message.content for message in poison.peek_messages(max_messages=32)]


# --- development pages ---------------------------------------------------------------------------


def test_join_page_labels_stand_in(client):
    response = client.get("/local/join/local-vl-2027-abc")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "Development stand-in for a Microsoft Teams meeting — no real meeting exists" in response.text
    assert "local-vl-2027-abc" in response.text


def test_join_page_escapes_meeting_id(client):
    response = client.get("/local/join/%3Cscript%3Ealert(1)%3C%2Fscript%3E")

    assert response.status_code == 200
    assert "<script>" not in response.text
    assert "&lt;script&gt;" in response.text


# --- a host without keys in its settings ---------------------------------------------------------


@pytest.fixture
def keyless_host(azurite, tmp_path):
    values = _sample_values(azurite, tmp_path, "keyless" + uuid.uuid4().hex[:10], **{"AzureWebJobs.broken.Disabled": "true"})
    process = LocalHostProcess(tmp_path, SAMPLE_APP, values, TEST_HOST_JSON).start()
    yield process
    process.stop()


def test_generated_function_key_is_printed_once_and_works(keyless_host):
    printed = [line for line in keyless_host.stdout.splitlines() if line.startswith("LOCAL_FUNCTION_KEY is not set")]
    assert len(printed) == 1
    key = printed[0].rsplit(" ", 1)[1]

    response = httpx.get(keyless_host.url("/api/secure"), headers={"x-functions-key": key}, timeout=TIMEOUT)

    assert response.status_code == 200
    assert key not in keyless_host.stderr


def test_disabled_function_is_not_served(keyless_host):
    assert httpx.get(keyless_host.url("/api/broken"), timeout=TIMEOUT).status_code == 404
    assert "broken: NOT RUNNING: disabled" in keyless_host.stdout


def test_host_stops_cleanly_on_sigterm(keyless_host):
    assert keyless_host.stop() == 0
    assert "Local host stopped" in keyless_host.stderr


# --- route templates, without a host -------------------------------------------------------------


@pytest.mark.parametrize(("template", "path", "expected"), [
    ("api/items/{id:int}", "/api/items/-5", {"id": "-5"}),
    ("api/items/{id:int}", "/api/items/x", None),
    ("api/ITEMS/{id}", "/api/items/a%20b", {"id": "a b"}),
    ("api/g/{id:guid}", "/api/g/0f8fad5b-d9cb-469f-a165-70867728950e", {"id": "0f8fad5b-d9cb-469f-a165-70867728950e"}),
    ("api/g/{id:guid}", "/api/g/not-a-guid", None),
    ("api/a/{name:alpha:minlength(3)}", "/api/a/ab", None),
    ("api/a/{name:alpha:minlength(3)}", "/api/a/abc", {"name": "abc"}),
    ("api/d/{lang=nl}", "/api/d", {"lang": "nl"}),
    ("api/f/{*rest}", "/api/f/a/b", {"rest": "a/b"}),
    ("api/r/{code:regex(^\\d{{3}}$)}", "/api/r/123", {"code": "123"}),
    ("api/r/{code:regex(^\\d{{3}}$)}", "/api/r/1234", None),
    ("api/u/{x:unknownconstraint}", "/api/u/anything", {"x": "anything"}),
])
def test_route_template_matching(template, path, expected):
    assert RouteTemplate(template).match(path) == expected


@pytest.mark.parametrize(("text", "seconds"), [("00:00:30", 30), ("00:10:00", 600), ("1.02:00:00", 93600),
                                               ("00:00:00.500", 0.5)])
def test_host_json_timespan_parsing(text, seconds):
    assert parse_timespan(text, "test") == seconds
