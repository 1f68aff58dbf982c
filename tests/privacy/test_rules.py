"""The rules of erasure on their own: ids and names in the record's JSON, names in mail texts."""

from __future__ import annotations

from consent.privacy.rules import FORMER_MEMBER, name_in_text, names, replaced

OLD, NEW, OTHER = "11111111-aaaa", "22222222-bbbb", "33333333-cccc"


def test_the_id_and_the_name_beside_it_are_replaced_and_nothing_else() -> None:
    record = {
        "responses": [
            {"member": {"id": OLD, "name": "Quin"}, "kind": "concern", "text": "Quin thinks so"},
            {"member": {"id": OTHER, "name": "Bo"}, "kind": "consent", "recorded_by": {"id": OLD, "name": "Quin"}},
        ],
        "objections": [{"id": "o1", "member": OLD, "name": "Quin", "text": "No"}],
    }
    assert replaced(record, OLD, NEW) == {
        "responses": [
            {"member": {"id": NEW, "name": FORMER_MEMBER}, "kind": "concern", "text": "Quin thinks so"},
            {
                "member": {"id": OTHER, "name": "Bo"},
                "kind": "consent",
                "recorded_by": {"id": NEW, "name": FORMER_MEMBER},
            },
        ],
        "objections": [{"id": "o1", "member": NEW, "name": FORMER_MEMBER, "text": "No"}],
    }
    # a selection's nominations are keyed by member
    nominations = {OLD: {"candidate": OTHER, "reason": "Calm"}, OTHER: {"candidate": OLD, "reason": "Kind"}}
    assert replaced(nominations, OLD, NEW) == {
        NEW: {"candidate": OTHER, "reason": "Calm"},
        OTHER: {"candidate": NEW, "reason": "Kind"},
    }
    assert names({"member": OLD}, OLD) and names([{"lapsed": [OLD]}], OLD)
    assert not names({"text": f"about {OLD}"}, OLD)


def test_a_name_in_a_text_is_a_whole_word_in_any_case() -> None:
    assert name_in_text("Bo").sub("X", "Bo's idea, about BO and bob") == "X's idea, about X and bob"
    assert name_in_text(b"Bo").sub(b"X", b"to bo: hello") == b"to X: hello"
