"""The notifications page in headless Chromium against a real server, on a phone: reached from
the header's menu, an unread notification opens its proposal and is read after, and the mail
choices are saved."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import Server
from tests.e2e.test_invitation_pages import sign_in
from tests.e2e.test_waiting_pages import bea_is_asked
from tests.helpers import shown, sign_in_in_page


def test_a_member_reads_a_notification_and_chooses_what_comes_by_mail(page: Page, server: Server) -> None:
    url = server.url
    proposal, deadline = bea_is_asked(url)

    sign_in_in_page(page, url, "bea@example.org")
    page.locator("summary", has_text="Bea").click()
    page.get_by_role("link", name="Notifications").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    sentence = f"“Lend the ladder” is open in Tool Library, in its clarifying round. Respond by {shown(deadline)}."
    unread = page.get_by_role("button", name=sentence)
    expect(unread).to_be_visible()
    expect(page.locator(".notifications .badge")).to_have_text("new")
    unread.click()
    expect(page).to_have_url(f"{url}/proposals/{proposal['id']}")

    page.goto(url + "/notifications")
    expect(page.get_by_role("link", name=sentence)).to_be_visible()  # read now: a plain link
    expect(page.locator(".notifications .badge")).to_have_count(0)
    choices = page.get_by_role("group", name="A decision of my circle is due for review")
    choices.get_by_label("Only on this page").check()
    page.get_by_role("button", name="Save my mail choices").click()
    expect(page.get_by_role("status").or_(page.locator(".flash"))).to_contain_text("Your mail choices are saved.")
    expect(
        page.get_by_role("group", name="A decision of my circle is due for review").get_by_label("Only on this page")
    ).to_be_checked()
    bea = sign_in(url, "bea@example.org")
    assert httpx.get(url + "/api/accounts/me/preferences", headers=bea).json()["mail"]["review_due"] == "never"
