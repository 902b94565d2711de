"""Calling the function app's own routes in-process, the way the Functions host does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import azure.functions as func

import function_app

_FUNCTIONS = None


def functions() -> dict:
    """The app's functions by name; get_functions() may run only once per app object."""
    global _FUNCTIONS
    if _FUNCTIONS is None:
        _FUNCTIONS = {f.get_function_name(): f for f in function_app.app.get_functions()}
    return _FUNCTIONS


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


def call(name: str, method: str = "GET", *, params=None, route=None, body=None, headers=None, raw: bytes | None = None) -> Response:
    function = functions()[name]
    trigger = function.get_trigger().get_dict_repr()
    route_text = trigger.get("route", name)
    for key, value in (route or {}).items():
        route_text = route_text.replace("{" + key + "}", value)
    payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    request = func.HttpRequest(
        method, f"http://127.0.0.1:7071/api/{route_text}",
        params=params or {}, route_params=route or {}, headers=headers or {}, body=payload,
    )
    response = function.get_user_function()(request)
    return Response(response.status_code, dict(response.headers), response.get_body())


class SettableClock:
    """A clock the test moves by hand."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta) -> None:
        self.moment += timedelta(**delta)
