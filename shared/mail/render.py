"""Jinja2 rendering of the text and HTML parts of a mail, one cached Environment per language."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from shared.i18n import check_language, translations


@dataclass(frozen=True)
class RenderedBody:
    """The plain-text part and the HTML part of one mail."""

    text: str
    html: str


def mail_environment(language: str) -> Environment:
    """Return the Environment that renders the mail templates in `language` (nl, fr or de).

    HTML templates are autoescaped and text templates are not. Translated strings come from
    `_()` with newstyle gettext, so `%(name)s` values are escaped in HTML like any other value.
    An undefined variable raises instead of rendering as an empty string.
    """
    return _build_environment(check_language(language))


@functools.cache
def _build_environment(language: str) -> Environment:
    environment = Environment(
        loader=PackageLoader("shared.mail", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return environment


def render_body(template: str, language: str, context: Mapping[str, Any]) -> RenderedBody:
    """Render `<template>.txt` and `<template>.html` in `language` with the same context."""
    environment = mail_environment(language)
    values = {**context, "language": check_language(language)}
    return RenderedBody(
        text=environment.get_template(f"{template}.txt").render(values),
        html=environment.get_template(f"{template}.html").render(values),
    )
