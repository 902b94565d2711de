"""Checks that keep text typed by citizens or operators from injecting mail headers or iCalendar lines."""

from __future__ import annotations

import re
import unicodedata

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def require_single_line(field: str, value: str) -> str:
    """Return `value`, or raise ValueError if it contains a line break or another control character.

    Line separators U+2028 and U+2029 count as line breaks. The error names the field but never
    repeats the value, which may be personal data.
    """
    for character in value:
        if unicodedata.category(character) in ("Cc", "Zl", "Zp"):
            raise ValueError(f"{field} contains a line break or another control character")
    return value


def split_address(field: str, address: str) -> list[str]:
    """Split a postal address into its non-empty lines, each checked with require_single_line."""
    lines = [line.strip() for line in _LINE_BREAK.split(address)]
    return [require_single_line(field, line) for line in lines if line]
