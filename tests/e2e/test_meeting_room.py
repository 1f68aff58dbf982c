"""A circle's meeting in headless Chromium against a real server: the facilitator calls it from
the circle page, and she and three members on their phones each say they are here; she starts
it, each checks in in turn (one passes) and every phone shows each check-in as it happens,
without a reload; then a free item with a note, the closing round, and the end, shown on
every page."""

from __future__ import annotations

from contextlib import ExitStack

from playwright.sync_api import Browser, Page, expect

from tests.conftest import Server
from tests.e2e.test_circle_pages import open_form, section
from tests.e2e.test_proposal_pages import a_circle, person

NO_RELOAD = "window.stillTheSamePage = true"
MEMBERS = (("Bo", "bo@example.org"), ("Cy", "cy@example.org"), ("Di", "di@example.org"))


def act(page: Page, button: str, text: str | None = None) -> None:
    """One of "What you can do now", sent over the meeting's socket."""
    form = page.locator("#meeting-main form", has=page.get_by_role("button", name=button, exact=True))
    expect(form).to_have_count(1)
    if text is not None:
        form.locator("textarea").fill(text)
    sent = form.locator("input[name=client_id]").get_attribute("value")
    form.get_by_role("button", name=button, exact=True).click()
    # done: the section came back after its event, its forms drawn anew (with new client ids)
    expect(page.locator(f'input[name=client_id][value="{sent}"]')).to_have_count(0)


def turn_of(page: Page, name: str) -> None:
    expect(page.locator("#meeting-main .turn")).to_have_text(f"It is {name}'s turn.")


def test_a_meeting_run_on_four_phones(page: Page, server: Server, browser: Browser) -> None:
    circle_url = a_circle(page, server, *MEMBERS)
    page.goto(circle_url)
    form = open_form(page, "Call a meeting")
    form.get_by_label("Starts at").fill("2027-01-05T18:00")
    form.get_by_label("Where: a room, or a call's link").fill("Community hall")
    form.get_by_label("Other items, one a line").fill("Garden report")
    form.get_by_role("button", name="Call the meeting").click()
    expect(page.locator(".flash")).to_contain_text("The meeting is called")
    with ExitStack() as stack:
        phones = [stack.enter_context(person(browser, server, email)) for _, email in MEMBERS]
        everyone = [page, *phones]
        for phone in phones:
            phone.goto(page.url)
        for someone in everyone:
            expect(someone.locator("#meeting-room .connection")).to_contain_text("Connected")
            expect(someone.locator("#meeting-main")).to_contain_text(
                "Nobody has joined yet."
            )  # opening it is not joining
            someone.evaluate(NO_RELOAD)
        for someone in everyone:
            act(someone, "I'm here")
        for someone in everyone:
            expect(section(someone, "Present").locator("li")).to_have_text(["Ada", "Bo", "Cy", "Di"])

        act(page, "Start the meeting")
        said = []
        for someone, name, words in zip(everyone, ("Ada", "Bo", "Cy", "Di"), ("Glad", "Tired", None, "Ready")):
            for phone in everyone:
                turn_of(phone, name)
            if words is None:
                act(someone, "Pass")
                said.append(f"{name}: passed")
            else:
                act(someone, "Check in", words)
                said.append(f"{name}: {words}")
            for phone in everyone:  # each one's turn, on every phone as it happens
                expect(section(phone, "Opening round").locator(".responses li")).to_have_text(said)

        act(page, "Next item")
        for someone in everyone:
            expect(someone.locator("#meeting-main .agenda li.current")).to_contain_text("Garden report")
        act(page, "Add the note", "Two more hands for the beds")
        act(page, "Closing round")
        for someone in everyone:
            expect(someone.locator("#meeting-main .agenda")).to_contain_text("Two more hands for the beds")
            expect(section(someone, "Closing round")).to_be_visible()
        for someone, name in zip(everyone, ("Ada", "Bo", "Cy", "Di")):
            turn_of(someone, name)
            act(someone, "Check out", f"Thanks, from {name}")
        act(page, "End the meeting")
        for someone in everyone:
            expect(someone.locator("#meeting-main")).to_contain_text("The meeting has ended.")
            assert someone.evaluate("window.stillTheSamePage") is True  # followed, never reloaded
