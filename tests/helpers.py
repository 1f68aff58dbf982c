"""The helpers every test package shares: signing up and in (bearer headers and account id), a
circle with members, the error envelope, and the same steps in a browser page.

The API helpers take an httpx.AsyncClient: the in-process AsyncTestClient is one, and for a
real `consent serve` pass its address as `url` (paths are appended to it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import httpx

from consent.base.times import choose_zone, format_day, format_moment

if TYPE_CHECKING:
    from playwright.sync_api import Page

PASSWORD = "a long password"
Headers = dict[str, str]


def email_of(name: str) -> str:
    return f"{name.lower()}@example.org"


def account_body(name: str, email: str | None = None, password: str = PASSWORD) -> dict[str, str]:
    """What POST /api/accounts takes for `name` (title-cased; `email_of(name)` unless given)."""
    return {"name": name.title(), "email": email or email_of(name), "password": password}


def proposal_body(domain_id: str, deadline: str, **fields: Any) -> dict[str, Any]:
    """A proposal about weekly food runs, async until `deadline`; `fields` change any part
    (`closes_at` too)."""
    return {
        "title": "Weekly food runs",
        "driver": "Food goes to waste on Fridays.",
        "text": "We collect on Fridays and share on Saturdays.",
        "domain_id": domain_id,
        "mode": "async",
        "closes_at": deadline,
        **fields,
    }


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


def token_of(headers: Headers) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def assert_refused(response: httpx.Response, status: int, code: str, field: str | None = None) -> str:
    """Checks the error envelope, {"error": {"code", "message", "field"?}} and nothing else, with
    `status` and `code`, and, if given, the `field` refused (or an item of it, `criteria[1]`);
    returns the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"], body
    assert set(body["error"]) <= {"code", "message", "field"}, body
    if field is not None:
        refused = body["error"].get("field") or ""
        assert refused == field or refused.startswith((f"{field}[", f"{field}.")), body
    return body["error"]["message"]


# Through the API


async def sign_up(client: httpx.AsyncClient, name: str, *, email: str | None = None, url: str = "") -> dict[str, Any]:
    """Makes `name`'s account; returns it as the API answers."""
    response = await client.post(url + "/api/accounts", json=account_body(name, email))
    assert response.status_code == 201, response.text
    return response.json()


async def signed_in(client: httpx.AsyncClient, name: str, *, url: str = "") -> tuple[Headers, str]:
    """Signs `name` up and in, as a script would: returns their bearer headers and account id.
    The session cookie is cleared, so that the bearer headers alone identify them afterwards."""
    account = await sign_up(client, name, url=url)
    response = await client.post(url + "/api/sessions", json={"email": account["email"], "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return bearer(response.json()["token"]), account["id"]


async def create_circle(
    client: httpx.AsyncClient, who: Headers, name: str, *, aim: str = "", parent_id: str | None = None, url: str = ""
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "aim": aim, **({"parent_id": parent_id} if parent_id is not None else {})}
    response = await client.post(url + "/api/circles", json=body, headers=who)
    assert response.status_code == 201, response.text
    return response.json()


async def add_member(
    client: httpx.AsyncClient,
    who: Headers,
    circle_id: str,
    name: str,
    roles: list[str] | None = None,
    *,
    url: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """Adds `name` (by `email_of(name)`, with the helpers' password) to the circle, with `roles`
    if given: a member is given the roles at once; anyone else is invited, and accepts, signed
    in for that alone (the client's cookies stay as they were). Returns the membership."""
    body = {"email": email_of(name), **({"roles": roles} if roles is not None else {}), **extra}
    response = await client.post(f"{url}/api/circles/{circle_id}/members", json=body, headers=who)
    if response.status_code == 201:
        return response.json()
    assert response.status_code == 202, response.text
    invitation = response.json()["invitation"]
    cookies = httpx.Cookies(client.cookies)
    signed_in = await client.post(url + "/api/sessions", json={"email": email_of(name), "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    client.cookies = cookies
    invited = bearer(signed_in.json()["token"])
    accepted = await client.post(f"{url}/api/invitations/{invitation['id']}/accept", headers=invited)
    assert accepted.status_code == 200, accepted.text
    await client.delete(url + "/api/sessions", headers=invited)  # that sign-in was for this alone
    return accepted.json()


async def add_domain(
    client: httpx.AsyncClient, who: Headers, circle_id: str, name: str, *, url: str = "", **extra: Any
) -> dict[str, Any]:
    response = await client.post(f"{url}/api/circles/{circle_id}/domains", json={"name": name, **extra}, headers=who)
    assert response.status_code == 201, response.text
    return response.json()


async def riverside(
    client: httpx.AsyncClient, ada: Headers, members: Iterable[str], *, url: str = ""
) -> tuple[str, str]:
    """The circle Riverside, made by Ada (so its facilitator), with `members` added and holding
    the domain Food: returns the circle's id and the domain's."""
    circle = await create_circle(client, ada, "Riverside", aim="Feed everyone", url=url)
    for name in members:
        await add_member(client, ada, circle["id"], name, url=url)
    domain = await add_domain(client, ada, circle["id"], "Food", url=url)
    return circle["id"], domain["id"]


def create_account(url: str, name: str, email: str, password: str = PASSWORD) -> None:
    """Makes an account on a running server without an event loop (Playwright's tests, the CLI's)."""
    response = httpx.post(url + "/api/accounts", json=account_body(name, email, password))
    assert response.status_code == 201, response.text


def accept_invitations(url: str, email: str, password: str = PASSWORD) -> list[str]:
    """The account with `email` accepts every invitation open for it, on a running server
    without an event loop, as a script would; returns the circles' names."""
    signed_in = httpx.post(url + "/api/sessions", json={"email": email, "password": password})
    assert signed_in.status_code == 200, signed_in.text
    who = bearer(signed_in.json()["token"])
    invitations = httpx.get(url + "/api/invitations", headers=who).json()["items"]
    for invitation in invitations:
        accepted = httpx.post(f"{url}/api/invitations/{invitation['id']}/accept", headers=who)
        assert accepted.status_code == 200, accepted.text
    httpx.delete(url + "/api/sessions", headers=who)
    return [invitation["circle_name"] for invitation in invitations]


# In a browser page (Playwright)


def sign_up_in_page(
    page: Page, url: str, name: str, email: str, password: str = PASSWORD, *, welcome: bool = True
) -> None:
    """Fills in and sends the sign-up form; with `welcome`, waits for the page to welcome `name`."""
    from playwright.sync_api import expect

    page.goto(url + "/sign-up")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign up").click()
    if welcome:
        expect(page.get_by_role("status")).to_contain_text(f"Welcome, {name}")


def sign_in_in_page(page: Page, url: str, email: str, password: str = PASSWORD) -> None:
    from playwright.sync_api import expect

    page.goto(url + "/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status")).to_contain_text("Signed in as")


def shown(moment: datetime, zone: str = "UTC") -> str:
    """A time as pages and mails show it in `zone` ("Nov 30, 2026, 9:00 AM UTC"), for tests of
    something else than time zones (tests/consent/test_time_zones.py spells them out)."""
    return format_moment(moment, choose_zone(zone))


def shown_day(day: date | str) -> str:
    """A date as pages show it ("Jun 1, 2027")."""
    return format_day(day, choose_zone())
