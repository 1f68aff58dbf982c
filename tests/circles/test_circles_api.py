"""The circle API of API.md, through the real app on a real database.

Everyone signs in with a bearer token (cookies cleared), as a script would; the invitation
link tests also take the browser's way (session cookie and CSRF header). Membership with
consent (invitations, leaving, last stewards, terms) is in test_membership.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.helpers import (
    PASSWORD,
    Headers,
    add_domain,
    add_member,
    assert_refused,
    create_circle,
    proposal_body,
    sign_up,
    signed_in,
)

BASE = "http://127.0.0.1"


async def read(client: AsyncTestClient, who: Headers, circle_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/circles/{circle_id}", headers=who)
    assert response.status_code == 200, response.text
    return response.json()


async def refused_without_change(
    client: AsyncTestClient,
    who: Headers,
    circle_id: str,
    method: str,
    path: str,
    body: dict,
    status: int,
    code: str,
    field: str | None = None,
) -> str:
    """Sends a bad request, checks the envelope (and the field refused), and that the circle is
    exactly as before."""
    before = await read(client, who, circle_id)
    message = assert_refused(await client.request(method, path, json=body, headers=who), status, code, field)
    assert await read(client, who, circle_id) == before
    return message


async def listed(client: AsyncTestClient, who: Headers) -> dict[str, dict[str, Any]]:
    response = await client.get("/api/circles", headers=who)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"items"}
    return {item["id"]: item for item in response.json()["items"]}


def roles_by_name(circle: dict[str, Any]) -> dict[str, list[str]]:
    return {m["name"]: sorted(r["name"] for r in m["roles"]) for m in circle["members"]}


async def organisation(client: AsyncTestClient) -> tuple[Headers, dict[str, Any], dict[str, Any]]:
    """Ada, facilitator of the top-level circle Acme; Sub is a sub-circle she created."""
    ada, _ = await signed_in(client, "Ada")
    top = await create_circle(client, ada, "Acme", aim="Make anvils")
    sub = await create_circle(client, ada, "Sub", parent_id=top["id"], aim="Sell anvils")
    return ada, top, sub


# Signing in


async def test_anonymous_is_refused_with_401(client: AsyncTestClient) -> None:
    ada, _ = await signed_in(client, "Ada")
    top = await create_circle(client, ada, "Acme")
    assert_refused(await client.get("/api/circles"), 401, "not_signed_in")
    assert_refused(await client.get(f"/api/circles/{top['id']}"), 401, "not_signed_in")
    assert_refused(
        await client.post(
            f"/api/circles/{top['id']}/domains", json={"name": "x"}, headers={"Authorization": "Bearer cst_forged"}
        ),
        401,
        "not_signed_in",
    )
    assert_refused(
        await client.post("/api/circles", json={"name": "Sneaky"}, headers={"Authorization": "Bearer cst_forged"}),
        401,
        "not_signed_in",
    )
    # a browser that is not signed in, with a valid CSRF token
    assert (await client.get("/")).status_code == 200
    csrf = client.cookies.get("csrftoken")
    assert csrf
    assert_refused(
        await client.post("/api/circles", json={"name": "Sneaky"}, headers={"x-csrftoken": csrf}), 401, "not_signed_in"
    )
    client.cookies.clear()
    assert list(await listed(client, ada)) == [top["id"]]  # nothing was created


async def test_anonymous_post_without_any_credentials_is_401(client: AsyncTestClient) -> None:
    assert_refused(await client.post("/api/circles", json={"name": "Sneaky"}), 401, "not_signed_in")


# Creating and reading


async def test_creating_a_top_level_circle_makes_the_creator_its_facilitator(client: AsyncTestClient) -> None:
    ada, _ = await signed_in(client, "Ada")
    response = await client.post("/api/circles", json={"name": "  Acme \t Inc ", "aim": " Make anvils "}, headers=ada)
    assert response.status_code == 201, response.text
    circle = response.json()
    assert circle["name"] == "Acme Inc"
    assert circle["aim"] == "Make anvils"
    assert circle["parent_id"] is None
    assert circle["organisation_id"] == circle["id"]  # a top-level circle is its organisation
    assert circle["private"] is False
    assert circle["domains"] == [] and circle["children"] == []
    [member] = circle["members"]
    assert member["name"] == "Ada" and member["email"] == "ada@example.org"
    assert [r["name"] for r in member["roles"]] == ["facilitator"]
    assert member["roles"][0]["term_ends_on"] is None

    assert list(await listed(client, ada)) == [circle["id"]]
    assert (await listed(client, ada))[circle["id"]]["aim"] == "Make anvils"
    assert await read(client, ada, circle["id"]) == circle


async def test_a_sub_circle_belongs_to_the_organisation_and_its_creator_joins_without_a_role(
    client: AsyncTestClient,
) -> None:
    ada, top, sub = await organisation(client)
    assert sub["parent_id"] == top["id"]
    assert sub["organisation_id"] == top["id"]
    assert roles_by_name(sub) == {"Ada": []}
    assert (await read(client, ada, top["id"]))["children"] == [{"id": sub["id"], "name": "Sub"}]
    assert set(await listed(client, ada)) == {top["id"], sub["id"]}


async def test_a_sub_circle_of_an_unknown_parent_is_not_found(client: AsyncTestClient) -> None:
    ada, _ = await signed_in(client, "Ada")
    assert_refused(
        await client.post(
            "/api/circles", json={"name": "Orphan", "parent_id": "00000000-0000-4000-8000-000000000000"}, headers=ada
        ),
        404,
        "not_found",
    )
    assert await listed(client, ada) == {}


# Who may see and change what


async def test_someone_outside_the_organisation_sees_nothing_and_changes_nothing(client: AsyncTestClient) -> None:
    ada, top, sub = await organisation(client)
    await add_domain(client, ada, top["id"], "Anvils")
    zed, _ = await signed_in(client, "Zed")
    await sign_up(client, "Bob")
    await create_circle(client, zed, "Zed's own")
    before = await read(client, ada, top["id"])

    missing = assert_refused(await client.get(f"/api/circles/{top['id']}", headers=zed), 404, "not_found")
    unknown = assert_refused(
        await client.get("/api/circles/00000000-0000-4000-8000-000000000000", headers=zed), 404, "not_found"
    )
    assert missing == unknown  # existence is not given away
    assert_refused(await client.get(f"/api/circles/{sub['id']}", headers=zed), 404, "not_found")
    assert top["id"] not in await listed(client, zed) and sub["id"] not in await listed(client, zed)
    for path, body in [
        (f"/api/circles/{top['id']}/members", {"email": "bob@example.org"}),
        (f"/api/circles/{top['id']}/members", {"email": "zed@example.org"}),
        (f"/api/circles/{top['id']}/domains", {"name": "Mine now"}),
        ("/api/circles", {"name": "Inside job", "parent_id": top["id"]}),
    ]:
        assert_refused(await client.post(path, json=body, headers=zed), 404, "not_found")
    assert_refused(
        await client.patch(f"/api/circles/{top['id']}", json={"name": "Zedco"}, headers=zed), 404, "not_found"
    )

    assert await read(client, ada, top["id"]) == before
    assert set(await listed(client, ada)) == {top["id"], sub["id"]}


async def test_a_member_without_a_role_reads_but_cannot_change(client: AsyncTestClient) -> None:
    ada, top, sub = await organisation(client)
    await add_domain(client, ada, top["id"], "Anvils")
    bob, _ = await signed_in(client, "Bob")
    await sign_up(client, "Cy")
    await add_member(client, ada, top["id"], "Bob")
    before_top, before_sub = await read(client, ada, top["id"]), await read(client, ada, sub["id"])

    seen = await read(client, bob, top["id"])
    assert [d["name"] for d in seen["domains"]] == ["Anvils"]
    assert roles_by_name(seen) == {"Ada": ["facilitator"], "Bob": []}
    # a member sees their own email, the stewards' see everyone's (docs/privacy.md)
    assert {m["name"]: m.get("email") for m in seen["members"]} == {"Ada": None, "Bob": "bob@example.org"}
    assert {m["email"] for m in (await read(client, ada, top["id"]))["members"]} == {
        "ada@example.org",
        "bob@example.org",
    }
    assert set(await listed(client, bob)) == {top["id"], sub["id"]}

    for circle in (top, sub):
        assert_refused(
            await client.post("/api/circles", json={"name": "Mine", "parent_id": circle["id"]}, headers=bob),
            403,
            "not_allowed",
        )
        assert_refused(
            await client.post(f"/api/circles/{circle['id']}/domains", json={"name": "Mine"}, headers=bob),
            403,
            "not_allowed",
        )
        for roles in ([], ["facilitator"], ["Treasurer"]):
            assert_refused(
                await client.post(
                    f"/api/circles/{circle['id']}/members",
                    json={"email": "cy@example.org", "roles": roles},
                    headers=bob,
                ),
                403,
                "not_allowed",
            )
        for email in ("cy@example.org", "nobody@example.org"):  # the same whether or not an account has it
            assert_refused(
                await client.post(f"/api/circles/{circle['id']}/members", json={"email": email}, headers=bob),
                403,
                "not_allowed",
            )
        assert_refused(
            await client.patch(f"/api/circles/{circle['id']}", json={"name": "Bobco"}, headers=bob), 403, "not_allowed"
        )
    assert_refused(
        await client.post(
            f"/api/circles/{sub['id']}/members", json={"email": "bob@example.org", "roles": ["leader"]}, headers=bob
        ),
        403,
        "not_allowed",
    )  # not even himself

    assert await read(client, ada, top["id"]) == before_top
    assert await read(client, ada, sub["id"]) == before_sub
    assert set(await listed(client, ada)) == {top["id"], sub["id"]}


async def test_roles_are_cleaned_and_named_roles_kept(client: AsyncTestClient) -> None:
    ada, _ = await signed_in(client, "Ada")
    await sign_up(client, "Bob")
    top = await create_circle(client, ada, "Acme")
    ends = (datetime.now(UTC).date() + timedelta(days=90)).isoformat()
    membership = await add_member(client, ada, top["id"], "Bob", [" Secretary ", "Anvil   Keeper"], term_ends_on=ends)
    assert membership["circle_id"] == top["id"]
    assert membership["member"]["name"] == "Bob" and membership["member"]["email"] == "bob@example.org"
    assert sorted((r["name"], r["term_ends_on"]) for r in membership["member"]["roles"]) == [
        ("Anvil Keeper", ends),
        ("secretary", ends),
    ]
    assert roles_by_name(await read(client, ada, top["id"])) == {
        "Ada": ["facilitator"],
        "Bob": ["Anvil Keeper", "secretary"],
    }
    # a member who already belongs can be given one more role
    await add_member(client, ada, top["id"], "Bob", ["facilitator"])
    assert roles_by_name(await read(client, ada, top["id"]))["Bob"] == ["Anvil Keeper", "facilitator", "secretary"]
    # adding without roles keeps what is there
    await add_member(client, ada, top["id"], "Bob")
    assert roles_by_name(await read(client, ada, top["id"]))["Bob"] == ["Anvil Keeper", "facilitator", "secretary"]


async def test_a_secretary_may_change_the_circle(client: AsyncTestClient) -> None:
    ada, _ = await signed_in(client, "Ada")
    bob, _ = await signed_in(client, "Bob")
    await sign_up(client, "Cy")
    top = await create_circle(client, ada, "Acme")
    await add_member(client, ada, top["id"], "Bob", ["secretary"])
    await add_member(client, bob, top["id"], "Cy")
    await add_domain(client, bob, top["id"], "Minutes")
    sub = await create_circle(client, bob, "Records", parent_id=top["id"])
    circle = await read(client, ada, top["id"])
    assert roles_by_name(circle) == {"Ada": ["facilitator"], "Bob": ["secretary"], "Cy": []}
    assert [d["name"] for d in circle["domains"]] == ["Minutes"]
    assert circle["children"] == [{"id": sub["id"], "name": "Records"}]


# Domains


async def test_a_facilitator_adds_domains_and_delegates_part_of_one_to_a_sub_circle(client: AsyncTestClient) -> None:
    ada, top, sub = await organisation(client)
    response = await client.post(
        f"/api/circles/{top['id']}/domains",
        json={"name": " Anvil   sales ", "description": " Everything sold "},
        headers=ada,
    )
    assert response.status_code == 201, response.text
    sales = response.json()
    assert sales["name"] == "Anvil sales" and sales["description"] == "Everything sold"
    assert sales["parent_domain_id"] is None and sales["id"]

    part = await add_domain(client, ada, sub["id"], "Online sales", parent_domain_id=sales["id"])
    assert part["parent_domain_id"] == sales["id"]
    assert (await read(client, ada, sub["id"]))["domains"] == [part]
    assert (await read(client, ada, top["id"]))["domains"] == [sales]  # the parent keeps its domain


async def test_only_the_parent_holding_a_domain_can_delegate_it(client: AsyncTestClient) -> None:
    ada, top, sub = await organisation(client)
    sibling = await create_circle(client, ada, "Sibling", parent_id=top["id"])
    await add_member(client, ada, sub["id"], "Ada", ["leader"])  # so that Ada may make a sub-circle of Sub
    grandchild = await create_circle(client, ada, "Grandchild", parent_id=sub["id"])
    sales = await add_domain(client, ada, top["id"], "Sales")
    online = await add_domain(client, ada, sub["id"], "Online", parent_domain_id=sales["id"])
    elsewhere = await create_circle(client, ada, "Elsewhere")
    foreign = await add_domain(client, ada, elsewhere["id"], "Foreign")
    circles = (top, sub, sibling, grandchild, elsewhere)
    before = [await read(client, ada, c["id"]) for c in circles]

    for circle, domain in [(sibling, online), (grandchild, sales), (top, online), (sub, online)]:
        message = assert_refused(
            await client.post(
                f"/api/circles/{circle['id']}/domains",
                json={"name": "Taken", "parent_domain_id": domain["id"]},
                headers=ada,
            ),
            422,
            "not_domain_holder",
            field="parent_domain_id",
        )
        assert (
            message == "The parent circle's domain: only the parent circle that holds a domain can delegate part of it."
        )
    for domain_id in (foreign["id"], "00000000-0000-4000-8000-000000000000"):
        message = assert_refused(
            await client.post(
                f"/api/circles/{sub['id']}/domains", json={"name": "Taken", "parent_domain_id": domain_id}, headers=ada
            ),
            422,
            "no_such_domain",
            field="parent_domain_id",
        )
        assert message == "The parent circle's domain: no such domain in this organisation."

    assert [await read(client, ada, c["id"]) for c in circles] == before


async def test_delegating_is_for_the_parents_stewards(client: AsyncTestClient) -> None:
    ada, top, sub = await organisation(client)
    bob, _ = await signed_in(client, "Bob")
    sales = await add_domain(client, ada, top["id"], "Sales")
    await add_member(client, ada, top["id"], "Bob")
    await add_member(client, ada, sub["id"], "Bob", ["leader"])  # a steward of Sub, not of Acme
    assert_refused(
        await client.post(
            f"/api/circles/{sub['id']}/domains", json={"name": "Online", "parent_domain_id": sales["id"]}, headers=bob
        ),
        403,
        "not_allowed",
    )
    assert (await read(client, ada, sub["id"]))["domains"] == []
    own = await add_domain(client, bob, sub["id"], "Shop floor")  # its own domain, though, it may add
    assert (await read(client, ada, sub["id"]))["domains"] == [own]


# Leaders and delegates: the double link


async def test_a_leader_chosen_by_the_parent_is_a_member_of_both_circles(client: AsyncTestClient) -> None:
    ada, top, sub = await organisation(client)
    await sign_up(client, "Cy")
    membership = await add_member(client, ada, sub["id"], "Cy", ["Leader"])
    assert membership["circle_id"] == sub["id"]
    assert [r["name"] for r in membership["member"]["roles"]] == ["leader"]
    assert roles_by_name(await read(client, ada, sub["id"])) == {"Ada": [], "Cy": ["leader"]}
    assert roles_by_name(await read(client, ada, top["id"])) == {"Ada": ["facilitator"], "Cy": []}


async def test_a_delegate_chosen_by_the_sub_circle_joins_the_parent_and_only_the_parent_chooses_the_leader(
    client: AsyncTestClient,
) -> None:
    ada, top, sub = await organisation(client)
    cy, _ = await signed_in(client, "Cy")
    dan, _ = await signed_in(client, "Dan")
    for name in ("Eve", "Fay"):
        await sign_up(client, name)
    await add_member(client, ada, sub["id"], "Cy", ["leader"])
    await add_member(client, cy, sub["id"], "Dan", ["facilitator"])  # the leader may change Sub
    assert "Dan" not in roles_by_name(await read(client, ada, top["id"]))

    await add_member(client, dan, sub["id"], "Eve", ["delegate"])
    assert roles_by_name(await read(client, ada, sub["id"]))["Eve"] == ["delegate"]
    assert roles_by_name(await read(client, ada, top["id"]))["Eve"] == []

    before_top, before_sub = await read(client, ada, top["id"]), await read(client, ada, sub["id"])
    message = assert_refused(
        await client.post(
            f"/api/circles/{sub['id']}/members", json={"email": "fay@example.org", "roles": ["leader"]}, headers=dan
        ),
        403,
        "not_allowed",
    )
    assert "parent" in message
    assert_refused(
        await client.post(
            f"/api/circles/{sub['id']}/members",
            json={"email": "fay@example.org", "roles": ["secretary", "leader"]},
            headers=dan,
        ),
        403,
        "not_allowed",
    )
    assert await read(client, ada, top["id"]) == before_top
    assert await read(client, ada, sub["id"]) == before_sub

    # the parent's facilitator alone may choose the leader, not Sub's other roles
    assert_refused(
        await client.post(
            f"/api/circles/{sub['id']}/members", json={"email": "fay@example.org", "roles": ["secretary"]}, headers=ada
        ),
        403,
        "not_allowed",
    )
    assert await read(client, ada, sub["id"]) == before_sub


@pytest.mark.parametrize("role", ["leader", "delegate"])
async def test_a_top_level_circle_has_no_leader_or_delegate(client: AsyncTestClient, role: str) -> None:
    ada, _ = await signed_in(client, "Ada")
    await sign_up(client, "Bob")
    top = await create_circle(client, ada, "Acme")
    before = await read(client, ada, top["id"])
    message = assert_refused(
        await client.post(
            f"/api/circles/{top['id']}/members", json={"email": "bob@example.org", "roles": [role]}, headers=ada
        ),
        422,
        "no_parent_circle",
    )
    assert "roles" in message
    assert await read(client, ada, top["id"]) == before


async def test_the_parents_secretary_chooses_the_leader_of_a_private_sub_circle_she_is_not_in(
    client: AsyncTestClient,
) -> None:
    ada, top, sub = await organisation(client)
    bea, _ = await signed_in(client, "Bea")
    await sign_up(client, "Cy")
    await add_member(client, ada, top["id"], "Bea", ["secretary"])
    await add_member(client, ada, sub["id"], "Ada", ["leader"])
    assert (await client.patch(f"/api/circles/{sub['id']}", json={"private": True}, headers=ada)).status_code == 200

    membership = await add_member(client, bea, sub["id"], "Cy", ["leader"])
    assert membership["member"]["name"] == "Cy"
    assert [r["name"] for r in membership["member"]["roles"]] == ["leader"]
    assert roles_by_name(await read(client, ada, sub["id"])) == {"Ada": ["leader"], "Cy": ["leader"]}
    assert "members" not in await read(client, bea, sub["id"])  # still private to her


# Changing a circle


async def test_a_facilitator_changes_a_circles_settings(client: AsyncTestClient) -> None:
    ada, _ = await signed_in(client, "Ada")
    top = await create_circle(client, ada, "Acme")
    response = await client.patch(
        f"/api/circles/{top['id']}",
        json={
            "name": " Acme  Ltd ",
            "aim": " Anvils ",
            "private": True,
            "default_review_months": 12,
            "silence_is_consent": True,
        },
        headers=ada,
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["name"], changed["aim"], changed["private"]) == ("Acme Ltd", "Anvils", True)
    assert (changed["default_review_months"], changed["silence_is_consent"]) == (12, True)
    assert await read(client, ada, top["id"]) == changed
    changed_back = (await client.patch(f"/api/circles/{top['id']}", json={"private": False}, headers=ada)).json()
    assert changed_back["private"] is False and changed_back["name"] == "Acme Ltd"


async def test_moving_a_sub_circle_under_another(client: AsyncTestClient) -> None:
    ada, top, sub = await organisation(client)
    other = await create_circle(client, ada, "Other", parent_id=top["id"])
    await add_member(client, ada, sub["id"], "Ada", ["leader"])
    await add_member(client, ada, other["id"], "Ada", ["leader"])
    response = await client.patch(f"/api/circles/{sub['id']}", json={"parent_id": other["id"]}, headers=ada)
    assert response.status_code == 200, response.text
    assert response.json()["parent_id"] == other["id"]
    assert (await read(client, ada, other["id"]))["children"] == [{"id": sub["id"], "name": "Sub"}]
    assert (await read(client, ada, top["id"]))["children"] == [{"id": other["id"], "name": "Other"}]


async def test_a_circle_cannot_move_into_itself_or_its_own_sub_circles(client: AsyncTestClient) -> None:
    ada, top, sub = await organisation(client)
    await add_member(client, ada, sub["id"], "Ada", ["leader"])
    child = await create_circle(client, ada, "Child", parent_id=sub["id"])
    await add_member(client, ada, child["id"], "Ada", ["leader"])
    grandchild = await create_circle(client, ada, "Grandchild", parent_id=child["id"])
    await add_member(client, ada, grandchild["id"], "Ada", ["leader"])
    circles = (top, sub, child, grandchild)
    before = [await read(client, ada, c["id"]) for c in circles]
    for new_parent in (sub, child, grandchild):
        message = assert_refused(
            await client.patch(f"/api/circles/{sub['id']}", json={"parent_id": new_parent["id"]}, headers=ada),
            422,
            "cycle",
            field="parent_id",
        )
        assert message == "The parent circle: a circle cannot sit inside itself or one of its own sub-circles."
    assert [await read(client, ada, c["id"]) for c in circles] == before


async def test_a_top_level_circle_cannot_be_moved(client: AsyncTestClient) -> None:
    ada, top, sub = await organisation(client)
    elsewhere = await create_circle(client, ada, "Elsewhere")
    before = await read(client, ada, top["id"])
    for new_parent in (sub, elsewhere):
        assert_refused(
            await client.patch(f"/api/circles/{top['id']}", json={"parent_id": new_parent["id"]}, headers=ada),
            422,
            "top_level",
        )
    assert await read(client, ada, top["id"]) == before


async def test_a_sub_circle_cannot_move_to_another_organisation_or_an_unknown_parent(client: AsyncTestClient) -> None:
    ada, _top, sub = await organisation(client)
    await add_member(client, ada, sub["id"], "Ada", ["leader"])
    elsewhere = await create_circle(client, ada, "Elsewhere")
    before = await read(client, ada, sub["id"])
    assert_refused(
        await client.patch(f"/api/circles/{sub['id']}", json={"parent_id": elsewhere["id"]}, headers=ada),
        422,
        "other_organisation",
    )
    assert_refused(
        await client.patch(
            f"/api/circles/{sub['id']}", json={"parent_id": "00000000-0000-4000-8000-000000000000"}, headers=ada
        ),
        422,
        "no_such_parent",
    )
    assert await read(client, ada, sub["id"]) == before
    assert (await read(client, ada, elsewhere["id"]))["children"] == []


async def test_moving_needs_a_steward_of_the_new_parent_too(client: AsyncTestClient) -> None:
    ada, top, sub = await organisation(client)
    other = await create_circle(client, ada, "Other", parent_id=top["id"])  # Ada is only a member of Other
    await add_member(client, ada, sub["id"], "Ada", ["leader"])
    before = await read(client, ada, sub["id"])
    assert_refused(
        await client.patch(f"/api/circles/{sub['id']}", json={"parent_id": other["id"]}, headers=ada),
        403,
        "not_allowed",
    )
    assert await read(client, ada, sub["id"]) == before


# Private circles


async def test_a_private_circle_shows_only_its_name_to_the_rest_of_the_organisation(client: AsyncTestClient) -> None:
    ada, top, sub = await organisation(client)
    bob, _ = await signed_in(client, "Bob")
    await add_member(client, ada, top["id"], "Bob")
    await add_member(client, ada, sub["id"], "Ada", ["leader"])
    child = await create_circle(client, ada, "Child", parent_id=sub["id"])
    secrets = await add_domain(client, ada, sub["id"], "Secrets")

    # while public, Bob sees Sub's members, but not their emails: he is not one of them
    public = await read(client, bob, sub["id"])
    assert roles_by_name(public) == {"Ada": ["leader"]}
    assert all("email" not in m for m in public["members"])
    assert [d["name"] for d in public["domains"]] == ["Secrets"]

    assert (await client.patch(f"/api/circles/{sub['id']}", json={"private": True}, headers=ada)).status_code == 200
    summary = (await listed(client, bob))[sub["id"]]
    assert summary == {
        "id": sub["id"],
        "name": "Sub",
        "parent_id": top["id"],
        "organisation_id": top["id"],
        "private": True,
    }
    assert "aim" in (await listed(client, bob))[top["id"]]
    seen = await read(client, bob, sub["id"])
    assert seen["name"] == "Sub" and seen["private"] is True
    for hidden in ("aim", "members", "domains", "default_review_months", "silence_is_consent"):
        assert hidden not in seen
    assert seen["children"] == [{"id": child["id"], "name": "Child"}]
    # its members still see everything
    assert (await listed(client, ada))[sub["id"]]["aim"] == "Sell anvils"
    assert [d["name"] for d in (await read(client, ada, sub["id"]))["domains"]] == ["Secrets"]

    # nor its proposals on its page (the API already answered 404 for them)
    body = proposal_body(secrets["id"], "", mode="live", closes_at=None, title="Anvil prices")
    assert (await client.post(f"/api/circles/{sub['id']}/proposals", json=body, headers=ada)).status_code == 201
    assert "Anvil prices" in (await client.get(f"/circles/{sub['id']}", headers=ada)).text
    page = (await client.get(f"/circles/{sub['id']}", headers=bob)).text
    assert "Anvil prices" not in page and "only its members see" in page


# Bad input, endpoint by endpoint: the right error, the field named, nothing changed


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"name": ""}, 422, "empty_name", "name"),
        ({"name": " \t "}, 422, "empty_name", "name"),
        ({"name": "x" * 101}, 422, "name_too_long", "name"),
        ({"name": "x" * 201}, 400, "invalid", "name"),
        ({"aim": "no name"}, 400, "invalid", "name"),
        ({"name": "Acme", "colour": "red"}, 400, "invalid", "colour"),
        ({"name": 7}, 400, "invalid", "name"),
        ({"name": "Acme", "aim": ["a"]}, 400, "invalid", "aim"),
        ({"name": "Acme", "parent_id": "not-a-uuid"}, 400, "invalid", "parent_id"),
        ({"name": "Ac\x00me"}, 422, "invalid", "name"),
        ({"name": "Acme", "aim": "\x00"}, 422, "invalid", "aim"),
    ],
)
async def test_bad_new_circles_are_refused(
    client: AsyncTestClient, body: dict, status: int, code: str, field: str
) -> None:
    ada, top, sub = await organisation(client)
    before = await read(client, ada, top["id"])
    for parent in (None, top["id"]):
        sent = body if parent is None or "parent_id" in body else {**body, "parent_id": parent}
        assert_refused(await client.post("/api/circles", json=sent, headers=ada), status, code, field=field)
    assert set(await listed(client, ada)) == {top["id"], sub["id"]}
    assert await read(client, ada, top["id"]) == before


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"name": ""}, 422, "empty_name", "name"),
        ({"name": "x" * 101}, 422, "name_too_long", "name"),
        ({"name": None, "aim": 3}, 400, "invalid", "aim"),
        ({"parent_id": "not-a-uuid"}, 400, "invalid", "parent_id"),
        ({"private": "yes"}, 400, "invalid", "private"),
        ({"default_review_months": 0}, 422, "invalid", "default_review_months"),
        ({"default_review_months": 61}, 422, "invalid", "default_review_months"),
        ({"default_review_months": "six"}, 400, "invalid", "default_review_months"),
        ({"name": "Fine", "owner": "me"}, 400, "invalid", "owner"),
        ({"name": "Fi\x00ne"}, 422, "invalid", "name"),
        ({"aim": "a\x00"}, 422, "invalid", "aim"),
    ],
)
async def test_bad_changes_are_refused(client: AsyncTestClient, body: dict, status: int, code: str, field: str) -> None:
    ada, top, _sub = await organisation(client)
    path = f"/api/circles/{top['id']}"
    await refused_without_change(client, ada, top["id"], "PATCH", path, body, status, code, field=field)


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"roles": ["secretary"]}, 400, "invalid", "email"),
        ({"email": "not-an-email"}, 400, "invalid", "email"),
        ({"email": "eve@example"}, 400, "invalid", "email"),
        ({"email": "eve lovelace@example.org"}, 400, "invalid", "email"),
        ({"email": "eve@example.org", "name": "x" * 101}, 422, "name_too_long", "name"),
        ({"email": "eve@example.org", "name": "E\x00ve"}, 422, "invalid", "name"),
        ({"email": "bob@example.org", "roles": "secretary"}, 400, "invalid", "roles"),
        ({"email": "bob@example.org", "role": "secretary"}, 400, "invalid", "role"),
        ({"email": "bob@example.org", "roles": [""]}, 422, "empty_name", "role"),
        ({"email": "bob@example.org", "roles": ["r" * 61]}, 422, "name_too_long", "role"),
        (
            {"email": "bob@example.org", "roles": ["secretary"], "term_ends_on": "2000-01-01"},
            422,
            "term_in_past",
            "term_ends_on",
        ),
        ({"email": "bob@example.org", "roles": ["secretary"], "term_ends_on": "soon"}, 400, "invalid", "term_ends_on"),
        ({"email": "bob@example.org", "roles": ["secretary", "Secretary"]}, 409, "role_held", "roles"),
        ({"email": "bob@example.org", "roles": ["secre\x00tary"]}, 422, "invalid", "role"),
        ({"email": "bob\x00@example.org"}, 422, "invalid", "email"),
    ],
)
async def test_bad_new_members_are_refused(
    client: AsyncTestClient, body: dict, status: int, code: str, field: str
) -> None:
    ada, top, _sub = await organisation(client)
    await sign_up(client, "Bob")
    path = f"/api/circles/{top['id']}/members"
    await refused_without_change(client, ada, top["id"], "POST", path, body, status, code, field=field)


async def test_a_role_already_held_is_a_conflict(client: AsyncTestClient) -> None:
    ada, top, _sub = await organisation(client)
    await sign_up(client, "Bob")
    await add_member(client, ada, top["id"], "Bob", ["secretary"])
    before = await read(client, ada, top["id"])
    for roles in (["secretary"], ["Secretary"], ["Treasurer", "secretary"]):
        message = assert_refused(
            await client.post(
                f"/api/circles/{top['id']}/members", json={"email": "bob@example.org", "roles": roles}, headers=ada
            ),
            409,
            "role_held",
        )
        assert "secretary" in message
    assert_refused(
        await client.post(
            f"/api/circles/{top['id']}/members",
            json={"email": "ada@example.org", "roles": ["facilitator"]},
            headers=ada,
        ),
        409,
        "role_held",
    )
    assert await read(client, ada, top["id"]) == before  # Treasurer was not given either


async def test_a_term_may_end_today_but_not_before(client: AsyncTestClient) -> None:
    ada, top, _sub = await organisation(client)
    await sign_up(client, "Bob")
    today = datetime.now(UTC).date()
    before = await read(client, ada, top["id"])
    assert_refused(
        await client.post(
            f"/api/circles/{top['id']}/members",
            json={
                "email": "bob@example.org",
                "roles": ["secretary"],
                "term_ends_on": (today - timedelta(days=1)).isoformat(),
            },
            headers=ada,
        ),
        422,
        "term_in_past",
    )
    assert await read(client, ada, top["id"]) == before
    membership = await add_member(client, ada, top["id"], "Bob", ["secretary"], term_ends_on=today.isoformat())
    assert membership["member"]["roles"][0]["term_ends_on"] == today.isoformat()


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"name": ""}, 422, "empty_name", "name"),
        ({"name": "x" * 101}, 422, "name_too_long", "name"),
        ({"description": "no name"}, 400, "invalid", "name"),
        ({"name": "Sales", "parent_domain_id": "not-a-uuid"}, 400, "invalid", "parent_domain_id"),
        ({"name": "Sales", "owner": "me"}, 400, "invalid", "owner"),
        ({"name": ["Sales"]}, 400, "invalid", "name"),
        (
            {"name": "Sales", "parent_domain_id": "00000000-0000-4000-8000-000000000000"},
            422,
            "no_such_domain",
            "parent_domain_id",
        ),
        ({"name": "Sa\x00les"}, 422, "invalid", "name"),
        ({"name": "Sales", "description": "\x00"}, 422, "invalid", "description"),
    ],
)
async def test_bad_new_domains_are_refused(
    client: AsyncTestClient, body: dict, status: int, code: str, field: str
) -> None:
    ada, top, _sub = await organisation(client)
    path = f"/api/circles/{top['id']}/domains"
    await refused_without_change(client, ada, top["id"], "POST", path, body, status, code, field=field)


# Invitation links


async def invite(client: AsyncTestClient, who: Headers, circle_id: str, email: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/api/circles/{circle_id}/members", json={"email": email, **body}, headers=who)
    assert response.status_code == 202, response.text
    return response.json()["invitation"]


async def test_an_invitation_link_lets_a_new_person_join_once(client: AsyncTestClient) -> None:
    ada, top, sub = await organisation(client)
    link = (await invite(client, ada, top["id"], " Eve@Example.org ", name=" Eve "))["link"]
    assert link.startswith(f"{BASE}/invitations/")
    path = link.removeprefix(BASE)
    token = path.removeprefix("/invitations/")
    assert len(token) >= 24 and "/" not in token

    page = await client.get(path)  # anyone with the link, before having an account
    assert page.status_code == 200
    assert "Eve, you are invited to Acme" in page.text
    assert "/sign-up?name=Eve&amp;email=eve%40example.org" in page.text

    eve, _ = await signed_in(client, "Eve")
    assert top["id"] not in await listed(client, eve)
    accepted = await client.post(path, headers=eve, follow_redirects=False)
    assert accepted.status_code in (302, 303), accepted.text
    assert accepted.headers["location"] == f"/circles/{top['id']}"
    assert roles_by_name(await read(client, ada, top["id"])) == {"Ada": ["facilitator"], "Eve": []}
    assert set(await listed(client, eve)) == {top["id"], sub["id"]}
    assert "Eve" not in roles_by_name(await read(client, ada, sub["id"]))  # invited to Acme only

    # used up
    assert (await client.get(path)).status_code == 404
    assert (await client.post(path, headers=eve, follow_redirects=False)).status_code == 404
    fay, _ = await signed_in(client, "Fay")
    assert (await client.post(path, headers=fay, follow_redirects=False)).status_code == 404
    assert "Fay" not in roles_by_name(await read(client, ada, top["id"]))


async def test_an_invitation_accepted_in_the_browser_needs_the_csrf_token(client: AsyncTestClient) -> None:
    ada, _top, sub = await organisation(client)
    await add_member(client, ada, sub["id"], "Ada", ["leader"])  # so that Ada may invite to Sub
    path = (await invite(client, ada, sub["id"], "eve@example.org", name="Eve"))["link"].removeprefix(BASE)

    # not signed in: refused, and the link still works afterwards
    assert (await client.get(path)).status_code == 200
    csrf = client.cookies.get("csrftoken")
    assert csrf
    refused = await client.post(path, headers={"x-csrftoken": csrf}, follow_redirects=False)
    assert refused.status_code == 401

    await sign_up(client, "Eve")
    signed_in = await client.post("/api/sessions", json={"email": "eve@example.org", "password": PASSWORD})
    assert signed_in.status_code == 200
    page = await client.get(path)
    assert page.status_code == 200 and "Join Sub as Eve" in page.text
    csrf = client.cookies.get("csrftoken")
    assert csrf

    forged = await client.post(path, follow_redirects=False)  # no CSRF header: a cross-site form
    assert forged.status_code == 403
    assert "Eve" not in roles_by_name(await read(client, ada, sub["id"]))

    accepted = await client.post(path, headers={"x-csrftoken": csrf}, follow_redirects=False)
    assert accepted.status_code in (302, 303), accepted.text
    assert accepted.headers["location"] == f"/circles/{sub['id']}"
    assert roles_by_name(await read(client, ada, sub["id"])) == {"Ada": ["leader"], "Eve": []}
    assert (await client.post(path, headers={"x-csrftoken": csrf}, follow_redirects=False)).status_code == 404


async def test_an_invitation_link_is_for_the_invited_email_only(client: AsyncTestClient) -> None:
    ada, top, _sub = await organisation(client)
    bob, _ = await signed_in(client, "Bob")
    invitation = await invite(client, ada, top["id"], "eve@example.org")
    assert invitation["open_link"] is False
    path = invitation["link"].removeprefix(BASE)

    # Bob has the link, but it is Eve's: he sees whom it is for, masked, and cannot join.
    page = await client.get(path, headers=bob)
    assert page.status_code == 200
    assert "This invitation is for e…@example.org" in page.text
    assert f'action="{path}"' not in page.text and "eve@example.org" not in page.text
    refused = await client.post(path, headers=bob, follow_redirects=False)
    assert refused.status_code == 403
    assert "This invitation is for e…@example.org; sign in with that email to accept it." in refused.text
    refused = await client.post(path, headers=ada, follow_redirects=False)  # a member of the circle alike
    assert refused.status_code == 403
    assert set(roles_by_name(await read(client, ada, top["id"]))) == {"Ada"}

    # Still open for Eve, whose account has the email.
    eve, _ = await signed_in(client, "Eve")
    assert "Join Acme as Eve" in (await client.get(path, headers=eve)).text
    assert (await client.post(path, headers=eve, follow_redirects=False)).status_code in (302, 303)
    assert set(roles_by_name(await read(client, ada, top["id"]))) == {"Ada", "Eve"}


async def test_a_steward_may_let_anyone_with_the_link_join(client: AsyncTestClient) -> None:
    ada, top, _sub = await organisation(client)
    bob, _ = await signed_in(client, "Bob")
    invitation = await invite(client, ada, top["id"], "eve@example.org", open_link=True)
    assert invitation["open_link"] is True
    path = invitation["link"].removeprefix(BASE)
    assert "Join Acme as Bob" in (await client.get(path, headers=bob)).text
    accepted = await client.post(path, headers=bob, follow_redirects=False)
    assert accepted.status_code in (302, 303), accepted.text
    assert roles_by_name(await read(client, ada, top["id"])) == {"Ada": ["facilitator"], "Bob": []}
    assert (await client.get(path)).status_code == 404  # used up
    # The circle's page sets it with a checkbox.
    form = {"email": "fay@example.org", "role": "", "term_ends_on": "", "name": "", "open_link": "1"}
    shown = await client.post(f"/circles/{top['id']}/members", data=form, headers=ada)
    assert shown.status_code == 200
    assert "anyone with the link" in shown.text
    [fays] = [i for i in (await read(client, ada, top["id"]))["invitations"] if i["email"] == "fay@example.org"]
    assert fays["open_link"] is True


async def test_an_unknown_invitation_link_is_not_found(client: AsyncTestClient) -> None:
    ada, _ = await signed_in(client, "Ada")
    assert (await client.get("/invitations/not-a-real-token")).status_code == 404
    assert (await client.post("/invitations/not-a-real-token", headers=ada, follow_redirects=False)).status_code == 404


async def test_the_openapi_schema_documents_the_circle_api(client: AsyncTestClient) -> None:
    paths = set((await client.get("/schema/openapi.json")).json()["paths"])
    assert {
        "/api/circles",
        "/api/circles/{circle_id}",
        "/api/circles/{circle_id}/members",
        "/api/circles/{circle_id}/domains",
        "/api/circles/{circle_id}/members/me",
        "/api/circles/{circle_id}/members/{account_id}",
        "/api/invitations",
        "/api/invitations/{invitation_id}/accept",
        "/api/invitations/{invitation_id}/decline",
    } <= paths
