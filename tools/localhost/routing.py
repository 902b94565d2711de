"""Match request paths against HTTP trigger route templates, with the ASP.NET Core syntax the Functions host uses.

Supported: literals, `{name}`, `{name:constraint}` (several constraints may follow each other),
optional `{name?}`, defaults `{name=value}` and catch-all `{*name}`. Literals match case-insensitively.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

from tools.localhost.catalog import HttpFunction

logger = logging.getLogger(__name__)

_SEGMENT = r"[^/]+"
_NUMBER = r"-?\d+(?:\.\d+)?"
_CONSTRAINT_PATTERNS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "alpha": r"[A-Za-z]+",
    "bool": r"(?:true|false)",
    "guid": r"\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?",
    "decimal": _NUMBER,
    "double": _NUMBER,
    "float": _NUMBER,
}


class RouteNotFound(LookupError):
    """No route template matches the path."""


class MethodNotAllowed(LookupError):
    """A template matches the path, but none of the matching functions accepts the method."""

    def __init__(self, allowed: frozenset[str]) -> None:
        super().__init__(f"method not allowed; allowed: {', '.join(sorted(allowed))}")
        self.allowed = allowed


def _value_check(constraint: str, arguments: list[str]) -> Callable[[str], bool] | None:
    """Return a check for the constraints that limit a value's length or size, or None for others."""
    try:
        numbers = [int(argument) for argument in arguments]
    except ValueError:
        return None
    if constraint == "minlength" and len(numbers) == 1:
        return lambda value: len(value) >= numbers[0]
    if constraint == "maxlength" and len(numbers) == 1:
        return lambda value: len(value) <= numbers[0]
    if constraint == "length" and len(numbers) in (1, 2):
        low, high = numbers[0], numbers[-1]
        return lambda value: low <= len(value) <= high
    if constraint in ("min", "max", "range") and len(numbers) == (2 if constraint == "range" else 1):
        low = numbers[0] if constraint != "max" else None
        high = numbers[-1] if constraint != "min" else None
        return lambda value: re.fullmatch(r"-?\d+", value) is not None and (
            (low is None or int(value) >= low) and (high is None or int(value) <= high))
    return None


@dataclass
class _Parameter:
    name: str
    pattern: str = _SEGMENT
    checks: list[Callable[[str], bool]] = field(default_factory=list)
    optional: bool = False
    catch_all: bool = False
    default: str | None = None


def _read_constraint(text: str, start: int) -> tuple[str, list[str], int]:
    """Read `name` or `name(arguments)` from position `start`; return the name, arguments and end position."""
    name_match = re.compile(r"[A-Za-z]+").match(text, start)
    if name_match is None:
        raise ValueError(f"invalid constraint in {{{text}}}")
    end = name_match.end()
    if end >= len(text) or text[end] != "(":
        return name_match.group(), [], end
    depth = 0
    for position in range(end, len(text)):
        depth += {"(": 1, ")": -1}.get(text[position], 0)
        if depth == 0:
            # Route templates escape literal braces by doubling them, also inside a regex constraint.
            raw = text[end + 1:position].replace("{{", "{").replace("}}", "}")
            arguments = [raw] if name_match.group() == "regex" else [part.strip() for part in raw.split(",")]
            return name_match.group(), arguments, position + 1
    raise ValueError(f"unbalanced parentheses in {{{text}}}")


def _parse_parameter(text: str, template: str) -> _Parameter:
    catch_all = text.startswith("*")
    body = text.lstrip("*")
    name_match = re.match(r"[^:=?]+", body)
    if name_match is None:
        raise ValueError(f"route {template!r}: parameter {{{text}}} has no name")
    parameter = _Parameter(name=name_match.group().strip(), catch_all=catch_all)
    position = name_match.end()

    while position < len(body) and body[position] == ":":
        constraint, arguments, position = _read_constraint(body, position + 1)
        if constraint in _CONSTRAINT_PATTERNS:
            parameter.pattern = _CONSTRAINT_PATTERNS[constraint]
        elif constraint == "regex" and arguments:
            parameter.checks.append(lambda value, expression=arguments[0]: re.search(expression, value) is not None)
        elif (check := _value_check(constraint, arguments)) is not None:
            parameter.checks.append(check)
        else:
            logger.warning("Route %r: constraint %r of {%s} is not supported locally and is ignored",
                           template, constraint, parameter.name)

    if body[position:] == "?":
        parameter.optional = True
    elif body[position:].startswith("="):
        parameter.default = body[position + 1:]
    elif position != len(body):
        raise ValueError(f"route {template!r}: invalid parameter {{{text}}}")
    if catch_all:
        parameter.pattern = ".*"
    return parameter


def _closing_brace(template: str, start: int) -> int:
    """Return the position of the "}" that closes the parameter at `start`, skipping braces inside "(...)"."""
    depth = 0
    for position in range(start + 1, len(template)):
        character = template[position]
        if character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        elif character == "}" and depth == 0:
            return position
    raise ValueError(f"route {template!r}: unclosed '{{'")


def _split_segments(template: str) -> list[list[str | _Parameter]]:
    """Split the template on '/' into segments of literal text and parameters; "{{" and "}}" are literal braces."""
    segments: list[list[str | _Parameter]] = [[]]
    literal = ""
    position = 0
    while position < len(template):
        character = template[position]
        if template.startswith("{{", position) or template.startswith("}}", position):
            literal += character
            position += 2
        elif character == "{":
            end = _closing_brace(template, position)
            if literal:
                segments[-1].append(literal)
                literal = ""
            segments[-1].append(_parse_parameter(template[position + 1:end], template))
            position = end + 1
        elif character == "/":
            if literal:
                segments[-1].append(literal)
                literal = ""
            segments.append([])
            position += 1
        else:
            literal += character
            position += 1
    if literal:
        segments[-1].append(literal)
    return segments


def _segment_rank(segment: list[str | _Parameter]) -> int:
    """Rank a segment like ASP.NET Core: literals win over constrained parameters, then plain, optional, catch-all."""
    if all(isinstance(part, str) for part in segment):
        return 1
    if len(segment) > 1:
        return 2
    parameter = segment[0]
    assert isinstance(parameter, _Parameter)
    if parameter.catch_all:
        return 6
    if parameter.optional or parameter.default is not None:
        return 5
    return 3 if parameter.pattern != _SEGMENT or parameter.checks else 4


class RouteTemplate:
    """One compiled route template, including the route prefix."""

    def __init__(self, template: str) -> None:
        self.template = template
        segments = _split_segments(template.strip("/")) if template.strip("/") else []
        self.precedence = tuple(_segment_rank(segment) for segment in segments)
        self._parameters: dict[str, _Parameter] = {}
        pieces = []
        for index, segment in enumerate(segments):
            separator = "/" if index > 0 else ""
            alone = len(segment) == 1 and isinstance(segment[0], _Parameter)
            if alone and (segment[0].optional or segment[0].catch_all or segment[0].default is not None):
                group = self._add_group(segment[0])
                pieces.append(f"(?:{separator}(?P<{group}>{segment[0].pattern}))?")
                continue
            pieces.append(separator)
            for part in segment:
                if isinstance(part, str):
                    pieces.append(re.escape(part))
                else:
                    group = self._add_group(part)
                    pieces.append(f"(?P<{group}>{part.pattern})" + ("?" if part.optional else ""))
        self._regex = re.compile("/" + "".join(pieces), re.IGNORECASE)

    def _add_group(self, parameter: _Parameter) -> str:
        group = f"p{len(self._parameters)}"
        self._parameters[group] = parameter
        return group

    def match(self, path: str) -> dict[str, str] | None:
        """Return the route parameters, URL-decoded, if `path` matches; None otherwise."""
        found = self._regex.fullmatch(path)
        if found is None:
            return None
        values: dict[str, str] = {}
        for group, parameter in self._parameters.items():
            raw = found.group(group)
            if raw is None or raw == "":
                if parameter.default is not None:
                    values[parameter.name] = parameter.default
                continue
            value = unquote(raw)
            if not all(check(value) for check in parameter.checks):
                return None
            values[parameter.name] = value
        return values


@dataclass(frozen=True)
class RouteMatch:
    function: HttpFunction
    route_params: dict[str, str]


class Router:
    """Find the HTTP function for a method and path, preferring the most specific template."""

    def __init__(self, functions: Iterable[HttpFunction], route_prefix: str) -> None:
        self._routes: list[tuple[RouteTemplate, HttpFunction]] = []
        self.invalid: dict[str, str] = {}
        for function in functions:
            full_template = "/".join(part for part in (route_prefix.strip("/"), function.route) if part)
            try:
                self._routes.append((RouteTemplate(full_template), function))
            except ValueError as error:
                logger.error("Function %s cannot run locally: %s", function.name, error)
                self.invalid[function.name] = str(error)
        self._routes.sort(key=lambda route: (route[0].precedence, route[0].template))

    @property
    def routes(self) -> list[tuple[RouteTemplate, HttpFunction]]:
        return list(self._routes)

    def resolve(self, method: str, path: str) -> RouteMatch:
        """Return the match; raise RouteNotFound or MethodNotAllowed."""
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        allowed: set[str] = set()
        for template, function in self._routes:
            route_params = template.match(path)
            if route_params is None:
                continue
            if not function.methods or method.upper() in function.methods:
                return RouteMatch(function, route_params)
            allowed |= function.methods
        if allowed:
            raise MethodNotAllowed(frozenset(allowed))
        raise RouteNotFound(path)
