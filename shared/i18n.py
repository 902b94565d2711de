"""Message catalogs in Dutch, French and German, and Brussels-time formatting for citizens.

The catalogs are the gettext `.po` files under shared/locale/. They are compiled in memory the
first time a language is used, so no `.mo` file is kept in the repository and none can go stale.
Reading and compiling one catalog takes a few milliseconds and happens once per process and
language. shared/locale/README.md describes how to extract and update the catalogs.

Message ids are English sentences. Ids used from Python take `str.format` placeholders such as
`{limit}`. Ids used in Jinja2 templates take `%(name)s` placeholders, because Jinja2's newstyle
gettext formats with the `%` operator.
"""

from __future__ import annotations

import ast
import functools
import io
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.messages.extract import extract_python
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

logger = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LANGUAGES = ("nl", "fr", "de")
BRUSSELS = ZoneInfo("Europe/Brussels")

# Belgian regional variants: they decide date words, punctuation and time patterns.
BABEL_LOCALES = {"nl": "nl_BE", "fr": "fr_BE", "de": "de_BE"}

_warned_missing: set[tuple[str, str]] = set()


def N_(msgid: str) -> str:
    """Mark a string for extraction into the catalogs without translating it here."""
    return msgid


# Messages of generic input checks. Entry points often pass them to InvalidField as plain strings,
# which extraction cannot find, so this tuple keeps them in the catalogs.
VALIDATION_MESSAGES = (
    N_("This field is required."),
    N_("This field is not allowed: {field}."),
    N_("This value has the wrong type. Expected: {expected}."),
    N_("This value is not one of the allowed values: {expected}."),
    N_("The request body is not valid JSON."),
    N_("The request body is too large. The maximum is {limit} bytes."),
    N_("This national number is not valid. Check the 11 digits on your identity card."),
    N_("This e-mail address is not valid. Check it and try again."),
    N_(
        "This phone number is not valid. Give a Belgian number or an international number "
        "starting with +."
    ),
    N_("This value is too long. The maximum is {limit} characters."),
    N_("This value contains characters that are not allowed."),
    N_("This date is not valid. Use the form YYYY-MM-DD."),
    N_(
        "This time is not valid. Give a date and time with the Brussels offset, for example "
        "2027-03-30T09:00:00+02:00."
    ),
    N_(
        "This time does not exist in Brussels because of the change to summer time. "
        "Choose another time."
    ),
    N_("Choose video or office."),
    N_(
        "The appointment has already started, so it can no longer be changed online. "
        "Contact us by phone."
    ),
    N_("The period is too long. The maximum is {limit} days."),
    N_("The end date is before the start date."),
)


def check_language(language: str) -> str:
    """Return the language code as a plain string, or raise ValueError unless it is nl, fr or de."""
    code = str(language)
    if code not in LANGUAGES:
        raise ValueError(f"unsupported language {code!r}: expected one of {', '.join(LANGUAGES)}")
    return code


def translations(language: str) -> Translations:
    """Return the catalog of `language` (nl, fr or de), compiled from its .po file on first use."""
    return _load_catalog(check_language(language))[0]


def is_translated(msgid: str, language: str) -> bool:
    """Tell whether the catalog of `language` has a non-empty, non-fuzzy translation of `msgid`."""
    return msgid in _load_catalog(check_language(language))[1]


@functools.cache
def _load_catalog(code: str) -> tuple[Translations, frozenset[str]]:
    po_path = LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=code, domain=DOMAIN)
    translated = frozenset(
        message.id
        for message in catalog
        if isinstance(message.id, str) and message.id and message.string and not message.fuzzy
    )

    # Fuzzy entries are drafts: like msgfmt, leave them out so the English msgid shows instead.
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN), translated


def translate(msgid: str, language: str, **params: object) -> str:
    """Translate `msgid` into `language` and fill in its `{name}` placeholders from `params`.

    A msgid missing from the catalog falls back to the English text and logs one warning per
    language and msgid. A placeholder without a value raises ValueError.
    """
    code = check_language(language)
    if not is_translated(msgid, code) and (code, msgid) not in _warned_missing:
        _warned_missing.add((code, msgid))
        logger.warning("Message %r has no %s translation, so the English text is used", msgid, code)

    text = translations(code).gettext(msgid)
    try:
        return text.format(**params)
    except KeyError as error:
        raise ValueError(f"message {msgid!r} needs the parameter {error.args[0]!r}") from None


def pick_language(accept_language_header: str | None, default: str = "nl") -> str:
    """Choose nl, fr or de from an Accept-Language header, or return `default` if none fits.

    Language ranges are ranked by their q-value, and by their order in the header when q-values
    are equal. Only the primary subtag counts, so "fr-BE" and "fr-FR" both select French.
    A range with q=0 or a malformed q-value is skipped.
    """
    fallback = check_language(default)
    if not accept_language_header:
        return fallback

    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language_header.split(",")):
        tag, _, parameters = item.strip().partition(";")
        quality = _parse_quality(parameters)
        primary = tag.strip().split("-")[0].lower()
        if quality > 0 and primary in LANGUAGES:
            ranked.append((-quality, position, primary))

    if not ranked:
        return fallback
    return min(ranked)[2]


def _parse_quality(parameters: str) -> float:
    name, _, value = parameters.strip().partition("=")
    if not name:
        return 1.0
    if name.strip().lower() != "q":
        return 0.0
    try:
        quality = float(value)
    except ValueError:
        return 0.0
    return quality if 0.0 <= quality <= 1.0 else 0.0


def to_brussels(moment: datetime) -> datetime:
    """Convert an aware datetime to Europe/Brussels time. A naive datetime raises ValueError."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("expected an aware datetime, got a naive one")
    return moment.astimezone(BRUSSELS)


def format_local_date(moment: datetime, language: str) -> str:
    """Format the Brussels date of `moment` in full, e.g. "dinsdag 30 maart 2027"."""
    locale = BABEL_LOCALES[check_language(language)]
    return format_date(to_brussels(moment).date(), "full", locale=locale)


def format_local_time(moment: datetime, language: str) -> str:
    """Format the Brussels wall-clock time of `moment` in the short form, e.g. "09:00"."""
    locale = BABEL_LOCALES[check_language(language)]
    return format_time(to_brussels(moment), "short", locale=locale)


def extract_python_and_class_messages(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Extract messages for Babel from gettext calls, `message` class attributes and arguments.

    Babel's own Python extractor finds calls such as `_("...")` and `N_("...")`. This extractor
    also yields the string literal of every class-level `message = "..."` assignment, which is
    how BookingError subclasses declare their msgid, and of every `message="..."` keyword
    argument in a call. babel.cfg names this function as the method for Python files.
    """
    source = fileobj.read()
    yield from extract_python(io.BytesIO(source), keywords, comment_tags, options)

    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, ast.Assign) and _assigns_message(statement):
                    yield from _string_message(statement.value)
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "message":
                    yield from _string_message(keyword.value)


def _assigns_message(statement: ast.Assign) -> bool:
    return any(isinstance(target, ast.Name) and target.id == "message" for target in statement.targets)


def _string_message(value: ast.expr) -> Iterator[tuple[int, str, str, list[str]]]:
    # Adjacent literals ("a" "b") are already one Constant node in the syntax tree.
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        yield value.lineno, "N_", value.value, []
