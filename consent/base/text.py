"""What typed text may be, everywhere it arrives: API bodies, forms, sockets and services use
these rules and limits, so they agree.

Two halves from the same numbers: the clean_* functions are the rules (a Refusal with the
field named), and the msgspec types bound what a request body may carry before any rule runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import msgspec

from consent.base.errors import bad_field
from consent.base.i18n import gettext as _

MAX_NAME = 100  # a circle, domain or role name, or a person's
MAX_EMAIL = 254  # the longest address SMTP delivers (RFC 5321)
MAX_TITLE = 200
MAX_DESCRIPTION = 5000  # a circle's aim, a domain's description
MAX_TEXT = 20_000  # a proposal's text and driver, an evaluation criterion; what is said in a round
MAX_CRITERIA = 20  # evaluation criteria of a proposal

# Whitespace spelled out: what Python's \s and JavaScript's (the OpenAPI document's regular
# expressions) count as whitespace differ (\x1c-\x1f, \x85, \ufeff), so the document allowed
# addresses the server refused. This is both sets.
_SPACE = r"\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_PART = rf"[^@{_SPACE}]+"
_ADDRESS = rf"{_PART}@{_PART}\.{_PART}"  # name@host.tld; deliverability is the mail server's business

# A name on the wire has room for the whitespace clean_name collapses; the rule then holds it
# to MAX_NAME and says so (name_too_long).
Name = Annotated[str, msgspec.Meta(max_length=2 * MAX_NAME)]
Title = Annotated[str, msgspec.Meta(max_length=MAX_TITLE)]
Description = Annotated[str, msgspec.Meta(max_length=MAX_DESCRIPTION)]
Text = Annotated[str, msgspec.Meta(max_length=MAX_TEXT)]
Criteria = Annotated[list[Text], msgspec.Meta(max_length=MAX_CRITERIA)]
# A time sent to the API: ISO 8601 with its offset ("2026-12-10T18:00:00Z"), which says when
# it is; without one it is refused rather than guessed (docs/time_zones.md).
Moment = Annotated[datetime, msgspec.Meta(tz=True)]
Email = Annotated[str, msgspec.Meta(max_length=MAX_EMAIL, pattern=rf"^[{_SPACE}]*{_ADDRESS}[{_SPACE}]*$")]


def clean_text(text: str, what: str, max_length: int | None = None, *, required: bool = False) -> str:
    """Trimmed text with its line breaks as "\n" (forms send "\r\n"; a bare "\r" ended a line
    of the calendar feed early), refused if empty (when required), too long, or holding a NUL
    character, which PostgreSQL cannot store and no person types."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if "\x00" in text:  # first: whatever else is wrong, this is what to fix
        raise bad_field(what, _("{Field} must not contain the NUL character."))
    if required and not text:
        raise bad_field(what, _("{Field} must not be empty."))
    if max_length is not None and len(text) > max_length:
        raise bad_field(what, _("{{Field}} must have at most {max_length} characters.").format(max_length=max_length))
    return text


def clean_criteria(criteria: Sequence[str], what: str = "criteria") -> list[str]:
    """Evaluation criteria: each trimmed, not empty, and given once, since a review assesses
    each by name; at most MAX_CRITERIA of them."""
    cleaned = [clean_text(criterion, what, MAX_TEXT) for criterion in criteria]
    if "" in cleaned:
        raise bad_field(what, _("{Field}: a criterion must not be empty."))
    if len(set(cleaned)) < len(cleaned):
        raise bad_field(what, _("{Field}: give each criterion once."))
    if len(cleaned) > MAX_CRITERIA:
        raise bad_field(what, _("{{Field}}: at most {MAX_CRITERIA} criteria.").format(MAX_CRITERIA=MAX_CRITERIA))
    return cleaned


def clean_name(name: str, what: str = "name") -> str:
    """A name with its whitespace collapsed, so "Ops  team" and "Ops team" are one name."""
    cleaned = " ".join(clean_text(name, what).split())
    if not cleaned:
        raise bad_field(what, _("{Field} must not be empty."), "empty_name")
    if len(cleaned) > MAX_NAME:
        raise bad_field(
            what, _("{{Field}} must have at most {MAX_NAME} characters.").format(MAX_NAME=MAX_NAME), "name_too_long"
        )
    return cleaned


def clean_email(email: str) -> str:
    """The one form an address is stored and looked up in: trimmed and lower-cased."""
    cleaned = clean_text(email, "email").lower()
    if len(cleaned) > MAX_EMAIL or not re.fullmatch(_ADDRESS, cleaned):
        raise bad_field("email", _("{Field} must look like name@example.org."))
    return cleaned
