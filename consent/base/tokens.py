"""Secrets handed out once (API tokens, calendar links, invitation links) are stored only as
their hash, so a copy of the database opens nothing."""

from __future__ import annotations

import hashlib


def hash_token(token: str) -> str:
    """SHA-256 in hex: the tokens are long and random, so a fast unsalted hash suffices. Every
    stored hash was made this way; changing it would lock out every token and link."""
    return hashlib.sha256(token.encode()).hexdigest()
