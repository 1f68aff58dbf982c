"""The rules of erasure, as plain functions: how an erased account's id and name are replaced
in the JSON that keeps the record, and in mail texts."""

from __future__ import annotations

import re
from typing import Any, AnyStr

FORMER_MEMBER = "a former member"


def names(data: Any, who: str) -> bool:
    """Whether a JSON value names the account `who` (as a value, not inside a longer text)."""
    if isinstance(data, dict):
        return any(names(v, who) for v in data.values())
    if isinstance(data, list):
        return any(names(v, who) for v in data)
    return data == who


def replaced(data: Any, old: str, new: str) -> Any:
    """`data` with the id `old` made `new`, as a value or a key (a selection's nominations are
    keyed by member), and the name beside it (in `{id, name}` or `{member, name}`) made
    FORMER_MEMBER."""
    if isinstance(data, dict):
        names_it = any(data.get(key) == old for key in ("id", "member"))
        return {
            (new if k == old else k): FORMER_MEMBER if names_it and k == "name" else replaced(v, old, new)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [replaced(v, old, new) for v in data]
    return new if data == old else data


def name_in_text(name: AnyStr) -> re.Pattern[AnyStr]:
    """The name as a whole word, in any case: "Bo" in "Bo's", not in "about"."""
    if isinstance(name, bytes):
        return re.compile(rb"(?<!\w)" + re.escape(name) + rb"(?!\w)", re.IGNORECASE)
    return re.compile(r"(?<!\w)" + re.escape(name) + r"(?!\w)", re.IGNORECASE)
