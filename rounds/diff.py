"""Word by word differences between two revisions, for the pages."""

from __future__ import annotations

import difflib
import re


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """[(op, text)], op one of "same", "removed", "added"; whitespace stays with its word."""
    before, after = re.findall(r"\S+\s*", old), re.findall(r"\S+\s*", new)
    parts: list[tuple[str, str]] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(("same", "".join(before[a1:a2])))
            continue
        if a2 > a1:
            parts.append(("removed", "".join(before[a1:a2])))
        if b2 > b1:
            parts.append(("added", "".join(after[b1:b2])))
    return parts
