"""Secrets handed out once (API tokens, calendar links, invitation links) are stored only as
their hash, so a copy of the database opens nothing. Links that must be made again later
(unsubscribing, a mail's reply address) are signed instead: nothing is stored for them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

MAC_BYTES = 10  # 80 bits: a forger would need 2**80 tries, each a mail or a request


def hash_token(token: str) -> str:
    """SHA-256 in hex: the tokens are long and random, so a fast unsalted hash suffices. Every
    stored hash was made this way; changing it would lock out every token and link."""
    return hashlib.sha256(token.encode()).hexdigest()


def sign(secret: str, payload: bytes) -> str:
    """The payload and a MAC of it, in lower-case base32: safe in a URL and in the local part of
    a mail address, which mail servers may lower-case. Short enough for both (64 characters at
    most in an address) with a 16-byte payload."""
    mac = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:MAC_BYTES]
    return base64.b32encode(payload + mac).decode().rstrip("=").lower()


def unsign(secret: str, token: str) -> bytes | None:
    """The payload of a token `sign` made with this secret; None for any other string."""
    try:
        raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8))
    except (ValueError, binascii.Error):
        return None
    payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:MAC_BYTES]
    return payload if len(raw) > MAC_BYTES and hmac.compare_digest(mac, expected) else None
