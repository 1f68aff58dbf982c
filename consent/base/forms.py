"""Fields of forms and query strings, which arrive as text: blank means absent (a form sends
every field), anything else is parsed or refused with the field named."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from consent.base.errors import bad_field
from consent.base.i18n import N_
from consent.base.i18n import gettext as _

T = TypeVar("T")


def parse_field(value: str, parse: Callable[[str], T], field: str, expected: str) -> T | None:
    value = value.strip()
    if not value:
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise bad_field(field, _("{{Field}} must be {expected}.").format(expected=_(expected))) from exc


def parse_date(value: str, field: str, expected: str = N_("a date like 2027-06-30")) -> date | None:
    return parse_field(value, date.fromisoformat, field, expected)


def parse_uuid(value: str, field: str, expected: str = N_("a valid id")) -> uuid.UUID | None:
    return parse_field(value, uuid.UUID, field, expected)


def parse_lines(value: str) -> list[str]:
    """A list typed into a textarea, one item a line; blank lines are no item."""
    return [line.strip() for line in value.splitlines() if line.strip()]
