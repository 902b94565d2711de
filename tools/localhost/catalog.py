"""Load the function app and sort its functions by trigger, from the app's own metadata only."""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

_SETTING_REFERENCE = re.compile(r"%([^%]+)%")
DEFAULT_QUEUE_CONNECTION = "AzureWebJobsStorage"


class MissingSettingError(LookupError):
    """A binding refers to an app setting (%NAME%) that is not set."""


@dataclass(frozen=True)
class HttpFunction:
    name: str
    user_function: Callable[..., Any]
    arg_name: str
    route: str
    methods: frozenset[str]  # upper case; empty means every method
    auth_level: str  # "anonymous", "function" or "admin"


@dataclass(frozen=True)
class TimerFunction:
    name: str
    user_function: Callable[..., Any]
    arg_name: str
    schedule: str  # NCRONTAB with seconds first, setting references resolved
    run_on_startup: bool


@dataclass(frozen=True)
class QueueFunction:
    name: str
    user_function: Callable[..., Any]
    arg_name: str
    queue_name: str
    connection_setting: str


@dataclass
class Catalog:
    """The functions the local host runs, and the ones it cannot run with the reason."""

    http: list[HttpFunction] = field(default_factory=list)
    timers: list[TimerFunction] = field(default_factory=list)
    queues: list[QueueFunction] = field(default_factory=list)
    not_running: dict[str, str] = field(default_factory=dict)


def load_app(spec: str) -> Any:
    """Import "module:attribute" (for example "function_app:app") and return the attribute."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"invalid app {spec!r}: expected module:attribute, for example function_app:app")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ValueError(f"module {module_name!r} has no attribute {attribute!r}") from None


def resolve_setting_references(value: str, environ: Mapping[str, str]) -> str:
    """Replace each %NAME% with the app setting NAME; raise MissingSettingError naming a missing setting."""

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise MissingSettingError(f"app setting {name!r} referenced by {value!r} is not set")
        return environ[name]

    return _SETTING_REFERENCE.sub(lookup, value)


def _enum_value(value: Any) -> str:
    return str(getattr(value, "value", value))


def _is_disabled(name: str, environ: Mapping[str, str]) -> bool:
    # The portal disables a function by setting AzureWebJobs.<name>.Disabled=true.
    return environ.get(f"AzureWebJobs.{name}.Disabled", "").strip().lower() in ("true", "1")


def _describe(name: str, user_function: Callable[..., Any], trigger: Mapping[str, Any],
              environ: Mapping[str, str]) -> HttpFunction | TimerFunction | QueueFunction:
    trigger_type = trigger.get("type")
    arg_name = trigger["name"]
    if trigger_type == "httpTrigger":
        methods = frozenset(_enum_value(method).upper() for method in trigger.get("methods") or ())
        route = str(trigger.get("route") or name).strip("/")
        auth_level = _enum_value(trigger.get("authLevel", "function")).lower()
        return HttpFunction(name, user_function, arg_name, route, methods, auth_level)
    if trigger_type == "timerTrigger":
        schedule = resolve_setting_references(trigger["schedule"], environ)
        return TimerFunction(name, user_function, arg_name, schedule, bool(trigger.get("runOnStartup", False)))
    if trigger_type == "queueTrigger":
        queue_name = resolve_setting_references(trigger["queueName"], environ)
        connection = trigger.get("connection") or DEFAULT_QUEUE_CONNECTION
        return QueueFunction(name, user_function, arg_name, queue_name, connection)
    raise NotImplementedError(f"the local host does not run {trigger_type} triggers")


def build_catalog(app: Any, environ: Mapping[str, str]) -> Catalog:
    """Call app.get_functions() once and describe each function; it caches and raises on a second call."""
    catalog = Catalog()
    for function in app.get_functions():
        name = function.get_function_name()
        if _is_disabled(name, environ):
            catalog.not_running[name] = f"disabled by the app setting AzureWebJobs.{name}.Disabled"
            continue
        try:
            described = _describe(name, function.get_user_function(), function.get_trigger().get_dict_repr(), environ)
        except (MissingSettingError, NotImplementedError) as error:
            logger.error("Function %s cannot run locally: %s", name, error)
            catalog.not_running[name] = str(error)
            continue
        if isinstance(described, HttpFunction):
            catalog.http.append(described)
        elif isinstance(described, TimerFunction):
            catalog.timers.append(described)
        else:
            catalog.queues.append(described)
    return catalog
