"""GET /api/openapi.json: the OpenAPI 2.0 document of this app, generated from its routes and models."""

from __future__ import annotations

import functools

import azure.functions as func

from functions import dependencies
from functions.web import json_response

bp = func.Blueprint()


@bp.function_name("get_openapi")
@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def get_openapi(req: func.HttpRequest) -> func.HttpResponse:
    document = _document(dependencies.get_settings().public_api_base_url)
    return json_response(document, headers={"Cache-Control": "public, max-age=300"})


@functools.lru_cache(maxsize=4)
def _document(public_base_url: str) -> dict:
    """Build the document once per base URL; the routes of a running app never change."""
    # function_app imports this module, so it is imported at the first request, not at import time.
    from function_app import app
    from shared.openapi import served_document

    return served_document(app, public_base_url)
