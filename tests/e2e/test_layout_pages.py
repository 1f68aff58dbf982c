"""The layout on a phone (390 × 844) in headless Chromium against a real server: a header of one
line, a live meeting's sticky bar of one compact line, and an org chart that says it scrolls
sideways and can be scrolled from the keyboard."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import Server
from tests.e2e.test_circle_pages import section
from tests.e2e.test_invitation_pages import ok, sign_in
from tests.e2e.test_proposal_pages import a_circle, fill_proposal, phase
from tests.helpers import create_account, sign_in_in_page

LONG_NAME = "Bartholomew Featherstonehaugh-Worthington"


def assert_one_line(page: Page) -> None:
    """Every item of the header's navigation on one row, and the header no taller than that row."""
    nav = page.get_by_role("navigation", name="Main")
    rows = nav.evaluate("""nav => [...nav.children].map(item => {
        const box = item.getBoundingClientRect();
        return Math.round(box.top + box.height / 2);
    })""")
    assert max(rows) - min(rows) <= 2, rows  # each item's middle on the same line
    header = page.locator("header.site").bounding_box()
    line = nav.evaluate("nav => parseFloat(getComputedStyle(nav.querySelector('.brand')).lineHeight)")
    padding = nav.evaluate("nav => parseFloat(getComputedStyle(nav).paddingTop) * 2")
    assert header is not None and header["height"] <= padding + 1.5 * line, (header, line, padding)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_header_is_one_line_on_a_phone_and_its_menu_works(page: Page, server: Server) -> None:
    page.goto(server.url + "/")
    assert_one_line(page)  # signed out: Sign in, Sign up

    create_account(server.url, LONG_NAME, "bart@example.org")
    owner = sign_in(server.url, "bart@example.org")
    ok(httpx.post(server.url + "/api/circles", json={"name": "Riverside Mutual Aid"}, headers=owner), 201)
    sign_in_in_page(page, server.url, "bart@example.org")
    assert_one_line(page)
    menu = page.get_by_role("navigation", name="Main").locator("details")
    expect(menu.locator("summary")).to_have_text(f"Signed in as {LONG_NAME}")
    expect(menu.get_by_role("link", name="Your account")).to_be_hidden()  # closed until asked

    menu.locator("summary").click()
    for item in (menu.get_by_role("link", name="Riverside Mutual Aid"), menu.get_by_role("button", name="Sign out")):
        expect(item).to_be_visible()
        box = item.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390  # on the screen
    menu.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    assert_one_line(page)


def test_the_live_meeting_bar_is_one_compact_line_that_stays_on_top(page: Page, server: Server) -> None:
    circle_url = a_circle(page, server)
    page.goto(circle_url)
    section(page, "Proposals").get_by_role("link", name="Make a proposal").click()
    fill_proposal(page, closes_at="")
    page.get_by_label("Live, in a meeting").check()
    page.get_by_role("button", name="Save the proposal").click()
    expect(phase(page)).to_have_text("Draft")
    bar = page.locator("#meeting")
    expect(bar.locator(".connection")).to_contain_text("Connected")
    expect(page.locator("#presence")).to_have_text("Ada")  # below the bar: the bar stays one line

    box = bar.bounding_box()
    assert box is not None and box["height"] <= 56, box
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    expect(bar).to_be_in_viewport()
    stuck = bar.bounding_box()
    assert stuck is not None and stuck["y"] == 0 and stuck["height"] == box["height"]  # sticky, still one line


def test_the_org_chart_says_it_scrolls_sideways_and_scrolls_from_the_keyboard(page: Page, server: Server) -> None:
    create_account(server.url, "Ada", "ada@example.org")
    ada = sign_in(server.url, "ada@example.org")
    top = ok(httpx.post(server.url + "/api/circles", json={"name": "Acme Coop"}, headers=ada), 201)
    subs = {
        name: ok(httpx.post(server.url + "/api/circles", json={"name": name, "parent_id": top["id"]}, headers=ada), 201)
        for name in ("Bookkeeping", "Kitchen", "Garden", "Repairs")
    }
    sign_in_in_page(page, server.url, "ada@example.org")
    page.goto(f"{server.url}/circles/{top['id']}/chart")

    hint = page.get_by_text("Scroll sideways to see the whole chart")
    region = page.get_by_role("region", name="Org chart")
    expect(hint).to_be_visible()
    expect(region).to_have_accessible_description("Scroll sideways to see the whole chart →")
    assert region.evaluate("r => r.scrollWidth > r.clientWidth")  # it does scroll
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the chart, not the page
    # Its circles are links, each named by its circle, in a group named by the chart's title.
    drawing = region.get_by_role("group", name="Circles of Acme Coop and the links between them")
    expect(drawing.get_by_role("link")).to_have_count(5)
    expect(drawing.get_by_role("link", name="Bookkeeping")).to_have_attribute(
        "href", f"/circles/{subs['Bookkeeping']['id']}"
    )

    for _ in range(10):  # from the page's start: the skip link, the header's links, then the chart
        page.keyboard.press("Tab")
        if region.evaluate("r => r === document.activeElement"):
            break
    expect(region).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('.chart').scrollLeft > 0")

    page.set_viewport_size({"width": 1280, "height": 844})  # a window wide enough for the chart
    expect(hint).to_be_hidden()
    assert region.evaluate("r => r.scrollWidth <= r.clientWidth")
