"""The base layer's input rules, each on its own: no database, no app."""

from __future__ import annotations

from consent.base.tokens import hash_token


def test_a_token_hashes_as_every_stored_hash_was_made() -> None:
    # a literal, not hashlib again: a changed hash would lock out every stored token and link
    assert hash_token("cst_abc") == "4616d33881c1e96f793ba4c3b92846dd120b82a95090ac295915c632254c1c3d"
