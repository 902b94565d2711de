"""Message catalogs: completeness, placeholders, language choice and Brussels-time formatting."""

from __future__ import annotations

import os
import re
import string
from datetime import datetime, timezone
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from shared.domain import errors
from shared.i18n import (
    BRUSSELS,
    LANGUAGES,
    LOCALE_DIR,
    VALIDATION_MESSAGES,
    format_local_date,
    format_local_time,
    is_translated,
    pick_language,
    translate,
    translations,
)

ROOT = Path(__file__).resolve().parents[1]
PERCENT_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def all_subclasses(cls: type) -> list[type]:
    found = []
    for subclass in cls.__subclasses__():
        found.append(subclass)
        found.extend(all_subclasses(subclass))
    return found


def placeholders(text: str) -> tuple[set[str], set[str]]:
    """Return the `{name}` fields and the `%(name)s` fields of a message."""
    brace_fields = {field for _, field, _, _ in string.Formatter().parse(text) if field}
    return brace_fields, set(PERCENT_PLACEHOLDER.findall(text))


def extracted_msgids() -> set[str]:
    """Extract the msgids from the sources with babel.cfg, as `pybabel extract` does."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)

    def keep_directory(path: str) -> bool:
        name = os.path.basename(path)
        return not name.startswith((".", "_")) and name != "node_modules"

    messages = extract_from_dir(str(ROOT), method_map, options_map, directory_filter=keep_directory)
    return {message for _, _, message, _, _ in messages if isinstance(message, str)}


def read_catalog(path: Path):
    with path.open("rb") as po_file:
        return read_po(po_file)


BOOKING_ERRORS = [errors.BookingError, *all_subclasses(errors.BookingError)]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("error_class", BOOKING_ERRORS, ids=lambda cls: cls.__name__)
def test_booking_error_message_translated(error_class: type, language: str) -> None:
    assert is_translated(error_class.message, language), f"{error_class.__name__} has no {language} translation"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("msgid", VALIDATION_MESSAGES)
def test_validation_message_translated(msgid: str, language: str) -> None:
    assert is_translated(msgid, language)


def test_pot_matches_extracted_sources() -> None:
    template = read_catalog(LOCALE_DIR / "messages.pot")
    in_template = {message.id for message in template if message.id}

    in_sources = extracted_msgids()

    assert in_sources - in_template == set(), "run the extract and update steps in shared/locale/README.md"
    assert in_template - in_sources == set(), "the .pot holds msgids no source uses any more"


@pytest.mark.parametrize("language", LANGUAGES)
def test_po_translates_every_pot_msgid(language: str) -> None:
    template = read_catalog(LOCALE_DIR / "messages.pot")
    catalog = read_catalog(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po")

    untranslated = [
        message.id for message in template if message.id and not is_translated(message.id, language)
    ]
    fuzzy = [message.id for message in catalog if message.id and message.fuzzy]

    assert untranslated == []
    assert fuzzy == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_placeholders(language: str) -> None:
    catalog = read_catalog(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po")

    for message in catalog:
        if message.id and message.string:
            assert placeholders(message.string) == placeholders(message.id), message.id


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", "Dit veld is niet toegestaan: office."),
        ("fr", "Ce champ n’est pas autorisé\u00a0: office."),
        ("de", "Dieses Feld ist nicht zulässig: office."),
    ],
)
def test_translate_fills_placeholders(language: str, expected: str) -> None:
    assert translate("This field is not allowed: {field}.", language, field="office") == expected


def test_translate_missing_parameter_raises() -> None:
    with pytest.raises(ValueError, match="limit"):
        translate("This value is too long. The maximum is {limit} characters.", "nl")


def test_translate_unknown_msgid_falls_back_to_english() -> None:
    assert translate("Not in any catalog.", "de") == "Not in any catalog."


def test_translate_accepts_language_enum() -> None:
    from shared.domain.model import Language

    assert translate("This field is required.", Language.FRENCH) == "Ce champ est obligatoire."


@pytest.mark.parametrize("language", ["en", "NL", "", "nl_BE"])
def test_unknown_language_raises(language: str) -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        translations(language)
    with pytest.raises(ValueError, match="unsupported language"):
        translate("This field is required.", language)


def test_translations_are_cached_per_language() -> None:
    assert translations("nl") is translations("nl")
    assert translations("nl") is not translations("fr")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "nl"),
        ("", "nl"),
        ("fr-BE", "fr"),
        ("de-BE,de;q=0.9,en;q=0.8", "de"),
        ("en-GB,en;q=0.9,fr;q=0.8,nl;q=0.7", "fr"),
        ("nl;q=0.5, fr;q=0.9", "fr"),
        ("fr;q=0.8, de;q=0.8", "fr"),
        ("FR-be", "fr"),
        ("en-US,en", "nl"),
        ("*", "nl"),
        ("fr;q=0, de;q=0.1", "de"),
        ("fr;q=abc, de;q=0.2", "de"),
        ("fr;q=2, de;q=0.2", "de"),
        (";;;,,,", "nl"),
    ],
)
def test_pick_language(header: str | None, expected: str) -> None:
    assert pick_language(header) == expected


def test_pick_language_uses_given_default() -> None:
    assert pick_language("en", default="de") == "de"


def test_pick_language_rejects_unknown_default() -> None:
    with pytest.raises(ValueError):
        pick_language("fr", default="en")


@pytest.mark.parametrize(
    ("language", "date_text"),
    [
        ("nl", "dinsdag 30 maart 2027"),
        ("fr", "mardi 30 mars 2027"),
        ("de", "Dienstag, 30. März 2027"),
    ],
)
def test_format_local_date_and_time(language: str, date_text: str) -> None:
    moment = datetime(2027, 3, 30, 7, 0, tzinfo=timezone.utc)

    assert format_local_date(moment, language) == date_text
    assert format_local_time(moment, language) == "09:00"


def test_format_local_time_on_spring_forward_day() -> None:
    moment = datetime(2027, 3, 28, 3, 0, tzinfo=BRUSSELS).astimezone(timezone.utc)

    assert moment == datetime(2027, 3, 28, 1, 0, tzinfo=timezone.utc)
    assert format_local_time(moment, "nl") == "03:00"


def test_format_local_time_in_repeated_autumn_hour() -> None:
    first = datetime(2027, 10, 31, 2, 30, tzinfo=BRUSSELS).astimezone(timezone.utc)
    second = datetime(2027, 10, 31, 2, 30, fold=1, tzinfo=BRUSSELS).astimezone(timezone.utc)

    assert first == datetime(2027, 10, 31, 0, 30, tzinfo=timezone.utc)
    assert second == datetime(2027, 10, 31, 1, 30, tzinfo=timezone.utc)
    assert format_local_time(first, "fr") == "02:30"
    assert format_local_time(second, "fr") == "02:30"


def test_format_naive_datetime_raises() -> None:
    with pytest.raises(ValueError, match="aware"):
        format_local_time(datetime(2027, 3, 30, 9, 0), "nl")
