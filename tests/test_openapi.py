"""The OpenAPI 2.0 document: valid Swagger, complete, served as generated, committed as generated."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Literal

import azure.functions as func
import jsonschema
import pytest
from openapi_spec_validator import OpenAPIV2SpecValidator, validate
from pydantic import BaseModel

import function_app
from functions import openapi as openapi_function
from shared import openapi
from shared.openapi import OPERATIONS, OpenApiError, build_document, connector_document, http_functions, render
from shared.settings import get_settings
from tests.api import call, functions

REPO_ROOT = Path(__file__).resolve().parent.parent
COMMITTED_DEFINITION = REPO_ROOT / "connector" / "apiDefinition.swagger.json"
VERBS = ("get", "put", "post", "delete", "options", "head", "patch")


@pytest.fixture(scope="module")
def document() -> dict:
    return connector_document(function_app.app)


def operations_of(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (path, verb, operation)
        for path, item in document["paths"].items()
        for verb, operation in item.items()
        if verb in VERBS
    ]


def schema_nodes(node, where: str = "#"):
    """Yield (where, schema) for every schema object below `node`, including nested properties and items."""
    if isinstance(node, dict):
        yield where, node
        for name, child in node.get("properties", {}).items():
            yield from schema_nodes(child, f"{where}.{name}")
        if isinstance(node.get("items"), dict):
            yield from schema_nodes(node["items"], f"{where}[]")
        if isinstance(node.get("additionalProperties"), dict):
            yield from schema_nodes(node["additionalProperties"], f"{where}{{}}")


def tiny_app(route_name: str, **route) -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

    @app.function_name(route_name)
    @app.route(**route)
    def handler(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("ok")

    return app


def as_json_schema(schema: dict, definitions: dict) -> dict:
    """Turn a Swagger 2.0 schema into plain JSON Schema: x-nullable becomes a null type."""
    if "$ref" in schema:
        return as_json_schema(definitions[schema["$ref"].removeprefix("#/definitions/")], definitions)
    result = {key: value for key, value in schema.items() if not key.startswith("x-")}
    if schema.get("x-nullable"):
        result["type"] = [schema["type"], "null"]
        if "enum" in result:
            result["enum"] = [*result["enum"], None]
    if "properties" in schema:
        result["properties"] = {name: as_json_schema(child, definitions) for name, child in schema["properties"].items()}
    if isinstance(schema.get("items"), dict):
        result["items"] = as_json_schema(schema["items"], definitions)
    if isinstance(schema.get("additionalProperties"), dict):
        result["additionalProperties"] = as_json_schema(schema["additionalProperties"], definitions)
    return result


# --- validity and completeness ---------------------------------------------------------------------


def test_document_is_valid_swagger_2(document):
    validate(document, cls=OpenAPIV2SpecValidator)


def test_served_document_with_local_host_is_valid(monkeypatch):
    monkeypatch.setenv("PUBLIC_API_BASE_URL", "http://127.0.0.1:7071")
    get_settings.cache_clear()

    served = openapi.served_document(function_app.app, get_settings().public_api_base_url)

    validate(served, cls=OpenAPIV2SpecValidator)
    assert served["host"] == "127.0.0.1:7071"
    assert served["schemes"] == ["http"]
    get_settings.cache_clear()


def test_every_http_route_has_path_and_method(document):
    documented = {(path, verb): operation["operationId"] for path, verb, operation in operations_of(document)}

    for name, function in functions().items():
        if not function.is_http_function():
            continue
        trigger = function.get_trigger().get_dict_repr()
        path = "/" + re.sub(r"\{([^}:?]+)[^}]*\}", r"{\1}", trigger["route"])
        for method in trigger["methods"]:
            key = (path, str(getattr(method, "value", method)).lower())
            assert key in documented, f"{name}: {key} is not in the document"
            assert documented[key] == openapi._camel_case(name)


def test_every_operations_entry_names_an_http_function():
    http_names = {name for name, function in functions().items() if function.is_http_function()}

    stale = set(OPERATIONS) - http_names

    assert not stale, f"OPERATIONS describes functions the app does not have: {sorted(stale)}"


def test_unmapped_route_fails_generation():
    app = tiny_app("list_widgets", route="widgets", methods=["GET"])

    with pytest.raises(OpenApiError, match=r"list_widgets \(route widgets\) has no entry in OPERATIONS"):
        build_document(http_functions(app), host="example.invalid", schemes=["https"])


def test_route_without_methods_fails_generation():
    app = tiny_app("list_topics", route="topics")

    with pytest.raises(OpenApiError, match="accepts every method"):
        build_document(http_functions(app), host="example.invalid", schemes=["https"])


def test_reading_routes_leaves_get_functions_usable():
    app = tiny_app("list_topics", route="topics", methods=["GET"])

    http_functions(app)
    http_functions(app)

    assert [f.get_function_name() for f in app.get_functions()] == ["list_topics"]


def test_route_constraints_become_plain_path_parameters():
    app = tiny_app("get_booking", route="bookings/{reference:alpha}", methods=["GET"])

    document = build_document(http_functions(app), host="example.invalid", schemes=["https"])

    assert list(document["paths"]) == ["/bookings/{reference}"]
    parameter = document["paths"]["/bookings/{reference}"]["get"]["parameters"][0]
    assert parameter["name"] == "reference"
    assert parameter["in"] == "path"


# --- served and committed copies ----------------------------------------------------------------


def test_served_document_equals_generated(monkeypatch):
    monkeypatch.setenv("PUBLIC_API_BASE_URL", "https://videoloket.example.org")
    get_settings.cache_clear()
    request = func.HttpRequest("GET", "https://videoloket.example.org/api/openapi.json", body=b"")

    response = openapi_function.get_openapi.build().get_user_function()(request)

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    served = json.loads(response.get_body())
    assert served == openapi.served_document(function_app.app, "https://videoloket.example.org")
    assert served["host"] == "videoloket.example.org"
    assert served["basePath"] == "/api"
    get_settings.cache_clear()


def test_base_url_path_prefixes_base_path():
    served = openapi.served_document(function_app.app, "https://gateway.example.org/videoloket/")

    assert served["host"] == "gateway.example.org"
    assert served["basePath"] == "/videoloket/api"


def test_base_url_without_host_is_rejected():
    with pytest.raises(OpenApiError, match="PUBLIC_API_BASE_URL"):
        openapi.served_document(function_app.app, "videoloket.example.org")


def test_committed_connector_definition_is_current(document):
    committed = COMMITTED_DEFINITION.read_text(encoding="utf-8")

    assert committed == render(document), "connector/ is out of date: run python -m tools.connector"


# --- what Power Automate needs ----------------------------------------------------------------


def test_info_follows_connector_rules(document):
    info = document["info"]

    assert len(info["title"]) <= 30
    assert not re.search(r"\bAPI\b", info["title"] + " " + info["description"])


def test_operations_have_unique_camel_case_ids(document):
    ids = [operation["operationId"] for _, _, operation in operations_of(document)]

    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", operation_id), operation_id


def test_operation_summaries_follow_connector_rules(document):
    for path, verb, operation in operations_of(document):
        summary = operation["summary"]
        assert len(summary) <= 80, f"{verb} {path}"
        assert "/" not in summary, f"{verb} {path}"
        assert summary[-1].isalnum(), f"{verb} {path}: the summary ends with {summary[-1]!r}"
        assert operation["description"], f"{verb} {path}"


def test_every_parameter_has_summary(document):
    for path, verb, operation in operations_of(document):
        for parameter in operation.get("parameters", []):
            summary = parameter.get("x-ms-summary", "")
            assert summary, f"{verb} {path}: parameter {parameter['name']}"
            assert len(summary) <= 80


def test_every_schema_property_has_summary(document):
    for name, definition in document["definitions"].items():
        for where, node in schema_nodes(definition, name):
            for field, child in node.get("properties", {}).items():
                assert child.get("x-ms-summary"), f"{where}.{field}"


def test_required_inputs_are_important(document):
    for path, verb, operation in operations_of(document):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "body":
                continue
            expected = "important" if parameter["required"] else "advanced"
            assert parameter["x-ms-visibility"] == expected, f"{verb} {path}: {parameter['name']}"


def test_agent_operations_are_important(document):
    ids = {operation["operationId"]: operation for _, _, operation in operations_of(document)}

    for operation_id in ("RecordSignal", "EndAppointment", "CancelAppointment", "RescheduleAppointment", "GetAgenda"):
        assert ids[operation_id]["x-ms-visibility"] == "important"


def test_security_follows_auth_level(document):
    by_id = {operation["operationId"]: operation for _, _, operation in operations_of(document)}

    assert document["securityDefinitions"] == {"api_key": {"type": "apiKey", "in": "header", "name": "x-functions-key"}}
    assert document["security"] == [{"api_key": []}]
    for name, function in functions().items():
        if not function.is_http_function():
            continue
        level = function.get_trigger().get_dict_repr()["authLevel"]
        operation = by_id[openapi._camel_case(name)]
        if level is func.AuthLevel.ANONYMOUS:
            assert operation["security"] == [], name
        else:
            assert "security" not in operation, name


# --- the schemas ---------------------------------------------------------------------------------


def test_document_has_no_json_schema_only_keywords(document):
    for name, definition in document["definitions"].items():
        for where, node in schema_nodes(definition, name):
            for keyword in ("anyOf", "oneOf", "const", "$defs", "prefixItems", "title"):
                assert keyword not in node, f"{where} has {keyword}"
            assert node.get("type") != "null", where


def test_optional_fields_are_nullable(document):
    signal = document["definitions"]["SignalBody"]["properties"]

    assert signal["agent_id"]["x-nullable"] is True
    assert signal["agent_id"]["type"] == "string"
    assert "x-nullable" not in signal["signal"]


def test_enums_are_inlined(document):
    signal = document["definitions"]["SignalBody"]["properties"]["signal"]

    assert signal["type"] == "string"
    assert signal["enum"] == ["agent_joined", "client_present", "identity_verified"]


def test_query_parameters_use_aliases(document):
    slots = {p["name"]: p for p in document["paths"]["/slots"]["get"]["parameters"]}
    agenda = {p["name"]: p for p in document["paths"]["/agenda"]["get"]["parameters"]}

    assert slots["from"]["format"] == "date"
    assert slots["to"]["required"] is False
    assert slots["channel"]["enum"] == ["video", "office"]
    assert agenda["date"]["required"] is True
    assert agenda["counter"]["required"] is True


def test_headers_are_documented(document):
    def headers(path: str, verb: str) -> dict:
        return {p["name"]: p for p in document["paths"][path][verb]["parameters"] if p["in"] == "header"}

    assert headers("/bookings", "post")["Idempotency-Key"]["required"] is False
    assert headers("/bookings/{reference}", "get")["X-Manage-Token"]["required"] is True
    assert headers("/bookings/{reference}/cancel", "post")["X-Manage-Token"]["required"] is True
    assert "Accept-Language" in headers("/appointments/{reference}/signals", "post")


def test_error_responses_use_error_definition(document):
    create = document["paths"]["/bookings"]["post"]["responses"]
    signal = document["paths"]["/appointments/{reference}/signals"]["post"]["responses"]

    assert sorted(create) == ["201", "400", "409", "413", "422"]
    assert sorted(signal) == ["200", "400", "404", "409", "413"]
    for status in ("400", "409", "413", "422"):
        assert create[status]["schema"] == {"$ref": "#/definitions/ErrorResponse"}
    assert create["201"]["headers"]["Location"]["type"] == "string"


def test_error_definition_matches_real_error_body(document):
    definition = document["definitions"]["ErrorResponse"]

    response = call("get_agenda", params={"date": "not-a-date"}, headers={"Accept-Language": "fr"})

    assert response.status == 400
    body = response.json()
    assert set(body) == set(definition["properties"])
    assert set(body["errors"][0]) == set(definition["properties"]["errors"]["items"]["properties"])
    jsonschema.validate(body, as_json_schema(definition, document["definitions"]))


def test_postcode_response_matches_definition(document):
    response = call("find_postcode", route={"postcode": "1000"})

    assert response.status == 200
    jsonschema.validate(response.json(), as_json_schema(document["definitions"]["PostcodeOut"], document["definitions"]))


# --- the converter on its own --------------------------------------------------------------------


class Shade(StrEnum):
    LIGHT = "light"


class Constant(BaseModel):
    shade: Shade
    kind: Literal["fixed"]
    fixed: int = 3


class Ambiguous(BaseModel):
    value: int | str


def converted(model: type[BaseModel]) -> dict:
    from pydantic import TypeAdapter

    return openapi._convert(TypeAdapter(model).json_schema(ref_template="#/definitions/{model}"), model.__name__)


def test_converter_keeps_non_null_defaults():
    schema = converted(Constant)

    assert schema["properties"]["fixed"]["default"] == 3
    assert schema["properties"]["shade"]["enum"] == ["light"]
    assert schema["properties"]["kind"]["enum"] == ["fixed"]


def test_converter_rejects_unions():
    with pytest.raises(OpenApiError, match=r"Ambiguous.value: Swagger 2.0 has no anyOf"):
        converted(Ambiguous)


def test_function_with_two_methods_gets_two_operation_ids():
    app = tiny_app("list_topics", route="topics", methods=["GET", "HEAD"])

    document = build_document(http_functions(app), host="example.invalid", schemes=["https"])

    topics = document["paths"]["/topics"]
    assert topics["get"]["operationId"] == "ListTopicsGet"
    assert topics["head"]["operationId"] == "ListTopicsHead"
