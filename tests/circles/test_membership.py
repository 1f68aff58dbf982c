"""Membership with consent (issue 13), through the API of the real app on a real database:
nobody is in a circle without accepting an invitation, which shows the circle's standing
agreements; members leave and stewards remove them, their open objections lapsing and async
proposals no longer waiting for them; a circle always keeps a steward; roles past their term
end give no powers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from consent.app import create_app
from consent.base.settings import Settings
from tests.helpers import (
    Headers,
    add_domain,
    add_member,
    assert_refused,
    create_circle,
    proposal_body,
    sign_up,
    signed_in,
)
from tests.rounds.conftest import MovableClock

BASE = "http://127.0.0.1"
INVITATION_KEYS = {"id", "circle_id", "circle_name", "invited_by", "roles", "term_ends_on", "email", "open_link"}


@dataclass
class Org:
    """Acme, made by Ada (its facilitator), with Bo and Cy as plain members; Eve has an
    account and is in no circle; nobody@example.org has no account."""

    client: AsyncTestClient
    clock: MovableClock
    id: str
    people: dict[str, Headers] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    async def read(self, who: str = "ada", circle_id: str | None = None) -> dict[str, Any]:
        response = await self.client.get(f"/api/circles/{circle_id or self.id}", headers=self.people[who])
        assert response.status_code == 200, response.text
        return response.json()

    async def members(self, circle_id: str | None = None, who: str = "ada") -> dict[str, list[str]]:
        circle = await self.read(who, circle_id)
        return {m["name"]: sorted(r["name"] for r in m["roles"]) for m in circle["members"]}

    async def add(self, who: str, email: str, circle_id: str | None = None, **body: Any) -> Any:
        return await self.client.post(
            f"/api/circles/{circle_id or self.id}/members", json={"email": email, **body}, headers=self.people[who]
        )

    async def invite(self, who: str, email: str, circle_id: str | None = None, **body: Any) -> dict[str, Any]:
        response = await self.add(who, email, circle_id, **body)
        assert response.status_code == 202, response.text
        assert set(response.json()) == {"invitation"}
        return response.json()["invitation"]

    async def invitations(self, who: str) -> list[dict[str, Any]]:
        response = await self.client.get("/api/invitations", headers=self.people[who])
        assert response.status_code == 200, response.text
        return response.json()["items"]

    async def answer(self, who: str, invitation_id: str, answer: str = "accept") -> Any:
        return await self.client.post(f"/api/invitations/{invitation_id}/{answer}", headers=self.people[who])

    async def leave(self, who: str, circle_id: str | None = None) -> Any:
        return await self.client.delete(f"/api/circles/{circle_id or self.id}/members/me", headers=self.people[who])

    async def remove(self, who: str, member: str, circle_id: str | None = None) -> Any:
        path = f"/api/circles/{circle_id or self.id}/members/{self.ids[member]}"
        return await self.client.delete(path, headers=self.people[who])

    async def propose(self, domain_id: str, who: str = "ada", **fields: Any) -> dict[str, Any]:
        deadline = (self.clock.now + timedelta(days=7)).isoformat()
        response = await self.client.post(
            f"/api/circles/{self.id}/proposals",
            json=proposal_body(domain_id, deadline, **fields),
            headers=self.people[who],
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def act(self, proposal_id: str, who: str, type_: str, **data: Any) -> dict[str, Any]:
        body = {"type": type_, "client_id": uuid.uuid4().hex, **data}
        response = await self.client.post(f"/api/proposals/{proposal_id}/actions", json=body, headers=self.people[who])
        assert response.status_code == 200, response.text
        return response.json()

    async def proposal(self, proposal_id: str, who: str = "ada") -> dict[str, Any]:
        response = await self.client.get(f"/api/proposals/{proposal_id}", headers=self.people[who])
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def org(settings: Settings) -> AsyncIterator[Org]:
    clock = MovableClock()
    async with AsyncTestClient(app=create_app(settings, clock=clock), base_url=BASE) as client:
        people, ids = {}, {}
        for name in ("ada", "bo", "cy", "eve", "zed"):
            people[name], ids[name] = await signed_in(client, name)
        circle = await create_circle(client, people["ada"], "Acme", aim="Make anvils")
        for name in ("bo", "cy"):
            await add_member(client, people["ada"], circle["id"], name)
        await create_circle(client, people["zed"], "Zed's own")
        yield Org(client=client, clock=clock, id=circle["id"], people=people, ids=ids)


# Adding someone invites them


async def test_adding_someone_who_is_not_a_member_invites_them_whether_or_not_they_have_an_account(
    org: Org,
) -> None:
    ends = (org.clock.now.date() + timedelta(days=90)).isoformat()
    for_eve = await org.invite("ada", " Eve@Example.org ", roles=["Secretary"], term_ends_on=ends)
    for_nobody = await org.invite("ada", "nobody@example.org", roles=["Secretary"], term_ends_on=ends)
    # The same answer, field for field: it does not tell whether the email has an account.
    assert set(for_eve) == set(for_nobody) == INVITATION_KEYS | {"link"}
    for invitation, email in ((for_eve, "eve@example.org"), (for_nobody, "nobody@example.org")):
        assert invitation["email"] == email
        assert invitation["circle_id"] == org.id and invitation["circle_name"] == "Acme"
        assert invitation["invited_by"] == {"id": org.ids["ada"], "name": "Ada"}
        assert invitation["roles"] == ["secretary"] and invitation["term_ends_on"] == ends
        assert invitation["link"].startswith(f"{BASE}/invitations/")
    assert for_eve["link"] != for_nobody["link"]

    # Nobody joined: they are invited, and its stewards see it.
    assert await org.members() == {"Ada": ["facilitator"], "Bo": [], "Cy": []}
    circle = await org.read()
    assert sorted(i["email"] for i in circle["invitations"]) == ["eve@example.org", "nobody@example.org"]
    assert all("link" not in i for i in circle["invitations"])  # only its hash is kept
    assert "invitations" not in await org.read("bo")  # not for a member without a role

    [mine] = await org.invitations("eve")
    assert mine == {k: v for k, v in for_eve.items() if k != "link"}
    assert await org.invitations("bo") == [] and await org.invitations("zed") == []
    assert_refused(await org.client.get("/api/invitations"), 401, "not_signed_in")


async def test_a_member_is_given_the_roles_at_once(org: Org) -> None:
    response = await org.add("ada", "bo@example.org", roles=["secretary"])
    assert response.status_code == 201, response.text
    membership = response.json()
    assert membership["circle_id"] == org.id
    assert membership["member"]["id"] == org.ids["bo"] and membership["member"]["email"] == "bo@example.org"
    assert [(r["name"], r["expired"]) for r in membership["member"]["roles"]] == [("secretary", False)]
    nothing = await org.add("ada", "cy@example.org")
    assert nothing.status_code == 201 and nothing.json()["member"]["roles"] == []
    assert (await org.read())["invitations"] == []


async def test_a_repeated_invitation_renews_the_open_one(org: Org) -> None:
    first = await org.invite("ada", "eve@example.org", roles=["secretary"])
    await add_member(org.client, org.people["ada"], org.id, "bo", ["facilitator"])
    again = await org.invite("bo", "EVE@example.org")
    assert again["id"] == first["id"] and again["link"] != first["link"]
    assert again["roles"] == [] and again["invited_by"] == {"id": org.ids["bo"], "name": "Bo"}  # the latest
    assert (await org.client.get(first["link"].removeprefix(BASE))).status_code == 404  # the old link stops
    assert (await org.client.get(again["link"].removeprefix(BASE))).status_code == 200
    assert [i["id"] for i in await org.invitations("eve")] == [first["id"]]


async def test_a_member_without_a_role_invites_nobody_and_learns_nothing(org: Org) -> None:
    before = await org.read()
    for email in ("eve@example.org", "nobody@example.org", "cy@example.org"):
        assert_refused(await org.add("bo", email), 403, "not_allowed")
    assert_refused(await org.add("zed", "eve@example.org"), 404, "not_found")
    assert await org.read() == before
    assert await org.invitations("eve") == []


# Accepting and declining


async def test_only_the_invited_account_accepts_and_joins_with_the_roles(org: Org) -> None:
    ends = (org.clock.now.date() + timedelta(days=30)).isoformat()
    invitation = await org.invite("ada", "eve@example.org", roles=["secretary", "Anvil keeper"], term_ends_on=ends)
    for who in ("bo", "zed"):
        for answer in ("accept", "decline"):
            assert_refused(await org.answer(who, invitation["id"], answer), 404, "not_found")
    assert_refused(await org.answer("eve", "00000000-0000-4000-8000-000000000000"), 404, "not_found")

    accepted = await org.answer("eve", invitation["id"])
    assert accepted.status_code == 200, accepted.text
    member = accepted.json()["member"]
    assert accepted.json()["circle_id"] == org.id and member["id"] == org.ids["eve"]
    assert sorted((r["name"], r["term_ends_on"]) for r in member["roles"]) == [
        ("Anvil keeper", ends),
        ("secretary", ends),
    ]
    assert (await org.members())["Eve"] == ["Anvil keeper", "secretary"]
    assert await org.invitations("eve") == [] and (await org.read())["invitations"] == []
    assert_refused(await org.answer("eve", invitation["id"]), 404, "not_found")  # answered once
    await add_domain(org.client, org.people["eve"], org.id, "Minutes")  # the secretary may change the circle


async def test_a_declined_invitation_is_gone_and_a_new_one_may_follow(org: Org) -> None:
    invitation = await org.invite("ada", "eve@example.org")
    declined = await org.answer("eve", invitation["id"], "decline")
    assert declined.status_code == 204 and not declined.content
    assert await org.invitations("eve") == [] and (await org.read())["invitations"] == []
    assert "Eve" not in await org.members()
    assert_refused(await org.answer("eve", invitation["id"]), 404, "not_found")
    assert (await org.client.get(invitation["link"].removeprefix(BASE))).status_code == 404

    again = await org.invite("ada", "eve@example.org")
    assert again["id"] != invitation["id"]
    assert (await org.answer("eve", again["id"])).status_code == 200
    assert "Eve" in await org.members()


async def test_a_leader_chosen_by_the_parent_joins_both_circles_on_accepting(org: Org) -> None:
    sub = await create_circle(org.client, org.people["ada"], "Sub", parent_id=org.id)
    await sign_up(org.client, "Fay")
    invitation = await org.invite("ada", "eve@example.org", sub["id"], roles=["leader"])
    assert "Eve" not in await org.members() and "Eve" not in await org.members(sub["id"])
    [pending] = (await org.read(circle_id=sub["id"]))["invitations"]  # shown to who invites: the parent's steward
    assert (pending["email"], pending["roles"]) == ("eve@example.org", ["leader"])
    assert (await org.answer("eve", invitation["id"])).status_code == 200
    assert (await org.members(sub["id"]))["Eve"] == ["leader"]
    assert (await org.members())["Eve"] == []  # the leader sits in the parent circle too
    # Sub's leader chooses its delegate, not its leader.
    assert_refused(await org.add("eve", "fay@example.org", sub["id"], roles=["leader"]), 403, "not_allowed")
    assert (await org.add("eve", "fay@example.org", sub["id"], roles=["delegate"])).status_code == 202


# Standing agreements, read before accepting


async def test_the_invitation_shows_the_circles_standing_agreements(org: Org) -> None:
    domain = await add_domain(org.client, org.people["ada"], org.id, "Workshop")
    decisions = {}
    for title, agreement in (("Tools go back on the wall", True), ("Paint the door blue", False)):
        proposal = await org.propose(domain["id"], title=title, text=f"{title}, always.", agreement=agreement)
        assert proposal["agreement"] is agreement
        for who, step in (("ada", "start"), ("ada", "advance"), ("ada", "advance")):
            await org.act(proposal["id"], who, step)
        for who in ("ada", "bo", "cy"):
            await org.act(proposal["id"], who, "consent")
        decision_id = (await org.proposal(proposal["id"]))["decision_id"]
        decision = (await org.client.get(f"/api/decisions/{decision_id}", headers=org.people["ada"])).json()
        assert decision["agreement"] is agreement
        decisions[title] = decision_id

    invitation = await org.invite("ada", "eve@example.org")
    mine = await org.client.get("/invitations", headers=org.people["eve"])
    assert mine.status_code == 200
    assert "Standing agreements of Acme" in mine.text
    assert "Tools go back on the wall, always." in mine.text and "Paint the door blue" not in mine.text
    link_page = await org.client.get(invitation["link"].removeprefix(BASE))  # before signing in
    assert link_page.status_code == 200 and "Tools go back on the wall, always." in link_page.text

    # A steward marks and unmarks a decision; nobody else may.
    path = f"/api/decisions/{decisions['Paint the door blue']}"
    assert_refused(await org.client.patch(path, json={"agreement": True}, headers=org.people["bo"]), 403, "not_allowed")
    assert_refused(await org.client.patch(path, json={"agreement": True}, headers=org.people["zed"]), 404, "not_found")
    assert_refused(await org.client.patch(path, json={"agreement": "yes"}, headers=org.people["ada"]), 400, "invalid")
    assert_refused(await org.client.patch(path, json={"title": "x"}, headers=org.people["ada"]), 400, "invalid")
    marked = await org.client.patch(path, json={"agreement": True}, headers=org.people["ada"])
    assert marked.status_code == 200 and marked.json()["agreement"] is True
    tools = f"/api/decisions/{decisions['Tools go back on the wall']}"
    unmarked = await org.client.patch(tools, json={"agreement": False}, headers=org.people["ada"])
    assert unmarked.status_code == 200 and unmarked.json()["agreement"] is False
    mine = await org.client.get("/invitations", headers=org.people["eve"])
    assert "Paint the door blue, always." in mine.text and "Tools go back on the wall" not in mine.text

    # A decision the circle retires (by consenting to a review) is no longer one of the agreements.
    body = {"outcome": "retire", "mode": "async", "closes_at": (org.clock.now + timedelta(days=7)).isoformat()}
    retired = await org.client.post(f"{path}/reviews", json=body, headers=org.people["ada"])
    assert retired.status_code == 201, retired.text
    review = retired.json()["proposal_id"]
    await org.act(review, "ada", "start")
    await org.act(review, "ada", "advance", to="consenting")
    mine = await org.client.get("/invitations", headers=org.people["eve"])
    assert "Paint the door blue, always." in mine.text  # not until the circle consents
    for who in ("ada", "bo", "cy"):
        await org.act(review, who, "consent")
    mine = await org.client.get("/invitations", headers=org.people["eve"])
    assert "Paint the door blue" not in mine.text and "no standing agreements yet" in mine.text


# Leaving and removing


async def test_a_member_leaves_and_a_steward_removes_another(org: Org) -> None:
    left = await org.leave("bo")
    assert left.status_code == 204 and not left.content
    assert await org.members() == {"Ada": ["facilitator"], "Cy": []}
    assert_refused(await org.leave("bo"), 404, "not_found")  # Bo sees nothing of Acme any more
    assert_refused(await org.remove("cy", "ada"), 403, "not_allowed")  # only stewards remove
    assert_refused(await org.remove("ada", "bo"), 404, "not_found")  # not a member
    assert_refused(await org.remove("zed", "cy"), 404, "not_found")  # nor visible to Zed
    assert_refused(
        await org.client.delete(f"/api/circles/{org.id}/members/not-an-id", headers=org.people["ada"]), 404, "not_found"
    )
    removed = await org.remove("ada", "cy")
    assert removed.status_code == 204
    assert await org.members() == {"Ada": ["facilitator"]}
    # To come back takes a new invitation, accepted.
    await add_member(org.client, org.people["ada"], org.id, "bo")
    assert "Bo" in await org.members()


async def test_a_circle_always_keeps_a_steward(org: Org) -> None:
    message = assert_refused(await org.leave("ada"), 409, "last_steward")
    assert "facilitator" in message
    assert_refused(await org.remove("ada", "ada"), 409, "last_steward")
    circle = await org.read()
    [role] = next(m for m in circle["members"] if m["name"] == "Ada")["roles"]
    # Nor may the last steward role be taken away (a page's form: the API has no call for it).
    page = await org.client.post(
        f"/circles/{org.id}/roles/{role['id']}/remove", headers=org.people["ada"], follow_redirects=False
    )
    assert page.status_code == 409 and "without a facilitator, secretary or leader" in page.text
    assert await org.read() == circle

    await add_member(org.client, org.people["ada"], org.id, "bo", ["secretary"])
    assert (await org.remove("bo", "ada")).status_code == 204  # a steward remains: Bo
    assert_refused(await org.leave("bo"), 409, "last_steward")
    assert (await org.leave("cy")).status_code == 204  # anyone else may leave
    assert await org.members(who="bo") == {"Bo": ["secretary"]}


async def test_the_leader_is_removed_by_the_parent_circle_that_chose_them(org: Org) -> None:
    sub = await create_circle(org.client, org.people["ada"], "Sub", parent_id=org.id)
    await add_member(org.client, org.people["ada"], sub["id"], "eve", ["leader"])
    await add_member(org.client, org.people["eve"], sub["id"], "cy", ["facilitator"])
    assert_refused(await org.remove("cy", "eve", sub["id"]), 403, "not_allowed")  # Sub's facilitator cannot
    assert (await org.remove("ada", "eve", sub["id"])).status_code == 204
    assert await org.members(sub["id"]) == {"Ada": [], "Cy": ["facilitator"]}
    assert "Eve" in await org.members()  # still in the parent circle


async def test_a_leaving_members_open_objections_lapse_and_async_proposals_stop_waiting(org: Org) -> None:
    domain = await add_domain(org.client, org.people["ada"], org.id, "Workshop")
    waiting = await org.propose(domain["id"], title="Open on Sundays")
    blocked = await org.propose(domain["id"], title="Sell the lathe")
    for proposal in (waiting, blocked):
        for step in ("start", "advance", "advance"):
            await org.act(proposal["id"], "ada", step)
        await org.act(proposal["id"], "ada", "consent")
    await org.act(waiting["id"], "bo", "concern", text="Who opens?")
    await org.act(blocked["id"], "bo", "consent")
    await org.act(blocked["id"], "cy", "object", text="We need the lathe for the spring orders.")
    live = await org.propose(domain["id"], title="Paint the workshop", mode="live", closes_at=None)
    await org.act(live["id"], "cy", "present")

    assert (await org.remove("ada", "cy")).status_code == 204

    # Nobody is waited for on `waiting` any more: it is decided; Bo's concern stays on record.
    decided = await org.proposal(waiting["id"])
    assert decided["state"] == "decided"
    events = (await org.client.get(f"/api/proposals/{waiting['id']}/events", headers=org.people["ada"])).json()
    left, done = events["items"][-2:]
    assert left["type"] == "member_left" and done["type"] == "decided"
    assert left["data"] == {"member": org.ids["cy"], "lapsed": [], "recorded_by": org.ids["ada"]}
    assert left["actor"] == {"id": org.ids["ada"], "name": "Ada"}  # who removed her
    decision = (await org.client.get(f"/api/decisions/{decided['decision_id']}", headers=org.people["ada"])).json()
    assert [c["text"] for c in decision["concerns"]] == ["Who opens?"]

    # Cy's objection lapsed, on the record, and no longer blocks.
    unblocked = await org.proposal(blocked["id"])
    assert unblocked["state"] == "decided"
    [objection] = unblocked["objections"]
    assert objection["status"] == "lapsed" and objection["text"] == "We need the lathe for the spring orders."
    assert any(r["data"].get("objection_id") == objection["id"] for r in unblocked["responses"])  # what she said
    decision = (await org.client.get(f"/api/decisions/{unblocked['decision_id']}", headers=org.people["ada"])).json()
    assert [(o["name"], o["status"]) for o in decision["objections"]] == [("Cy", "lapsed")]
    timeline = (await org.client.get(f"/decisions/{unblocked['decision_id']}", headers=org.people["ada"])).text
    assert "removed a member from the circle (1 open objection lapsed)" in timeline
    assert "lapsed: its author left the circle" in timeline

    # The live proposal: she is no longer present.
    meeting = await org.proposal(live["id"])
    assert meeting["state"] == "draft" and all(p["id"] != org.ids["cy"] for p in meeting["participants"])
    assert (await org.client.get(f"/api/proposals/{live['id']}/events?since=1", headers=org.people["ada"])).json()[
        "items"
    ][0]["type"] == "member_left"


async def test_leaving_of_ones_own_accord_is_recorded_as_such(org: Org) -> None:
    domain = await add_domain(org.client, org.people["ada"], org.id, "Workshop")
    proposal = await org.propose(domain["id"])
    await org.act(proposal["id"], "ada", "start")
    assert (await org.leave("bo")).status_code == 204
    events = (await org.client.get(f"/api/proposals/{proposal['id']}/events", headers=org.people["ada"])).json()
    left = events["items"][-1]
    assert left["type"] == "member_left" and left["actor"] == {"id": org.ids["bo"], "name": "Bo"}
    assert left["data"] == {"member": org.ids["bo"], "lapsed": []}  # no recorded_by: Bo did it
    assert all(p["id"] != org.ids["bo"] for p in (await org.proposal(proposal["id"]))["participants"])


# Terms


async def test_a_role_past_its_term_gives_no_powers_and_shows_as_expired(org: Org) -> None:
    tomorrow = (org.clock.now.date() + timedelta(days=1)).isoformat()
    await add_member(org.client, org.people["ada"], org.id, "bo", ["secretary"], term_ends_on=tomorrow)
    await add_member(org.client, org.people["ada"], org.id, "cy", ["facilitator"], term_ends_on=tomorrow)
    domain = await add_domain(org.client, org.people["bo"], org.id, "Minutes")  # in his term
    proposal = await org.propose(domain["id"], who="bo")
    assert set(proposal["facilitators"]) == {org.ids["ada"], org.ids["cy"]}

    org.clock.move(days=1)  # the term ends today: still in it
    assert (
        await org.client.patch(f"/api/circles/{org.id}", json={"aim": "Anvils"}, headers=org.people["bo"])
    ).status_code == 200

    org.clock.move(days=1)  # now it has ended
    roles = {m["name"]: m["roles"] for m in (await org.read())["members"]}
    assert [(r["name"], r["term_ends_on"], r["expired"]) for r in roles["Bo"]] == [("secretary", tomorrow, True)]
    assert [r["expired"] for r in roles["Ada"]] == [False]
    assert_refused(
        await org.client.patch(f"/api/circles/{org.id}", json={"aim": "Bo's"}, headers=org.people["bo"]),
        403,
        "not_allowed",
    )
    assert_refused(await org.add("bo", "eve@example.org"), 403, "not_allowed")
    assert_refused(await org.remove("bo", "cy"), 403, "not_allowed")
    # Nor is Cy a facilitator of the consent process any more.
    assert (await org.proposal(proposal["id"]))["facilitators"] == [org.ids["ada"]]
    refused = await org.client.post(
        f"/api/proposals/{proposal['id']}/actions",
        json={"type": "start", "client_id": "cy-start"},
        headers=org.people["cy"],
    )
    assert_refused(refused, 403, "not_facilitator")
    # Only roles in their term keep the circle's steward: Ada is the last one.
    assert_refused(await org.leave("ada"), 409, "last_steward")

    # Giving an ended role again renews it.
    renewed = await org.add("ada", "bo@example.org", roles=["secretary"])
    assert renewed.status_code == 201, renewed.text
    assert [(r["term_ends_on"], r["expired"]) for r in renewed.json()["member"]["roles"]] == [(None, False)]
    assert (await org.leave("ada")).status_code == 204


# Pages: what plain members are shown


async def test_plain_members_are_not_shown_forms_they_cannot_use(org: Org) -> None:
    steward = (await org.client.get(f"/circles/{org.id}", headers=org.people["ada"])).text
    member = (await org.client.get(f"/circles/{org.id}", headers=org.people["bo"])).text
    for form in ("Add a sub-circle", "Add a domain", "Invite a member or give a role", "Settings", "Remove Bo"):
        assert form in steward and form not in member
    assert "Leave this circle" in steward and "Leave this circle" in member
    assert ">remove</button>" in steward and ">remove</button>" not in member
