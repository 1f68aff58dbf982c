"""Time zones in headless Chromium against a real server: the layout's script tells the server
the browser's zone (the `tz` cookie), and the sign-up form keeps it as the account's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import Server
from tests.e2e.test_invitation_pages import ok, sign_in
from tests.e2e.test_waiting_pages import bea_is_asked
from tests.helpers import accept_invitations, shown, sign_in_in_page, sign_up_in_page

MEXICO_CITY = "America/Mexico_City"


@pytest.fixture
def in_mexico_city(browser: Any) -> Iterator[Page]:
    """A phone whose clock is set to Mexico City's time."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, timezone_id=MEXICO_CITY)
    yield context.new_page()
    context.close()


@pytest.fixture
def in_tokyo(browser: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, timezone_id="Asia/Tokyo")
    yield context.new_page()
    context.close()


def test_the_browsers_zone_shows_a_deadline_in_local_time(in_mexico_city: Page, server: Server) -> None:
    proposal, deadline = bea_is_asked(server.url)  # Bea's account has no zone of its own
    sign_in_in_page(in_mexico_city, server.url, "bea@example.org")
    in_mexico_city.goto(f"{server.url}/proposals/{proposal['id']}")
    local = shown(deadline, MEXICO_CITY)
    assert local.endswith(("CST", "CDT"))
    expect(in_mexico_city.locator(f'time[datetime="{deadline.isoformat()}"]').first).to_have_text(local)


def test_the_zone_of_the_browser_one_signs_up_in_is_the_accounts(
    in_mexico_city: Page, in_tokyo: Page, server: Server
) -> None:
    url = server.url
    proposal, deadline = bea_is_asked(url)
    sign_up_in_page(in_mexico_city, url, "Cy", "cy@example.org")
    ada = sign_in(url, "ada@example.org")
    circle_id = proposal["circle_id"]
    ok(httpx.post(f"{url}/api/circles/{circle_id}/members", json={"email": "cy@example.org"}, headers=ada), 202)
    assert accept_invitations(url, "cy@example.org") == ["Tool Library"]
    # in Tokyo, Cy still sees Mexico City's time: the account's zone comes before the browser's
    sign_in_in_page(in_tokyo, url, "cy@example.org")
    in_tokyo.goto(f"{url}/proposals/{proposal['id']}")
    expect(in_tokyo.locator(f'time[datetime="{deadline.isoformat()}"]').first).to_have_text(
        shown(deadline, MEXICO_CITY)
    )
