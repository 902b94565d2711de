"""Valid Belgian national numbers and booking bodies for tests."""

from __future__ import annotations


def national_number(serial: int, birth: str = "850714") -> str:
    """Build a valid national number for a person born in the 1900s with the given serial (1-997)."""
    first_nine = f"{birth}{serial:03d}"
    return f"{first_nine}{97 - int(first_nine) % 97:02d}"


def booking_body(start: str, /, serial: int = 123, **overrides) -> dict:
    body = {
        "channel": "video",
        "topic": "payments",
        "start": start,
        "postcode": "9000",
        "first_name": "Jan",
        "last_name": "Peeters",
        "email": "jan.peeters@example.be",
        "phone": "0470 12 34 56",
        "national_number": national_number(serial),
        "accepted_terms_version": "2026-01",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}
