"""HTTP plumbing shared by the triggers: JSON bodies, validation errors, and the error-to-status table."""

from __future__ import annotations

import functools
import json
import logging
from typing import Any, Callable

import azure.functions as func

from shared.domain import errors
from shared.msgids import N_

logger = logging.getLogger(__name__)

LANGUAGES = ("nl", "fr", "de")

STATUS_BY_ERROR: dict[type[errors.BookingError], int] = {
    errors.SlotTaken: 409,
    errors.AlreadyBooked: 409,
    errors.IdempotencyKeyReused: 422,
    errors.BookingNotFound: 404,
    errors.PostcodeNotFound: 404,
    errors.AppointmentStarted: 409,
    errors.AppointmentClosed: 409,
    errors.AppointmentNotStarted: 409,
    errors.ConcurrentChange: 409,
}

_BASE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

_GENERIC_MESSAGES = {
    "missing": N_("This field is required."),
    "office_required": N_("This field is required."),
    "extra_forbidden": N_("This field is not allowed: {field}."),
    "office_not_allowed": N_("This field is not allowed: {field}."),
    "string_too_long": N_("This value is too long. The maximum is {limit} characters."),
}
_WRONG_TYPE = N_("This value has the wrong type. Expected: {expected}.")
_INVALID_DATE = N_("This date is not valid. Use the form YYYY-MM-DD.")
_INVALID_CHOICE = N_("This value is not one of the allowed values: {expected}.")


class RequestRejected(Exception):
    """A request rejected before it reaches the services: too large, not JSON, or with invalid fields."""

    def __init__(self, status: int, problems: list[errors.BookingError]) -> None:
        super().__init__(status)
        self.status = status
        self.problems = problems


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    from pydantic import BaseModel

    if isinstance(body, BaseModel):
        payload = body.model_dump_json()
    else:
        payload = json.dumps(body, ensure_ascii=False, default=_encode)
    return func.HttpResponse(
        payload, status_code=status, mimetype="application/json", charset="utf-8",
        headers={**_BASE_HEADERS, **(headers or {})},
    )


def _encode(value: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot encode {type(value).__name__}")


def read_json(req: func.HttpRequest, max_bytes: int) -> dict:
    """Return the JSON object in the body, or raise RequestRejected (413 over `max_bytes`, 400 otherwise)."""
    body = req.get_body() or b""
    if len(body) > max_bytes:
        raise RequestRejected(
            413, [errors.BodyTooLarge(None, limit=max_bytes)]
        )
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise RequestRejected(400, [errors.InvalidBody(None)])
    return data


def query_params(req: func.HttpRequest) -> dict:
    """The query parameters that belong to the operation: without `lang` (message language) and
    `code` (a function key, which the platform checks)."""
    return {key: value for key, value in req.params.items() if key not in ("lang", "code")}


def validate(model, data: dict) -> Any:
    """Return `model` validated from `data`, or raise RequestRejected listing every invalid field."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise RequestRejected(400, [_problem(item) for item in error.errors(include_input=False)]) from None


def _problem(item: dict) -> errors.BookingError:
    """Turn one pydantic error into a coded problem with a catalog msgid. Never echoes the input."""
    from shared.schemas import INVALID_START

    kind = item["type"]
    field = ".".join(str(part) for part in item["loc"]) or None
    context = item.get("ctx") or {}
    if kind in _OWN_CODES:
        return errors.InvalidField(field, item["msg"])
    if kind in ("office_required", "office_not_allowed"):
        field = "office"
    if kind in _GENERIC_MESSAGES:
        return errors.InvalidField(field, _GENERIC_MESSAGES[kind], {"field": field, "limit": context.get("max_length")})
    if kind.startswith("datetime"):
        return errors.InvalidField(field, INVALID_START)
    if kind.startswith("date"):
        return errors.InvalidField(field, _INVALID_DATE)
    if kind == "enum":
        # pydantic joins the last two values with an English "or"; a plain list reads in every language.
        expected = str(context.get("expected", "")).replace(" or ", ", ")
        return errors.InvalidField(field, _INVALID_CHOICE, expected=expected)
    return errors.InvalidField(field, _WRONG_TYPE, expected=_expected(kind, context))


# Codes of our own checks in shared/schemas.py: their message is already a catalog msgid.
_OWN_CODES = {
    "invalid_characters", "invalid_national_number", "invalid_email", "invalid_phone", "invalid_start", "start_in_gap",
}


def _expected(kind: str, context: dict) -> str:
    """Return the expected form as a technical token (a pattern or a JSON type) that needs no translation."""
    if "pattern" in context:
        return str(context["pattern"])
    return kind.removesuffix("_type")


def message_language(req: func.HttpRequest) -> str:
    from shared.i18n import pick_language

    return pick_language(req.params.get("lang") or req.headers.get("Accept-Language"))


def error_response(req: func.HttpRequest, status: int, problems: list[errors.BookingError]) -> func.HttpResponse:
    from shared.i18n import translate

    def render(problem: errors.BookingError, language: str) -> str:
        return translate(problem.message, language, **problem.params)

    language = message_language(req)
    first = problems[0]
    body = {
        "error": first.code,
        "field": first.field,
        "message": render(first, language),
        "messages": {lang: render(first, lang) for lang in LANGUAGES},
        "errors": [
            {"error": p.code, "field": p.field, "message": render(p, language)} for p in problems
        ],
    }
    return json_response(body, status)


def handle_errors(function: Callable[[func.HttpRequest], func.HttpResponse]):
    """Map the exception family to HTTP statuses in one place. Logs codes and ids, never input."""

    @functools.wraps(function)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        try:
            return function(req)
        except RequestRejected as rejected:
            logger.info("rejected request: %s", rejected.problems[0].code, extra={"route": req.url.split("?")[0]})
            return error_response(req, rejected.status, rejected.problems)
        except errors.BookingError as error:
            status = STATUS_BY_ERROR.get(type(error), 400)
            logger.info("request failed: %s on %s", error.code, error.field)
            return error_response(req, status, [error])

    return wrapper
