"""A tiny function app for the local host's tests: one function per trigger kind and auth level.

The functions record what they saw as lines in files under the folder named by SAMPLE_APP_OUTPUT_DIR,
so a test in another process can check that they ran.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

FAILING_MESSAGE = "fail"


def _record(file_name: str, line: str) -> None:
    output_dir = Path(os.environ["SAMPLE_APP_OUTPUT_DIR"])
    with open(output_dir / file_name, "a", encoding="utf-8") as output:
        output.write(line + "\n")


@app.route(route="greetings/{name:alpha}/{greeting?}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def greet(req: func.HttpRequest) -> func.HttpResponse:
    body = {"route_params": dict(req.route_params), "params": dict(req.params), "url": req.url}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.route(route="items/{id:int}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def item_by_id(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"item {req.route_params['id']}")


@app.route(route="items/latest", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def latest_item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("latest item")


@app.route(route="echo", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def echo(req: func.HttpRequest) -> func.HttpResponse:
    headers = {"X-Body-Length": str(len(req.get_body())), "X-Method": req.method}
    return func.HttpResponse(req.get_body(), headers=headers, mimetype="application/octet-stream")


@app.route(route="secure", auth_level=func.AuthLevel.FUNCTION)
def function_level(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("function level ok")


@app.route(route="admin/ping", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
def admin_level(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("admin level ok")


@app.route(route="loop", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def event_loop_id(req: func.HttpRequest) -> func.HttpResponse:
    await asyncio.sleep(0)
    return func.HttpResponse(str(id(asyncio.get_running_loop())))


@app.route(route="broken", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def broken(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("sample failure with a secret detail")


@app.timer_trigger(schedule="%SAMPLE_TIMER_SCHEDULE%", arg_name="timer")
def tick(timer: func.TimerRequest) -> None:
    _record("ticks.log", json.dumps({"past_due": timer.past_due}))


@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer", run_on_startup=True)
def on_startup(timer: func.TimerRequest) -> None:
    _record("startup.log", json.dumps({"past_due": timer.past_due}))


@app.queue_trigger(arg_name="message", queue_name="%SAMPLE_QUEUE%", connection="SAMPLE_STORAGE")
def consume(message: func.QueueMessage) -> None:
    body = message.get_body().decode("utf-8")
    if body == FAILING_MESSAGE:
        _record("failures.log", str(message.dequeue_count))
        raise ValueError("the sample consumer rejects this message")
    _record("consumed.log", body)
