"""Function names and auth levels: operators can disable each function, and only the website's routes are public."""

from __future__ import annotations

import re

import azure.functions as func

from tests.api import functions

# Linux apps cannot disable a function whose name has a hyphen through AzureWebJobs.<name>.Disabled.
FUNCTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

# The routes the public website calls without a key, by function name.
PUBLIC_ROUTES = {
    "list_topics": "topics",
    "list_offices": "offices",
    "find_postcode": "postcodes/{postcode}",
    "list_slots": "slots",
    "create_booking": "bookings",
    "get_booking": "bookings/{reference}",
    "cancel_booking": "bookings/{reference}/cancel",
    "reschedule_booking": "bookings/{reference}/reschedule",
    "join_meeting": "join/{reference}",
    "get_openapi": "openapi.json",
}


def http_triggers() -> dict[str, dict]:
    return {
        name: function.get_trigger().get_dict_repr()
        for name, function in functions().items()
        if function.is_http_function()
    }


def test_function_names_can_be_disabled_from_portal():
    for name in functions():
        assert FUNCTION_NAME.fullmatch(name), f"{name}: use letters, digits and underscores, starting with a letter"


def test_anonymous_functions_are_the_public_routes():
    anonymous = {
        name: trigger["route"]
        for name, trigger in http_triggers().items()
        if trigger["authLevel"] is func.AuthLevel.ANONYMOUS
    }

    assert anonymous == PUBLIC_ROUTES


def test_other_http_functions_need_function_key():
    for name, trigger in http_triggers().items():
        if name not in PUBLIC_ROUTES:
            assert trigger["authLevel"] is func.AuthLevel.FUNCTION, f"{name} has auth level {trigger['authLevel']}"
