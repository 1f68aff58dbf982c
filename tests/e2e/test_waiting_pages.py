"""'Waiting for you' in headless Chromium against a real server, on a phone: the header's count
(the header still one line), the home page's list, and its link to where I respond."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import Server
from tests.e2e.test_invitation_pages import ok, sign_in
from tests.e2e.test_layout_pages import assert_one_line
from tests.helpers import accept_invitations, create_account, proposal_body, shown, sign_in_in_page


def bea_is_asked(url: str) -> tuple[dict[str, Any], datetime]:
    """Ada's async proposal "Lend the ladder" in the Tool Library, started: it waits for Bea's
    response until its deadline, three days on (returned with it)."""
    create_account(url, "Ada", "ada@example.org")
    create_account(url, "Bea", "bea@example.org")
    ada = sign_in(url, "ada@example.org")
    circle = ok(httpx.post(url + "/api/circles", json={"name": "Tool Library"}, headers=ada), 201)
    ok(httpx.post(f"{url}/api/circles/{circle['id']}/members", json={"email": "bea@example.org"}, headers=ada), 202)
    assert accept_invitations(url, "bea@example.org") == ["Tool Library"]
    domain = ok(httpx.post(f"{url}/api/circles/{circle['id']}/domains", json={"name": "Lending"}, headers=ada), 201)
    deadline = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    body = proposal_body(domain["id"], deadline.isoformat(), title="Lend the ladder")
    proposal = ok(httpx.post(f"{url}/api/circles/{circle['id']}/proposals", json=body, headers=ada), 201)
    ok(
        httpx.post(
            f"{url}/api/proposals/{proposal['id']}/actions", json={"type": "start", "client_id": "s"}, headers=ada
        )
    )
    return proposal, deadline


def test_a_proposal_waiting_for_me_is_counted_in_the_header_and_listed_at_home(page: Page, server: Server) -> None:
    url = server.url
    proposal, deadline = bea_is_asked(url)

    sign_in_in_page(page, url, "bea@example.org")
    count = page.get_by_role("navigation", name="Main").get_by_role("link", name="1 waiting for you")
    expect(count).to_be_visible()
    assert_one_line(page)

    count.click()
    waiting = page.locator("#waiting")
    expect(waiting.get_by_role("heading", level=2)).to_have_text("Waiting for you")
    expect(waiting.get_by_role("listitem")).to_have_text(
        f"Lend the ladder in Tool Library: Your response is expected, until {shown(deadline)}"
    )
    waiting.get_by_role("link", name="Lend the ladder").click()
    expect(page).to_have_url(f"{url}/proposals/{proposal['id']}")
