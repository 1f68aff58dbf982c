"""Action items in headless Chromium against a real server, on a phone, every page checked
by axe: Ada asks Bea to do something in the new proposal's form (adding a row without
JavaScript); once decided, Bea finds it waiting for her, accepts it and marks it done."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import Server
from tests.e2e.test_invitation_pages import ok, sign_in
from tests.helpers import accept_invitations, create_account, sign_in_in_page


def test_an_item_is_asked_in_the_form_accepted_and_done(page: Page, server: Server) -> None:
    url = server.url
    create_account(url, "Ada", "ada@example.org")
    create_account(url, "Bea", "bea@example.org")
    ada = sign_in(url, "ada@example.org")
    circle = ok(httpx.post(url + "/api/circles", json={"name": "Tool Library"}, headers=ada), 201)
    ok(httpx.post(f"{url}/api/circles/{circle['id']}/members", json={"email": "bea@example.org"}, headers=ada), 202)
    accept_invitations(url, "bea@example.org")
    ok(httpx.post(f"{url}/api/circles/{circle['id']}/domains", json={"name": "Lending"}, headers=ada), 201)

    sign_in_in_page(page, url, "ada@example.org")
    page.goto(f"{url}/circles/{circle['id']}/proposals/new")
    page.get_by_label("Title").fill("Lend the ladder")
    page.get_by_label("Driver: the need or situation").fill("People ask for it.")
    page.get_by_label("Proposal", exact=True).fill("We lend it for a week.")
    page.get_by_label("Live, in a meeting").check()
    page.get_by_label("Item 1: what is to be done").fill("Check the ladder's feet")
    page.get_by_label("Item 1: who is asked").select_option(label="Bea")
    page.get_by_role("button", name="Add another item").click()
    expect(page.get_by_label("Item 4: what is to be done")).to_be_visible()
    expect(page.get_by_label("Item 1: what is to be done")).to_have_value("Check the ladder's feet")
    page.get_by_role("button", name="Save the proposal").click()
    expect(page.locator("#action-items")).to_contain_text("Check the ladder's feet · Bea")
    proposal_id = page.url.rsplit("/", 1)[1]

    for n, step in enumerate(("start", "advance", "advance")):
        body = {"type": step, "client_id": f"s{n}"}
        ok(httpx.post(f"{url}/api/proposals/{proposal_id}/actions", json=body, headers=ada))
    bea = sign_in(url, "bea@example.org")
    for who in (ada, bea):
        for step in ("present", "consent"):
            body = {"type": step, "client_id": f"{step}-{id(who)}"}
            ok(httpx.post(f"{url}/api/proposals/{proposal_id}/actions", json=body, headers=who))

    # the facilitator closes the live consent round: everyone consented
    ok(
        httpx.post(
            f"{url}/api/proposals/{proposal_id}/actions", json={"type": "advance", "client_id": "d"}, headers=ada
        )
    )
    decided = ok(httpx.get(f"{url}/api/proposals/{proposal_id}", headers=ada))
    assert decided["state"] == "decided", decided["state"]
    page.context.clear_cookies()
    sign_in_in_page(page, url, "bea@example.org")
    page.goto(url + "/")
    asked = page.locator("#asked")
    expect(asked).to_contain_text("Check the ladder's feet")
    asked.get_by_role("link", name="Lend the ladder").click()
    item = page.locator("#action-items li")
    expect(item).to_contain_text("asked, not answered yet")
    item.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("status")).to_contain_text("You accepted it")
    page.locator("#action-items").get_by_label("What was done (a note, optional)").fill("Both feet are fine.")
    page.locator("#action-items").get_by_role("button", name="Mark done").click()
    expect(page.get_by_role("status")).to_contain_text("Marked done.")
    expect(item).to_contain_text("Both feet are fine.")
    expect(item).to_contain_text("Done by Bea")
