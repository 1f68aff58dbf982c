"""A live selection in headless Chromium against a real server: Ada opens it from the circle's
page, three phones nominate in turn and see each nomination as it is said, the change round,
Ada proposes the candidate, everyone consents, and the role is Cy's until the term's end,
without a reload."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import date, timedelta

from playwright.sync_api import Browser, Page, expect

from tests.conftest import Server
from tests.e2e.test_circle_pages import section
from tests.e2e.test_meeting_pages import NO_RELOAD, act, turn_of
from tests.e2e.test_proposal_pages import a_circle, person, phase
from tests.helpers import shown_day


def nominate(page: Page, button: str, whom: str, why: str) -> None:
    form = page.locator("section#now form", has=page.get_by_role("button", name=button, exact=True))
    form.get_by_label("Whom").select_option(label=whom)
    form.locator("textarea").fill(why)
    form.get_by_role("button", name=button, exact=True).click()
    expect(page.locator("form[aria-busy=true]")).to_have_count(0)


def test_a_live_selection_from_nominations_to_the_role(page: Page, server: Server, browser: Browser) -> None:
    circle_url = a_circle(page, server, ("Bo", "bo@example.org"), ("Cy", "cy@example.org"))
    term = (date.today() + timedelta(days=365)).isoformat()
    page.goto(circle_url)
    page.get_by_text("Select someone for a role").click()
    selecting = page.locator("details#select")
    selecting.get_by_label("Role", exact=True).fill("treasurer")
    selecting.get_by_label("What the role does (optional)").fill("Keeps the accounts")
    selecting.get_by_label("The new term ends on").fill(term)
    selecting.get_by_label("How").select_option(label="Live, in a meeting: nominations in turn")
    selecting.get_by_role("button", name="Open the selection").click()
    expect(page.locator("#live-selection")).to_contain_text("Selecting someone as treasurer")
    with ExitStack() as stack:
        bo = stack.enter_context(person(browser, server, "bo@example.org"))
        cy = stack.enter_context(person(browser, server, "cy@example.org"))
        everyone = (page, bo, cy)
        for someone in (bo, cy):
            someone.goto(page.url)
        for someone in everyone:
            expect(someone.locator("#meeting .connection")).to_contain_text("Connected")
            someone.evaluate(NO_RELOAD)
            act(someone, "I am here")
        act(page, "Start: nominations")
        for someone in everyone:
            expect(phase(someone)).to_have_text("Nomination round")
        turn_of(page, "your")
        nominate(page, "Nominate", "Cy", "Cy keeps careful notes")
        for someone in everyone:  # said aloud: heard at once
            expect(someone.locator("#live-selection")).to_contain_text("Ada nominates Cy: Cy keeps careful notes")
            expect(section(someone, "Rounds")).to_contain_text("Ada nominated Cy: Cy keeps careful notes")
        nominate(bo, "Nominate", "Ada", "Ada did it before")
        act(cy, "Pass")
        act(page, "Close the nominations: hear them, then the change round")
        for someone in everyone:
            expect(phase(someone)).to_have_text("Change round")
        act(page, "Pass")
        nominate(bo, "Change my nomination", "Cy", "after hearing Ada")
        act(cy, "Pass")
        expect(cy.locator("#live-selection")).to_contain_text("Cy: 2")
        act(page, "Propose this candidate for consent")
        for someone in everyone:
            expect(phase(someone)).to_have_text("Consent round")
            expect(someone.locator("#live-text")).to_contain_text(f"Cy as treasurer until {term}.")
        for someone in everyone:
            act(someone, "I consent")
        act(page, "Close the consent round")
        for someone in everyone:
            expect(phase(someone)).to_have_text("Decided")
        cy.goto(circle_url)
        expect(section(cy, "Members")).to_contain_text(f"treasurer until {shown_day(term)}")
        assert bo.evaluate("window.stillTheSamePage") is True
