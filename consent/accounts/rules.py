"""Pure rules of account self-service: the languages and time zones one may choose, the signed
links of an email change and a password reset, and a browser's coarse label. No I/O."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel import Locale

from consent.base import i18n
from consent.base.errors import bad_field
from consent.base.i18n import gettext as _
from consent.base.times import known_zones
from consent.base.tokens import sign, unsign

# The languages pages are served in, by their names in themselves; None: the browser's.
# schemas.Language lists the same codes for the API's document.
LANGUAGES = {code: str(Locale.parse(code).get_display_name(code)).capitalize() for code in i18n.LANGUAGES}
EMAIL_CHANGE_FOR = timedelta(hours=24)
PASSWORD_RESET_FOR = timedelta(hours=1)
SEEN_EVERY = timedelta(minutes=5)  # how stale a session's "last seen" may get: not a write per request


def check_language(language: str | None) -> str | None:
    if language is not None and language not in LANGUAGES:
        says = _("{{Field}} must be one of {languages}, or none for the browser's.").format(
            languages=", ".join(LANGUAGES)
        )
        raise bad_field("language", says)
    return language


def check_time_zone(time_zone: str | None) -> str | None:
    if time_zone is not None and time_zone not in known_zones():
        says = _("{Field} must be a zone name like Europe/Madrid, or none for the browser's.")
        raise bad_field("time_zone", says)
    return time_zone


def fingerprint(value: str) -> bytes:
    """8 bytes that change when `value` does: a link bound to the password hash (or the email)
    it was made under stops working once that changes, so it is used at most once."""
    return hashlib.sha256(value.encode()).digest()[:8]


@dataclass(frozen=True)
class Claim:
    """What a valid link says: whose account, what it was bound to, and any text it carries."""

    account_id: uuid.UUID
    bound_to: bytes
    text: str = ""


def _link(secret: str, purpose: str, claim: Claim, expires: datetime) -> str:
    payload = claim.account_id.bytes + int(expires.timestamp()).to_bytes(8, "big") + claim.bound_to
    return sign(f"{secret}:{purpose}", payload + claim.text.encode())


def _claim(secret: str, purpose: str, token: str, now: datetime) -> Claim | None:
    """The claim of a link made for `purpose` with this secret, until it expires; else None.
    The purpose is part of the key: a reset link cannot pass for an email link, nor the reverse."""
    payload = unsign(f"{secret}:{purpose}", token)
    if payload is None or len(payload) < 32 or int.from_bytes(payload[16:24], "big") < now.timestamp():
        return None
    try:
        text = payload[32:].decode()
    except UnicodeDecodeError:
        return None
    return Claim(uuid.UUID(bytes=payload[:16]), payload[24:32], text)


def password_reset_link(secret: str, account_id: uuid.UUID, password_hash: str, now: datetime) -> str:
    return _link(secret, "password-reset", Claim(account_id, fingerprint(password_hash)), now + PASSWORD_RESET_FOR)


def password_reset_claim(secret: str, token: str, now: datetime) -> Claim | None:
    return _claim(secret, "password-reset", token, now)


def email_change_link(secret: str, account_id: uuid.UUID, old_email: str, new_email: str, now: datetime) -> str:
    claim = Claim(account_id, fingerprint(old_email), new_email)
    return _link(secret, "email-change", claim, now + EMAIL_CHANGE_FOR)


def email_change_claim(secret: str, token: str, now: datetime) -> Claim | None:
    return _claim(secret, "email-change", token, now)


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrom", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def browser_label(user_agent: str) -> str:
    """ "Firefox on Linux": enough to tell one's own browsers apart, and no more (no version)."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "A browser"
