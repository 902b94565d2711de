"""Encryption of personal data at rest, keyed hashes for look-ups, and manage tokens.

The national number is specially protected (Belgian National Register law, GDPR art. 87): it is
stored only inside the AES-GCM sealed personal data, and looked up only through an HMAC of it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from shared.domain.model import PersonalData

_FORMAT = "v1"


def _derive(master_key: bytes, purpose: bytes) -> bytes:
    return hmac.new(master_key, purpose, hashlib.sha256).digest()


class PersonalDataProtector:
    """Seals personal data with AES-256-GCM, bound to the booking reference as associated data."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the personal data key must be 32 bytes")
        self._encryption_key = _derive(master_key, b"videoloket personal data encryption")
        self._lookup_key = _derive(master_key, b"videoloket personal data lookup")
        self._token_key = _derive(master_key, b"videoloket manage token")

    def seal(self, personal: PersonalData, reference: str) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(12)
        plaintext = json.dumps(personal.__dict__, separators=(",", ":")).encode()
        sealed = AESGCM(self._encryption_key).encrypt(nonce, plaintext, reference.encode())
        return f"{_FORMAT}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str, reference: str) -> PersonalData:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        version, _, payload = sealed.partition(":")
        if version != _FORMAT:
            raise ValueError(f"unknown personal data format {version!r}")
        raw = base64.b64decode(payload)
        plaintext = AESGCM(self._encryption_key).decrypt(raw[:12], raw[12:], reference.encode())
        return PersonalData(**json.loads(plaintext))

    def lookup_key(self, value: str) -> str:
        """Return a keyed hash of an identifier (national number, idempotency key) for use as a row key."""
        return hmac.new(self._lookup_key, value.encode(), hashlib.sha256).hexdigest()[:40]


    def manage_token(self, reference: str) -> str:
        """Return the booking's manage token. It is derived, not stored, so an idempotent replay can
        return the same token; only its hash is stored."""
        digest = hmac.new(self._token_key, reference.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_manage_token(token: str) -> str:
    """The token is a 256-bit HMAC output, so a plain SHA-256 suffices: it cannot be guessed back."""
    return hashlib.sha256(token.encode()).hexdigest()


def manage_token_matches(token: str | None, stored_hash: str) -> bool:
    if not token:
        return False
    return hmac.compare_digest(hash_manage_token(token), stored_hash)
