"""An invitation accepted on a phone, in headless Chromium against a real server: the invited
member finds it on the home page, reads the circle's standing agreements, joins, and sees the
circle; or declines it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import Server
from tests.e2e.test_circle_pages import ARTIFACTS, section
from tests.helpers import PASSWORD, Headers, bearer, create_account, proposal_body, sign_in_in_page

AGREEMENT = "Whoever borrows a tool brings it back clean within a week."


def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def sign_in(url: str, email: str) -> Headers:
    return bearer(ok(httpx.post(url + "/api/sessions", json={"email": email, "password": PASSWORD}))["token"])


def workshop_with_an_agreement(url: str) -> tuple[Headers, str]:
    """Ada's circle, the Tool Library, which has consented to one standing agreement and to one
    plain decision; returns Ada's headers and the circle's id."""
    create_account(url, "Ada", "ada@example.org")
    ada = sign_in(url, "ada@example.org")
    circle = ok(httpx.post(url + "/api/circles", json={"name": "Tool Library", "aim": "Share tools"}, headers=ada), 201)
    domain = ok(httpx.post(f"{url}/api/circles/{circle['id']}/domains", json={"name": "Lending"}, headers=ada), 201)
    deadline = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    for title, text, agreement in (
        ("Bring tools back", AGREEMENT, True),
        ("Paint the shed", "We paint the shed green.", False),
    ):
        body = proposal_body(domain["id"], deadline, title=title, text=text, agreement=agreement)
        proposal = ok(httpx.post(f"{url}/api/circles/{circle['id']}/proposals", json=body, headers=ada), 201)
        for number, step in enumerate(("start", "advance", "advance", "consent")):  # Ada alone: hers decides
            ok(
                httpx.post(
                    f"{url}/api/proposals/{proposal['id']}/actions",
                    json={"type": step, "client_id": f"{title}-{number}"},
                    headers=ada,
                )
            )
    return ada, circle["id"]


def test_an_invitation_is_read_and_accepted_on_a_phone(page: Page, server: Server) -> None:
    ada, circle_id = workshop_with_an_agreement(server.url)
    create_account(server.url, "Bea", "bea@example.org")
    body = {"email": "bea@example.org", "roles": ["secretary"]}
    ok(httpx.post(f"{server.url}/api/circles/{circle_id}/members", json=body, headers=ada), 202)

    sign_in_in_page(page, server.url, "bea@example.org")
    invited = page.locator("section", has=page.get_by_role("heading", name="You are invited"))
    expect(invited).to_contain_text("Tool Library, by Ada, as secretary")
    invited.get_by_role("link", name="Read and answer it").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your invitations")
    invitation = page.locator("article", has=page.get_by_role("heading", name="Tool Library"))
    expect(invitation).to_contain_text("Share tools")
    expect(invitation).to_contain_text("Invited by Ada, as secretary.")
    agreements = invitation.locator("section.agreements")
    expect(agreements.get_by_role("heading", name="Standing agreements of Tool Library")).to_be_visible()
    expect(agreements.get_by_role("heading", name="Bring tools back")).to_be_visible()
    expect(agreements.get_by_text(AGREEMENT)).to_be_visible()
    expect(agreements).not_to_contain_text("Paint the shed")  # a decision, but not an agreement
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "invitation-on-a-phone.png"), full_page=True)

    invitation.get_by_role("button", name="Join Tool Library").click()
    expect(page.get_by_role("status")).to_contain_text("You joined Tool Library.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tool Library")
    expect(section(page, "Members").locator("tr", has_text="Bea")).to_contain_text("secretary")
    expect(page.locator("summary", has_text="Settings")).to_be_visible()  # a secretary changes the circle
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.goto(server.url + "/")
    expect(page.get_by_role("heading", name="You are invited")).to_have_count(0)
    expect(page.locator(".card", has_text="Tool Library")).to_be_visible()
    circle = ok(httpx.get(f"{server.url}/api/circles/{circle_id}", headers=ada))
    assert {m["name"] for m in circle["members"]} == {"Ada", "Bea"} and circle["invitations"] == []


def test_a_declined_invitation_leaves_the_circle_as_it_was(page: Page, server: Server) -> None:
    ada, circle_id = workshop_with_an_agreement(server.url)
    create_account(server.url, "Bea", "bea@example.org")
    ok(httpx.post(f"{server.url}/api/circles/{circle_id}/members", json={"email": "bea@example.org"}, headers=ada), 202)

    sign_in_in_page(page, server.url, "bea@example.org")
    page.goto(server.url + "/invitations")
    page.get_by_role("button", name="Decline").click()
    expect(page.get_by_role("status")).to_contain_text("You declined the invitation to Tool Library.")
    expect(page.get_by_text("You have no open invitations.")).to_be_visible()
    circle = ok(httpx.get(f"{server.url}/api/circles/{circle_id}", headers=ada))
    assert [m["name"] for m in circle["members"]] == ["Ada"] and circle["invitations"] == []
