"""The conversation language for every kind of residence."""

import pytest

from shared.domain.errors import LanguageNotAllowed, LanguageRequired
from shared.domain.model import Language
from shared.postcodes import directory

NL, FR, DE = Language.DUTCH, Language.FRENCH, Language.GERMAN


@pytest.mark.parametrize(
    ("postcode", "requested", "expected"),
    [
        ("9000", None, NL),  # Gent, Flemish Region
        ("5000", None, FR),  # Namur, Walloon Region
        ("6700", None, FR),  # Arlon: French, no facilities
        ("4840", None, FR),  # Welkenraedt: French, no facilities
        ("4700", None, DE),  # Eupen, German-speaking area
        ("4701", None, DE),  # Kettenis, a sub-municipality of Eupen
        ("4700", FR, FR),  # Eupen, French on request
        ("1000", NL, NL),  # Brussels, choice
        ("1050", FR, FR),  # Ixelles/Brussels, a code with two municipalities
        ("1640", None, NL),  # Sint-Genesius-Rode, Dutch with facilities in French
        ("1640", FR, FR),
        ("3790", FR, FR),  # Voeren
        ("7700", None, FR),  # Mouscron, French with facilities in Dutch
        ("7700", NL, NL),
        ("4960", None, FR),  # Malmedy, French with facilities in German
        ("4960", DE, DE),
        ("1804", None, NL),  # a code of two Flemish municipalities
    ],
)
def test_conversation_language_follows_the_residence(postcode, requested, expected):
    residence = directory().find(postcode)

    assert residence.conversation_language(requested) is expected


def test_brussels_resident_must_choose():
    residence = directory().find("1000")

    with pytest.raises(LanguageRequired) as raised:
        residence.conversation_language(None)

    assert raised.value.field == "language"
    assert raised.value.params["choices"] == "nl, fr"


@pytest.mark.parametrize(
    ("postcode", "requested"),
    [("1000", DE), ("9000", FR), ("4700", NL), ("6700", DE), ("5000", NL), ("1640", DE)],
)
def test_language_the_residence_does_not_allow_is_rejected(postcode, requested):
    residence = directory().find(postcode)

    with pytest.raises(LanguageNotAllowed):
        residence.conversation_language(requested)


def test_unknown_postcode_is_not_found():
    assert directory().find("9999") is None
    assert directory().find("0000") is None


def test_every_postcode_has_an_official_language():
    data = directory()

    residences = [data.find(code) for code in data.codes()]

    assert len(residences) > 1100
    assert all(r.official and set(r.official) <= {NL, FR, DE} for r in residences)
