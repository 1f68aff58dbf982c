"""A whole meeting in headless Chromium against a real server, as issue 19 tells it: Ada, the
facilitator, and Bo, Cy and Di on their phones run a meeting with a check-in round, a proposal
taken to a decision with an action item, the selection of a facilitator and a closing round;
each phone goes from the meeting to the item under way and back by the pages' links. The
minutes, on their page and in Markdown, say exactly what happened, and Bo finds his action
item waiting for him."""

from __future__ import annotations

import re
from contextlib import ExitStack
from datetime import date, timedelta

from playwright.sync_api import Browser, Page, expect

from tests.conftest import Server
from tests.e2e import test_meeting_pages as live
from tests.e2e import test_meeting_room as room
from tests.e2e.test_circle_pages import open_form, section
from tests.e2e.test_proposal_pages import PROPOSAL_URL, a_circle, fill_proposal, person, phase
from tests.e2e.test_selection_pages import nominate
from tests.helpers import shown_day

NAMES = ("Ada", "Bo", "Cy", "Di")
MEMBERS = (("Bo", "bo@example.org"), ("Cy", "cy@example.org"), ("Di", "di@example.org"))
TITLE = "A van for deliveries"
ITEM = "Ask three garages for a quote"
MEETING_URL = re.compile(r"/meetings/[0-9a-f-]{36}$")


def open_item(page: Page, title: str) -> None:
    """From the meeting page, to the item under way, as a member would."""
    expect(page.locator("#meeting-main .agenda li.current")).to_contain_text(title)
    page.locator("#meeting-main").get_by_role("link", name=f"Take part in “{title}”").click()
    expect(page).to_have_url(PROPOSAL_URL)
    expect(page.locator("#meeting .connection")).to_contain_text("Connected")


def back_to_the_meeting(page: Page) -> None:
    page.get_by_role("link", name="Back to the meeting").click()
    expect(page).to_have_url(MEETING_URL)
    expect(page.locator("#meeting-room .connection")).to_contain_text("Connected")


def test_a_whole_meeting_and_its_minutes(page: Page, server: Server, browser: Browser) -> None:
    circle_url = a_circle(page, server, *MEMBERS)
    due = (date.today() + timedelta(days=30)).isoformat()
    term = (date.today() + timedelta(days=365)).isoformat()

    # Before the meeting: Ada writes a live proposal that asks Bo to do something by a date ...
    section(page, "Proposals").get_by_role("link", name="Make a proposal").click()
    fill_proposal(page, title=TITLE, closes_at="")
    page.get_by_label("Live, in a meeting").check()
    page.get_by_label("Item 1: what is to be done").fill(ITEM)
    page.get_by_label("Item 1: who is asked").select_option(label="Bo")
    page.get_by_label("Item 1: due on").fill(due)
    page.get_by_role("button", name="Save the proposal").click()
    expect(page.locator("#action-items")).to_contain_text(f"{ITEM} · Bo, by {due}")
    # ... opens a live selection of the circle's facilitator ...
    page.goto(circle_url)
    selecting = open_form(page, "Select someone for a role")
    selecting.get_by_label("Role", exact=True).fill("facilitator")
    selecting.get_by_label("The new term ends on").fill(term)
    selecting.get_by_label("How").select_option(label="Live, in a meeting: nominations in turn")
    selecting.get_by_role("button", name="Open the selection").click()
    expect(page.locator("#live-selection")).to_contain_text("Selecting someone as facilitator")
    # ... and calls the meeting with both on its agenda.
    page.goto(circle_url)
    calling = open_form(page, "Call a meeting")
    calling.get_by_label("Starts at").fill(f"{date.today() + timedelta(days=1)}T18:00")
    calling.get_by_label("Where: a room, or a call's link").fill("Community hall")
    calling.get_by_label(TITLE).check()
    calling.get_by_label("Selection: facilitator").check()
    calling.get_by_role("button", name="Call the meeting").click()
    expect(page.locator(".flash")).to_contain_text("The meeting is called")
    meeting_url = page.url
    expect(page.locator("#meeting-main .agenda > li > strong")).to_have_text([TITLE, "Selection: facilitator"])

    with ExitStack() as stack:
        phones = [stack.enter_context(person(browser, server, email)) for _, email in MEMBERS]
        ada, bo, cy, di = everyone = [page, *phones]
        for phone in phones:
            phone.goto(meeting_url)
        for someone in everyone:
            expect(someone.locator("#meeting-room .connection")).to_contain_text("Connected")
        for someone in everyone:
            room.act(someone, "I'm here")
        for someone in everyone:
            expect(section(someone, "Present").locator("li")).to_have_text(list(NAMES))

        # The check-in round: each in turn, Cy passes.
        room.act(ada, "Start the meeting")
        checked_in = {"Ada": "Glad to be here", "Bo": "A bit tired", "Cy": None, "Di": "Ready"}
        for someone, (name, words) in zip(everyone, checked_in.items()):
            room.turn_of(someone, name)
            if words is None:
                room.act(someone, "Pass")
            else:
                room.act(someone, "Check in", words)
        for someone in everyone:
            expect(section(someone, "Opening round").locator(".responses li")).to_have_text(
                ["Ada: Glad to be here", "Bo: A bit tired", "Cy: passed", "Di: Ready"]
            )

        # The proposal: everyone opens it from the meeting page and takes part there.
        room.act(ada, "Next item")
        for someone in everyone:
            open_item(someone, TITLE)
            expect(phase(someone)).to_have_text("Clarifying questions")
            expect(someone.locator("section#now .you-present")).to_contain_text("You are taking part")
        for someone in (bo, cy, di):  # Ada wrote it: she answers, the others ask, and nobody does
            live.turn_of(someone, "your")
            live.act(someone, "Pass")
        live.act(ada, "Move on to the reaction round")
        reactions = {"Ada": "Finally!", "Bo": "Worried about parking", "Cy": "Happy to drive", "Di": None}
        for someone, words in zip(everyone, reactions.values()):
            live.turn_of(someone, "your")
            if words is None:
                live.act(someone, "Pass")
            else:
                live.act(someone, "React", words)
        live.act(ada, "Move on to the consent round")
        for someone in everyone:
            live.turn_of(someone, "your")
            if someone is cy:
                live.act(someone, "Consent with a concern", "Parking near the depot is tight.")
            else:
                live.act(someone, "I consent")
        live.act(ada, "Close the consent round")
        for someone in everyone:
            expect(phase(someone)).to_have_text("Decided")
        decision_url = ada.locator("section#now").get_by_role("link", name="Read the decision").get_attribute("href")
        assert decision_url is not None

        # The selection: back on the meeting page, Ada moves on to it.
        for someone in everyone:
            back_to_the_meeting(someone)
        room.act(ada, "Next item")
        for someone in everyone:
            open_item(someone, "Selection: facilitator")
            expect(phase(someone)).to_have_text("Nomination round")
        nominations = (("Cy", "Cy keeps us on time"), ("Cy", "Cy listens well"), ("Di", "Di is fair"), ("Cy", "Calm"))
        for someone, (whom, why) in zip(everyone, nominations):
            live.turn_of(someone, "your")
            nominate(someone, "Nominate", whom, why)
        expect(cy.locator("#live-selection")).to_contain_text("Di nominates Cy: Calm")
        live.act(ada, "Close the nominations: hear them, then the change round")
        for someone in everyone:
            expect(phase(someone)).to_have_text("Change round")
        for someone in (ada, bo):
            live.act(someone, "Pass")
        nominate(cy, "Change my nomination", "Ada", "Ada did it well before")
        live.act(di, "Pass")
        live.act(ada, "Propose this candidate for consent")
        for someone in everyone:
            expect(phase(someone)).to_have_text("Consent round")
            expect(someone.locator("#live-text")).to_contain_text(f"Cy as facilitator until {term}.")
        for someone in everyone:
            live.turn_of(someone, "your")
            live.act(someone, "I consent")
        live.act(ada, "Close the consent round")
        for someone in everyone:
            expect(phase(someone)).to_have_text("Decided")

        # The closing round, and the end.
        for someone in everyone:
            back_to_the_meeting(someone)
        room.act(ada, "Closing round")
        checked_out = {name: f"Thanks, from {name}" for name in NAMES}
        for someone, (name, words) in zip(everyone, checked_out.items()):
            room.turn_of(someone, name)
            room.act(someone, "Check out", words)
        room.act(ada, "End the meeting")
        for someone in everyone:
            expect(someone.locator("#meeting-main")).to_contain_text("The meeting has ended.")

        # Bo's action item waits for him to accept it, on its decision's page.
        bo.get_by_role("navigation", name="Main").get_by_role("link", name="1 waiting for you").click()
        expect(bo.locator("#waiting")).to_contain_text("1 action item asked of you: to accept, or due soon.")
        asked = bo.locator("#asked li")
        expect(asked).to_contain_text(f"{ITEM} · Bo, by {due}")
        expect(asked).to_contain_text("asked, not answered yet")
        asked.get_by_role("link", name=TITLE).click()
        expect(bo).to_have_url(re.compile(re.escape(decision_url) + "#item-"))
        expect(bo.locator("#action-items").get_by_role("button", name="Accept")).to_be_visible()

    # The minutes say what happened.
    page.goto(meeting_url + "/minutes")
    minutes = page.locator("main")
    expect(minutes.get_by_role("heading", name="Present").locator("xpath=following-sibling::ul[1]/li")).to_have_text(
        list(NAMES)
    )
    expect(minutes.get_by_role("heading", name="Absent")).to_have_count(0)
    opening = minutes.get_by_role("heading", name="Opening round").locator("xpath=following-sibling::ul[1]/li")
    expect(opening).to_have_text(["Ada: Glad to be here", "Bo: A bit tired", "Cy: passed", "Di: Ready"])
    items = minutes.locator("ol.agenda > li")
    expect(items.locator("h3")).to_have_text([TITLE, "Selection: facilitator"])
    expect(items.nth(0).get_by_role("link", name=TITLE)).to_have_attribute("href", decision_url)
    expect(items.nth(0)).to_contain_text("(4 of 4 responded)")
    expect(items.nth(0).locator(".action-items li")).to_contain_text(f"{ITEM} · Bo, by {due}")
    expect(items.nth(1)).to_contain_text(f"Selected: Cy as facilitator, until {shown_day(term)}.")
    closing = minutes.get_by_role("heading", name="Closing round").locator("xpath=following-sibling::ul[1]/li")
    expect(closing).to_have_text([f"{name}: {words}" for name, words in checked_out.items()])

    markdown = page.request.get(meeting_url + "/minutes.md")
    assert markdown.ok, markdown.status
    text = markdown.text()
    for said in (
        "## Present\n\n- Ada\n- Bo\n- Cy\n- Di\n",
        "## Opening round\n\n- Ada: Glad to be here\n- Bo: A bit tired\n- Cy: passed\n- Di: Ready\n",
        f"### 1. {TITLE}\n\nDecided: [{TITLE}]({server.url}{decision_url}) (4 of 4 responded)\n",
        f"- {ITEM} (Bo, by {shown_day(due)})\n",
        f"### 2. Selection: facilitator\n\nDecided: [Selection: facilitator]({server.url}/decisions/",
        f"Selected: Cy as facilitator, until {shown_day(term)}.\n",
        "## Closing round\n\n" + "".join(f"- {name}: {words}\n" for name, words in checked_out.items()),
    ):
        assert said in text, f"{said!r} not in the minutes:\n{text}"
    assert "## Absent" not in text and "Not taken up" not in text and "Not decided" not in text, text
