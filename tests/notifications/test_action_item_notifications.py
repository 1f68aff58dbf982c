"""Whom a decision's action items ask is told so, at once by default, when it is decided."""

from __future__ import annotations

from tests.notifications.test_notifications import addressed, body, mails_to, notifications
from tests.rounds.conftest import Circle


async def test_the_people_asked_are_told_when_it_is_decided(circle: Circle) -> None:
    asked = [
        {"what": "Ask the baker", "owner_id": circle.ids["bo"], "due_on": "2026-12-10"},
        {"what": "Sweep", "owner_id": circle.ids["bo"]},
        {"what": "Find crates", "owner_id": circle.ids["cy"]},
    ]
    proposal_id = (await circle.propose(title="Bread runs", action_items=asked))["id"]
    for step in ("start", "advance", "advance"):
        await circle.ok(proposal_id, "ada", step)
    for name in ("ada", "bo", "cy", "di"):
        await circle.ok(proposal_id, name, "consent")
    sent = await mails_to(circle.settings, 3 + 3 + 3 + 4 + 2)
    told = [m for m in sent if str(m["Subject"]) == "[Riverside] Bread runs: you are asked to do something"]
    assert addressed(told) == {"bo": 1, "cy": 1}  # once each, however many items
    assert "asks you to do something: accept or decline it on the decision's page" in body(told[0])
    [note] = [n for n in (await notifications(circle, "cy"))["items"] if n["kind"] == "action_item"]
    assert note["url"] == f"/decisions/{note['decision_id']}"
    assert not [n for n in (await notifications(circle, "di"))["items"] if n["kind"] == "action_item"]
