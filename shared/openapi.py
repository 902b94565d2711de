"""The OpenAPI 2.0 (Swagger) document of the app's HTTP functions, for Power Automate and operators.

The document is generated from the function app itself: paths, methods and auth levels come from
the HTTP triggers, and the bodies from the pydantic models that the routes validate with and return
(listed per function name in OPERATIONS below). Generation fails when an HTTP function has no
entry in OPERATIONS, so a new route cannot ship undocumented.

Power Automate accepts OpenAPI 2.0 only, so the pydantic (JSON Schema 2020-12) schemas are converted:
`anyOf [X, null]` becomes X with `x-nullable`, enums and nested models are inlined, and `const`
becomes a one-value `enum`. Any other construct that Swagger 2.0 lacks raises OpenApiError.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, TypeAdapter

from shared import schemas
from shared.domain.model import BookingStatus, Provisioning

TITLE = "HVW CAPAC Videoloket"
VERSION = "1.0"
DESCRIPTION = (
    "Office and video appointments at HVW and CAPAC: free slots, bookings, the client's manage link, "
    "and the actions of agents and automated flows on appointments."
)
BASE_PATH = "/api"
# The committed connector file carries this host. The .invalid top-level domain never resolves, so a
# connector imported without its real host fails instead of sending function keys to someone else.
PLACEHOLDER_HOST = "replace-with-function-app-host.invalid"
SECURITY_SCHEME = "api_key"
FUNCTION_KEY_HEADER = "x-functions-key"


class OpenApiError(Exception):
    """The app's functions cannot be described in OpenAPI 2.0 as they are."""


# --- the error body -------------------------------------------------------------------------------


class ErrorDetailOut(BaseModel):
    error: str = Field(description="A stable error code, such as invalid_field or slot_taken")
    field: str | None = Field(description="The request field, query parameter or header the error is about")
    message: str = Field(description="The message in the language of the request")


# TODO: move `errors` into shared.schemas.ErrorOut, which lacks the list that functions/web.py
# error_response() sends; tests/test_openapi.py compares this model with a real error body.
class ErrorResponse(schemas.ErrorOut):
    """The body of every 4xx response that functions/web.py builds."""

    errors: list[ErrorDetailOut] = Field(description="Every problem found, the first one repeated")


class _JoinLinkParams(BaseModel):
    """The query of the join link in mails (functions/join.py reads it without a model)."""

    token: str = Field(description="The manage token of the booking")
    v: int | None = Field(default=None, description="The booking's sequence when the mail was sent")


# --- what each HTTP function takes and returns -----------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """The description of one HTTP function in the document.

    `body` and `query` are the pydantic models the route validates with; `response` is the model,
    list of models, or `dict` (any JSON object) it returns with `status`. A `body` implies the 400 and 413 errors, and a
    validated `query` the 400 error; `errors` lists the other error statuses the route can return.
    """

    summary: str
    description: str
    response: Any = None
    status: int = 200
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    # False when the route reads its query without validating it, so a bad value never gives a 400.
    query_validated: bool = True
    headers: tuple[str, ...] = ()
    errors: tuple[int, ...] = ()
    visibility: str | None = None
    produces: tuple[str, ...] = ()
    # Raw Swagger response objects, for routes that respond with HTML pages.
    other_responses: Mapping[int, dict] | None = None


_IDEMPOTENCY = "Idempotency-Key"
_MANAGE_TOKEN = "X-Manage-Token"
_LANGUAGE = "Accept-Language"

OPERATIONS: dict[str, Operation] = {
    "receive_graph_notification": Operation(
        summary="Receive Microsoft Graph change notifications",
        description=(
            "The notification URL of the meetingCallEvents subscriptions. Microsoft Graph calls it, "
            "not flows: it answers the validationToken handshake and queues notifications whose "
            "clientState matches. Off unless GRAPH_CALL_EVENTS is true."
        ),
        response=dict,
        status=202,
        query_validated=False,
        errors=(400,),
        visibility="internal",
    ),
    "get_openapi": Operation(
        summary="Get the OpenAPI document",
        description="Returns this OpenAPI 2.0 document, generated from the app's routes.",
        response=dict,
        visibility="internal",
    ),
    "list_topics": Operation(
        summary="List topics",
        description="Returns the topics a citizen can book an appointment about, named in Dutch, French and German.",
        response=list[schemas.TopicOut],
    ),
    "list_offices": Operation(
        summary="List offices",
        description="Returns the offices that take office appointments, with their names and addresses per language.",
        response=list[schemas.OfficeOut],
    ),
    "find_postcode": Operation(
        summary="Find a postal code",
        description="Returns the municipality of a Belgian postal code and the languages its residents can use.",
        response=schemas.PostcodeOut,
        headers=(_LANGUAGE,),
        errors=(404,),
    ),
    "list_slots": Operation(
        summary="List free slots",
        description="Returns the free appointment slots for a channel, topic and postal code, in Brussels time.",
        response=schemas.SlotsOut,
        query=schemas.SlotsParams,
        headers=(_LANGUAGE,),
    ),
    "create_booking": Operation(
        summary="Book an appointment",
        description=(
            "Stores a booking and returns its reference and manage token. "
            "Send an Idempotency-Key so that a retried request cannot book twice."
        ),
        response=schemas.BookingOut,
        status=201,
        body=schemas.BookingBody,
        headers=(_IDEMPOTENCY, _LANGUAGE),
        errors=(409, 422),
    ),
    "get_booking": Operation(
        summary="Get a booking",
        description="Returns a booking with masked personal data. Requires the booking's manage token.",
        response=schemas.BookingSummaryOut,
        headers=(_MANAGE_TOKEN, _LANGUAGE),
        errors=(404,),
    ),
    "cancel_booking": Operation(
        summary="Cancel a booking as the client",
        description="Cancels a booking for its client, until the appointment starts. Requires the manage token.",
        response=schemas.AppointmentOut,
        headers=(_MANAGE_TOKEN, _LANGUAGE),
        errors=(404, 409),
    ),
    "reschedule_booking": Operation(
        summary="Reschedule a booking as the client",
        description="Moves a booking to another free slot, until the appointment starts. Requires the manage token.",
        response=schemas.AppointmentOut,
        body=schemas.RescheduleBody,
        headers=(_MANAGE_TOKEN, _LANGUAGE),
        errors=(404, 409),
    ),
    "join_meeting": Operation(
        summary="Join the video meeting",
        description=(
            "The join link in mails: records that the client opened it and redirects to the meeting. "
            "Browsers follow it; flows have no use for it."
        ),
        query=_JoinLinkParams,
        query_validated=False,
        status=302,
        errors=(404,),
        visibility="internal",
        produces=("text/html", "application/json"),
        other_responses={
            410: {
                "description": "A page saying the appointment was cancelled, moved, or is over",
                "schema": {"type": "string"},
            },
            503: {"description": "A page saying the meeting is not ready yet", "schema": {"type": "string"}},
        },
    ),
    "record_signal": Operation(
        summary="Record a presence signal",
        description=(
            "Records that the agent joined, that the client is present, or that the client's identity was "
            "checked. Signals count from 60 minutes before the start, and a repeated signal changes nothing."
        ),
        response=schemas.AppointmentOut,
        body=schemas.SignalBody,
        headers=(_LANGUAGE,),
        errors=(404, 409),
        visibility="important",
    ),
    "end_appointment": Operation(
        summary="End an appointment",
        description=(
            "Closes a booked appointment with its outcome. The outcome technical_problem leaves it "
            "to_reschedule instead of ended."
        ),
        response=schemas.AppointmentOut,
        body=schemas.EndBody,
        headers=(_LANGUAGE,),
        errors=(404, 409),
        visibility="important",
    ),
    "cancel_appointment": Operation(
        summary="Cancel an appointment for the agency",
        description="Cancels a booked or to_reschedule appointment on behalf of the agency, with a reason.",
        response=schemas.AppointmentOut,
        body=schemas.AgencyCancelBody,
        headers=(_LANGUAGE,),
        errors=(404, 409),
        visibility="important",
    ),
    "reschedule_appointment": Operation(
        summary="Reschedule an appointment for the agency",
        description="Moves a booked or to_reschedule appointment to another free slot, with a reason.",
        response=schemas.AppointmentOut,
        body=schemas.AgencyRescheduleBody,
        headers=(_LANGUAGE,),
        errors=(404, 409),
        visibility="important",
    ),
    "get_agenda": Operation(
        summary="Get the agenda of a counter",
        description=(
            "Returns the appointments of one counter on one day with their presence signals. Client contact "
            "details are included only while an appointment is to_reschedule."
        ),
        response=schemas.AgendaOut,
        query=schemas.AgendaParams,
        headers=(_LANGUAGE,),
        visibility="important",
    ),
}

HEADER_PARAMETERS: dict[str, dict] = {
    _IDEMPOTENCY: {
        "type": "string",
        "minLength": 1,
        "maxLength": 200,
        "required": False,
        "x-ms-summary": "Idempotency Key",
        "description": (
            "A new unique value per booking attempt. A retry with the same key and body returns the first "
            "booking; the same key with another body is rejected."
        ),
    },
    _MANAGE_TOKEN: {
        "type": "string",
        "required": True,
        "x-ms-summary": "Manage Token",
        "description": "The manage token returned at booking, also carried by the manage link in mails.",
    },
    _LANGUAGE: {
        "type": "string",
        "required": False,
        "x-ms-summary": "Message Language",
        "description": (
            "The language of error messages: nl, fr or de, else Dutch. A lang query parameter takes precedence."
        ),
    },
}

PATH_PARAMETERS: dict[str, dict] = {
    "reference": {"x-ms-summary": "Reference", "description": "The appointment's reference, as in its mails"},
    "postcode": {"x-ms-summary": "Postal Code", "description": "A Belgian postal code of 4 digits"},
}

_ERROR_DESCRIPTIONS = {
    400: "Invalid request: the body names the field and the error code",
    404: "No booking matches this reference and token, or the postal code is unknown",
    409: "The appointment's state does not allow this change, or the slot was just taken",
    413: "The request body is larger than the MAX_REQUEST_BYTES setting allows",
    422: "The Idempotency-Key was already used for a different booking request",
}

# Response fields that flows use most; Power Automate lists them first.
_MAIN_RESPONSE_FIELDS = frozenset({"reference", "status", "status_reason", "outcome", "start", "end"})
_SUMMARIES = {"from": "First Day", "to": "Last Day", "v": "Link Version", "id": "ID", "postcode": "Postal Code"}
# Response fields that are plain strings in the models but always hold one of these values.
_FIELD_DESCRIPTIONS = {
    "status": "One of: " + ", ".join(BookingStatus),
    "provisioning": "One of: " + ", ".join(Provisioning),
}


# --- reading the app -----------------------------------------------------------------------------


def http_functions(app) -> list:
    """Return the HTTP functions of a FunctionApp without calling app.get_functions().

    get_functions() raises when called a second time on the same app, and the worker calls it at
    start-up, so this builds the functions from the builders that register_functions() collected.
    FunctionBuilder.build() returns the same Function object on every call.
    """
    # NOTE: _function_builders is private to azure-functions (checked with 1.26.0).
    builders = getattr(app, "_function_builders", None)
    if builders is None:
        raise OpenApiError(
            f"{type(app).__name__} has no _function_builders attribute: this azure-functions version "
            "stores its functions differently, so update http_functions() in shared/openapi.py"
        )
    functions = [builder.build(app.auth_level) for builder in builders]
    return [function for function in functions if function.is_http_function()]


def served_document(app, public_base_url: str) -> dict:
    """Build the document with the host and scheme of `public_base_url` (the PUBLIC_API_BASE_URL setting)."""
    parts = urlsplit(public_base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OpenApiError(f"PUBLIC_API_BASE_URL must be an http or https URL with a host, got {public_base_url!r}")
    return build_document(
        http_functions(app), host=parts.netloc, schemes=[parts.scheme], base_path=parts.path.rstrip("/") + BASE_PATH
    )


def connector_document(app, host: str = PLACEHOLDER_HOST) -> dict:
    """Build the document for the Power Automate connector: https on `host`."""
    return build_document(http_functions(app), host=host, schemes=["https"])


def render(document: dict) -> str:
    """Serialize a document the same way every time, so that a committed copy can be compared."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- the document --------------------------------------------------------------------------------


def build_document(
    functions: Iterable,
    *,
    host: str,
    schemes: list[str],
    base_path: str = BASE_PATH,
    operations: Mapping[str, Operation] = OPERATIONS,
) -> dict:
    """Describe `functions` (azure.functions Function objects of HTTP triggers) as a Swagger 2.0 document.

    Raises OpenApiError when a function has no entry in `operations`, accepts every method, or uses a
    model that Swagger 2.0 cannot express.
    """
    definitions = _Definitions()
    paths: dict[str, dict] = {}
    operation_ids: dict[str, str] = {}
    for function in functions:
        name = function.get_function_name()
        trigger = function.get_trigger().get_dict_repr()
        route = trigger.get("route") or name
        entry = operations.get(name)
        if entry is None:
            raise OpenApiError(
                f"HTTP function {name} (route {route}) has no entry in OPERATIONS in shared/openapi.py: "
                "add its summary, request, query and response models there"
            )
        methods = trigger.get("methods")
        if not methods:
            raise OpenApiError(f"HTTP function {name} (route {route}) accepts every method: list its methods")
        path, path_names = _swagger_path(route)
        anonymous = _auth_level(trigger) == "anonymous"
        for method in methods:
            verb = str(getattr(method, "value", method)).lower()
            # A function with several methods gets one operation per method, each with its own id.
            operation_id = _camel_case(name) + (verb.capitalize() if len(methods) > 1 else "")
            if operation_id in operation_ids:
                raise OpenApiError(f"functions {operation_ids[operation_id]} and {name} share the operationId {operation_id}")
            operation_ids[operation_id] = name
            if verb in paths.get(path, {}):
                raise OpenApiError(f"{verb.upper()} {path} is routed to two functions, the second is {name}")
            paths.setdefault(path, {})[verb] = _operation(operation_id, entry, path_names, anonymous, definitions)

    return {
        "swagger": "2.0",
        "info": {"title": TITLE, "description": DESCRIPTION, "version": VERSION},
        "host": host,
        "basePath": base_path,
        "schemes": schemes,
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": {path: paths[path] for path in sorted(paths)},
        "definitions": definitions.sorted(),
        "securityDefinitions": {SECURITY_SCHEME: {"type": "apiKey", "in": "header", "name": FUNCTION_KEY_HEADER}},
        "security": [{SECURITY_SCHEME: []}],
    }


def _camel_case(function_name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in function_name.split("_") if part)


def _auth_level(trigger: dict) -> str:
    level = trigger.get("authLevel")
    return str(getattr(level, "value", level)).lower()


def _swagger_path(route: str) -> tuple[str, list[str]]:
    """Turn a Functions route template into a Swagger path: `{id:int?}` becomes `{id}`."""
    names: list[str] = []

    def strip_constraints(match: re.Match) -> str:
        name = match.group(1).lstrip("*").split(":")[0].rstrip("?")
        names.append(name)
        return "{" + name + "}"

    return "/" + re.sub(r"\{([^}]+)\}", strip_constraints, route.strip("/")), names


def _operation(operation_id: str, entry: Operation, path_names: list[str], anonymous: bool, definitions) -> dict:
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": entry.summary,
        "description": entry.description,
    }
    if entry.visibility:
        operation["x-ms-visibility"] = entry.visibility
    if entry.produces:
        operation["produces"] = list(entry.produces)
    parameters = [_path_parameter(name) for name in path_names]
    if entry.query is not None:
        parameters += _query_parameters(entry.query)
    parameters += [_header_parameter(name) for name in entry.headers]
    if entry.body is not None:
        parameters.append({
            "name": "body",
            "in": "body",
            "required": True,
            "x-ms-summary": "Body",
            "schema": definitions.reference(entry.body, "validation"),
        })
    if parameters:
        operation["parameters"] = parameters
    operation["responses"] = _responses(entry, definitions)
    if anonymous:
        operation["security"] = []
    return operation


def _path_parameter(name: str) -> dict:
    texts = PATH_PARAMETERS.get(name, {"x-ms-summary": _summary(name)})
    return {"name": name, "in": "path", "required": True, "type": "string", "x-ms-visibility": "important", **texts}


def _header_parameter(name: str) -> dict:
    if name not in HEADER_PARAMETERS:
        raise OpenApiError(f"header {name} has no entry in HEADER_PARAMETERS in shared/openapi.py")
    header = HEADER_PARAMETERS[name]
    visibility = "important" if header["required"] else "advanced"
    return {"name": name, "in": "header", **header, "x-ms-visibility": visibility}


_PRIMITIVES = ("string", "integer", "number", "boolean")
_NON_BODY_KEYWORDS = (
    "type", "format", "items", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems", "default", "description",
    "x-ms-summary",
)


def _query_parameters(model: type[BaseModel]) -> list[dict]:
    """Turn a query model's fields into query parameters, named by their aliases (`from`, `to`, `date`)."""
    schema = _convert(TypeAdapter(model).json_schema(mode="validation", ref_template=_REF_TEMPLATE), model.__name__)
    required = set(schema.get("required", ()))
    parameters = []
    for name, field in schema["properties"].items():
        item_type = field.get("items", {}).get("type")
        if field.get("type") not in _PRIMITIVES and not (field.get("type") == "array" and item_type in _PRIMITIVES):
            raise OpenApiError(f"query parameter {name} of {model.__name__} is not a primitive value or a list of them")
        parameter = {"name": name, "in": "query", "required": name in required}
        parameter.update({key: field[key] for key in _NON_BODY_KEYWORDS if key in field})
        parameter["x-ms-visibility"] = "important" if name in required else "advanced"
        parameters.append(parameter)
    return parameters


def _responses(entry: Operation, definitions) -> dict:
    success: dict[str, Any] = {"description": _success_description(entry.status)}
    if entry.response is not None:
        success["schema"] = definitions.response_schema(entry.response)
    if entry.status == 201:
        success["headers"] = {
            "Location": {"type": "string", "description": "The path of the new booking"},
            "Idempotent-Replayed": {"type": "string", "description": "true when the Idempotency-Key was seen before"},
        }
    if entry.status == 302:
        success["headers"] = {"Location": {"type": "string", "description": "The meeting's join URL"}}
    responses: dict[str, dict] = {str(entry.status): success}

    statuses = set(entry.errors)
    if entry.body is not None:
        statuses |= {400, 413}
    if entry.query is not None and entry.query_validated:
        statuses.add(400)
    for status in sorted(statuses):
        if status not in _ERROR_DESCRIPTIONS:
            raise OpenApiError(f"error status {status} has no description in _ERROR_DESCRIPTIONS")
        responses[str(status)] = {"description": _ERROR_DESCRIPTIONS[status], "schema": definitions.error()}
    for status, response in sorted((entry.other_responses or {}).items()):
        responses[str(status)] = response
    return responses


def _success_description(status: int) -> str:
    return {200: "OK", 201: "Created", 302: "Redirect to the meeting"}.get(status, "Success")


# --- pydantic JSON Schema to Swagger 2.0 ---------------------------------------------------------

_REF_TEMPLATE = "#/definitions/{model}"
_REF_PREFIX = "#/definitions/"

# Schema keywords that mean the same in Swagger 2.0 and are copied as they are.
_COPIED_KEYWORDS = frozenset({
    "type", "format", "description", "pattern", "minLength", "maxLength", "minimum", "maximum",
    "multipleOf", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "enum",
    "readOnly",
})


class _Definitions:
    """The `definitions` section: one entry per top-level request, response or error model."""

    def __init__(self) -> None:
        self._schemas: dict[str, dict] = {}
        self._models: dict[str, type] = {}

    def reference(self, model: type[BaseModel], mode: str) -> dict:
        name = model.__name__
        known = self._models.get(name)
        if known is not None and known is not model:
            raise OpenApiError(f"two different models are named {name}: rename one of them")
        if known is None:
            raw = TypeAdapter(model).json_schema(mode=mode, ref_template=_REF_TEMPLATE)
            schema = _convert(raw, name, response=mode == "serialization")
            schema.pop("description", None)  # the model docstring is written for developers
            self._schemas[name] = schema
            self._models[name] = model
        return {"$ref": _REF_PREFIX + name}

    def response_schema(self, response: Any) -> dict:
        if response is dict:
            return {"type": "object"}
        if get_origin(response) is list:
            (item,) = get_args(response)
            return {"type": "array", "items": self.reference(item, "serialization")}
        if isinstance(response, type) and issubclass(response, BaseModel):
            return self.reference(response, "serialization")
        raise OpenApiError(f"cannot describe the response type {response!r}: use a pydantic model or a list of one")

    def error(self) -> dict:
        return self.reference(ErrorResponse, "serialization")

    def sorted(self) -> dict:
        return {name: self._schemas[name] for name in sorted(self._schemas)}


def _convert(schema: dict, where: str, *, response: bool = False) -> dict:
    """Convert a pydantic JSON schema to a self-contained Swagger 2.0 schema, inlining its $defs."""
    return _Converter(schema.get("$defs", {}), response).convert(schema, where)


class _Converter:
    def __init__(self, defs: dict, response: bool) -> None:
        self._defs = defs
        self._response = response
        self._resolving: list[str] = []

    def convert(self, schema: dict, where: str) -> dict:
        if "$ref" in schema:
            return self._inline(schema, where)
        if "anyOf" in schema:
            return self._nullable(schema, where)
        unsupported = set(schema) - _COPIED_KEYWORDS - {
            "title", "default", "const", "examples", "required", "properties", "items", "additionalProperties",
            "exclusiveMinimum", "exclusiveMaximum", "$defs",
        }
        if unsupported:
            raise OpenApiError(f"{where}: Swagger 2.0 has no {', '.join(sorted(unsupported))}")

        result = {key: value for key, value in schema.items() if key in _COPIED_KEYWORDS}
        if "const" in schema:
            result["enum"] = [schema["const"]]
        if schema.get("default") is not None:
            result["default"] = schema["default"]
        if schema.get("examples"):
            result["example"] = schema["examples"][0]
        for keyword, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if keyword in schema:  # a number in JSON Schema 2020-12, a flag next to the limit in Swagger 2.0
                result[limit] = schema[keyword]
                result[keyword] = True
        if "items" in schema:
            result["items"] = self.convert(schema["items"], f"{where}[]")
        if isinstance(schema.get("additionalProperties"), dict):
            result["additionalProperties"] = self.convert(schema["additionalProperties"], f"{where}{{}}")
        elif "additionalProperties" in schema:
            result["additionalProperties"] = schema["additionalProperties"]
        if "properties" in schema:
            self._add_properties(result, schema, where)
        return result

    def _add_properties(self, result: dict, schema: dict, where: str) -> None:
        required = list(schema.get("required", ()))
        properties = {}
        for name, field in schema["properties"].items():
            converted = self.convert(field, f"{where}.{name}")
            converted["x-ms-summary"] = _summary(name)
            if self._response and name in _FIELD_DESCRIPTIONS and "description" not in converted:
                converted["description"] = _FIELD_DESCRIPTIONS[name]
            if self._response:
                if name in _MAIN_RESPONSE_FIELDS:
                    converted["x-ms-visibility"] = "important"
            else:
                converted["x-ms-visibility"] = "important" if name in required else "advanced"
            properties[name] = converted
        result["properties"] = properties
        if required:
            result["required"] = required

    def _inline(self, schema: dict, where: str) -> dict:
        name = schema["$ref"].removeprefix(_REF_PREFIX)
        if name not in self._defs:
            raise OpenApiError(f"{where}: unknown reference {schema['$ref']}")
        if name in self._resolving:
            raise OpenApiError(f"{where}: {name} refers to itself, which cannot be inlined")
        self._resolving.append(name)
        try:
            inlined = self.convert(self._defs[name], where)
        finally:
            self._resolving.pop()
        inlined.pop("description", None)  # a model or enum docstring; the field's own description follows
        siblings = {key: value for key, value in schema.items() if key != "$ref"}
        return {**inlined, **self.convert(siblings, where)} if siblings else inlined

    def _nullable(self, schema: dict, where: str) -> dict:
        options = schema["anyOf"]
        others = [option for option in options if option != {"type": "null"}]
        if len(options) != 2 or len(others) != 1:
            raise OpenApiError(f"{where}: Swagger 2.0 has no anyOf; only `X | None` is supported")
        converted = self.convert(others[0], where)
        siblings = {key: value for key, value in schema.items() if key != "anyOf"}
        converted.update(self.convert(siblings, where))
        converted["x-nullable"] = True
        return converted


def _summary(name: str) -> str:
    """Return the Power Automate label of a field: `agent_id` becomes "Agent ID"."""
    if name in _SUMMARIES:
        return _SUMMARIES[name]
    return " ".join(_SUMMARIES.get(word, word.capitalize()) for word in name.split("_"))
