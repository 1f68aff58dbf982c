"""Sign-up, sign-in and sign-out through the pages, in headless Chromium against a real server."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import Server
from tests.e2e.test_circle_pages import sign_out
from tests.helpers import bearer, create_account, sign_up_in_page


def test_sign_up_sign_out_and_sign_in_again(page: Page, server: Server) -> None:
    sign_up_in_page(page, server.url, "Chidi", "chidi@example.org")  # and the page says "Welcome, Chidi"
    expect(page.get_by_role("navigation", name="Main").locator("summary")).to_have_text("Signed in as Chidi")

    sign_out(page)
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()

    nav.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill("chidi@example.org")
    page.get_by_label("Password").fill("a wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("wrong")
    expect(page.get_by_label("Email")).to_have_value("chidi@example.org")  # nothing typed is lost

    page.get_by_label("Password").fill("a long password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status")).to_contain_text("Signed in as Chidi")


def test_bad_sign_up_keeps_what_was_typed_and_says_why(page: Page, server: Server) -> None:
    sign_up_in_page(page, server.url, "Dana", "dana@example.org")
    sign_out(page)
    sign_up_in_page(page, server.url, "Dana Again", "dana@example.org", "another long password", welcome=False)
    expect(page.get_by_role("alert")).to_contain_text("already exists")
    expect(page.get_by_label("Name")).to_have_value("Dana Again")
    page.get_by_label("Password").fill("short")
    page.get_by_label("Email").fill("dana2@example.org")
    page.get_by_label("Password").evaluate("el => el.removeAttribute('required')")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("alert")).to_contain_text("password")


def test_sign_in_is_required_for_the_account_page_and_returns_there(page: Page, server: Server) -> None:
    create_account(server.url, "Eli", "eli@example.org")
    page.goto(server.url + "/account")
    assert "/sign-in" in page.url
    page.get_by_label("Email").fill("eli@example.org")
    page.get_by_label("Password").fill("a long password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    page.get_by_label("What is the token for?").fill("my script")
    page.get_by_role("button", name="Create a token").click()
    token = page.locator("code.token").inner_text()
    assert httpx.get(server.url + "/api/accounts/me", headers=bearer(token)).status_code == 200
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    assert httpx.get(server.url + "/api/accounts/me", headers=bearer(token)).status_code == 401


def test_a_form_posted_without_its_csrf_token_is_refused(server: Server) -> None:
    with httpx.Client(base_url=server.url) as client:
        client.get("/sign-up")  # gets the csrf cookie, as a browser would
        response = client.post(
            "/sign-up", data={"name": "Mallory", "email": "m@example.org", "password": "a long password"}
        )
        assert response.status_code == 403
        assert "reload the page" in response.text
        refused = client.post("/api/sessions", json={"email": "m@example.org", "password": "a long password"})
        assert refused.status_code == 401  # the refused form created no account


def test_pages_fit_a_phone_screen(page: Page, server: Server) -> None:
    page.goto(server.url + "/sign-up")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


def test_download_my_data_then_delete_my_account(page: Page, server: Server) -> None:
    sign_up_in_page(page, server.url, "Fenna", "fenna@example.org")
    page.goto(server.url + "/account")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data").click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["account"]["email"] == "fenna@example.org"

    page.get_by_role("link", name="Delete my account").click()
    expect(page.get_by_role("heading", name="What stays")).to_be_visible()
    page.get_by_label("Your password, to confirm").fill("not my password")
    page.get_by_role("button", name="Delete my account for good").click()
    expect(page.get_by_role("alert")).to_contain_text("nothing was erased")
    page.get_by_label("Your password, to confirm").fill("a long password")
    page.get_by_role("button", name="Delete my account for good").click()
    expect(page.get_by_role("status")).to_contain_text("Your account is erased")
    expect(page.get_by_role("navigation").get_by_role("link", name="Sign in")).to_be_visible()
    signed_in = httpx.post(
        server.url + "/api/sessions", json={"email": "fenna@example.org", "password": "a long password"}
    )
    assert signed_in.status_code == 401
