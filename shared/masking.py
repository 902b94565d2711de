"""Masked forms of personal data, for views where the owner or an agent only needs to recognise it."""

from __future__ import annotations


def mask_name(name: str) -> str:
    return name[:1] + "***" if name else ""


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    """Keep the country code and the last two digits: +32470123456 -> +32*******56."""
    if len(phone) <= 5:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 5) + phone[-2:]
