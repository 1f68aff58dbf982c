"""The live meeting page in headless Chromium against a real server: three people on their own
phones (the facilitator and two members) run a whole consent process to a decision without a
reload, each seeing the others' responses as they happen; one of them loses the connection
for a round and catches up exactly. Saves a screenshot of the meeting page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from tests.conftest import Server
from tests.e2e.test_circle_pages import ARTIFACTS, section
from tests.e2e.test_proposal_pages import AMENDED, a_circle, fill_proposal, person, phase

NO_RELOAD = "window.stillTheSamePage = true"


class Cable:
    """The network between one phone and the server: unplugged, its meeting socket drops and
    reconnecting fails until it is plugged in again."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.page_side: WebSocketRoute | None = None
        page.route_web_socket(re.compile(r"/ws/proposals/"), self.connect)

    def connect(self, socket: WebSocketRoute) -> None:
        socket.connect_to_server()
        self.page_side = socket

    def unplug(self) -> None:
        self.page.context.set_offline(True)  # new connections fail
        if self.page_side is not None:  # and the open one drops, as on a phone that lost its signal
            self.page_side.close(code=1001, reason="offline")

    def plug_in(self) -> None:
        self.page.context.set_offline(False)


def act(page: Page, button: str, text: str | None = None) -> None:
    """One action from "What you can do now", sent over the meeting socket: no navigation."""
    form = page.locator("section#now form", has=page.get_by_role("button", name=button, exact=True))
    try:
        expect(form).to_have_count(1)
    except AssertionError as missing:  # seen rarely in full runs, never alone: say what the page showed
        raise AssertionError(
            f"no {button!r} on the page, which shows:\n{page.locator('main').inner_text()[:3000]}"
        ) from missing
    if text is not None:
        form.locator("textarea").fill(text)
    form.get_by_role("button", name=button, exact=True).click()
    expect(page.locator("form[aria-busy=true]")).to_have_count(0)  # acknowledged
    expect(page.locator(".form-error")).to_have_count(0)


def turn_of(page: Page, name: str) -> None:
    expect(page.locator("#live-turn .turn")).to_contain_text(name)


def in_order(page: Page, first: str, then: str) -> bool:
    """Whether the button `first` comes before the button `then` on the page."""
    return bool(
        page.evaluate(
            """([first, then]) => {
                const buttons = [...document.querySelectorAll("section#now button")].map((b) => b.textContent.trim());
                return buttons.indexOf(first) !== -1 && buttons.indexOf(first) < buttons.indexOf(then);
            }""",
            [first, then],
        )
    )


@pytest.fixture
def meeting(page: Page, server: Server, browser: Browser) -> Iterator[tuple[Page, Page, Page, Cable]]:
    """Bo proposes live in Ada's circle, where Ada facilitates; Ada, Bo and Cy open the meeting
    on their own phones. Bo's page is the one his proposal took him to."""
    circle_url = a_circle(page, server, ("Bo", "bo@example.org"), ("Cy", "cy@example.org"))
    with ExitStack() as stack:
        bo = stack.enter_context(person(browser, server, "bo@example.org"))
        cy = stack.enter_context(person(browser, server, "cy@example.org"))
        bo.goto(circle_url)
        section(bo, "Proposals").get_by_role("link", name="Make a proposal").click()
        fill_proposal(bo, closes_at="")
        bo.get_by_label("Live, in a meeting").check()
        bo.get_by_role("button", name="Save the proposal").click()
        expect(phase(bo)).to_have_text("Draft")
        cable = Cable(cy)
        for someone in (page, cy):
            someone.goto(bo.url)
        for someone in (page, bo, cy):
            expect(someone.locator("#meeting .connection")).to_contain_text("Connected")
            someone.evaluate(NO_RELOAD)
        yield page, bo, cy, cable


def test_three_phones_run_a_live_consent_process_to_a_decision(meeting: tuple[Page, Page, Page, Cable]) -> None:
    ada, bo, cy, cable = meeting
    everyone = (ada, bo, cy)
    expect(bo.locator(".flash")).to_contain_text("saved as a draft")
    for someone in everyone:
        # who has the page open, said apart from who takes part
        expect(someone.locator("#presence")).to_have_text("Ada, Bo, Cy")
        expect(someone.locator("#meeting .connection")).to_have_text("Connected · 3 with the page open")
        expect(section(someone, "Taking part (present), in speaking order")).to_contain_text("Nobody is present yet")
    for someone in everyone:  # the order they say so is the order they speak in
        act(someone, "I am here")
        expect(someone.locator("section#now .you-present")).to_contain_text("You are taking part")
    for someone in everyone:
        expect(someone.locator("#participants-list li")).to_have_text(["Ada", "Bo", "Cy"])

    act(ada, "Start: clarifying questions")
    expect(bo.locator(".flash")).to_have_count(0)  # the draft's message went with the draft
    for someone in everyone:  # Bo wrote the proposal: he answers, the others ask, from Ada on
        expect(phase(someone)).to_have_text("Clarifying questions")
        turn_of(someone, "your" if someone is ada else "Ada")
    act(ada, "Ask", "Who insures the van?")
    expect(section(bo, "Rounds")).to_contain_text("Ada asked: Who insures the van?")
    act(bo, "Answer", "The co-op's policy covers it.")
    expect(section(ada, "Rounds")).to_contain_text("The co-op's policy covers it.")
    act(cy, "Pass")
    # Everyone has had a turn: the page says the round is complete, not "your turn" to Ada again.
    for someone in everyone:
        expect(someone.locator("#live-turn")).to_contain_text("The round is complete: everyone has had a turn.")
    expect(ada.locator("#live-turn")).not_to_contain_text("your turn")
    expect(ada.locator(".facilitating .round-complete")).to_contain_text("Everyone has had a turn.")

    act(ada, "Move on to the reaction round")
    # The facilitator's own response comes first; moving on is below it, apart.
    expect(ada.locator("section#now").get_by_role("button", name="React", exact=True)).to_be_visible()
    assert in_order(ada, "React", "Move on to the consent round")
    expect(ada.locator(".facilitating").get_by_role("button", name="Move on to the consent round")).to_be_visible()
    for someone, words in ((ada, "Finally!"), (bo, "Worried about parking"), (cy, "Happy to drive")):
        turn_of(someone, "your")
        act(someone, "React", words)
    expect(section(cy, "Rounds")).to_contain_text("Bo reacted: Worried about parking")

    # Cy's phone loses the network for the consent round.
    cable.unplug()
    expect(cy.locator("#meeting .connection")).to_contain_text("Reconnecting")
    act(ada, "Move on to the consent round")
    act(ada, "I consent")
    act(bo, "Consent with a concern", "Parking near the depot is tight.")
    expect(section(ada, "Rounds")).to_contain_text("Parking near the depot is tight.")
    expect(phase(cy)).to_have_text("Reaction round")  # Cy has not heard yet
    cable.plug_in()
    expect(cy.locator("#meeting .connection")).to_contain_text("Connected", timeout=20_000)
    expect(phase(cy)).to_have_text("Consent round")
    expect(section(cy, "Rounds")).to_contain_text("Bo consents with a concern")
    turn_of(cy, "your")

    act(cy, "I object", "A van we buy would sit idle most days.")
    for someone in (ada, bo):
        expect(section(someone, "Objections")).to_contain_text(
            "Cy (revision 1): A van we buy would sit idle most days."
        )
    expect(ada.locator(".facilitating .round-complete")).to_contain_text("An objection is open")
    act(ada, "Close the consent round")
    expect(phase(bo)).to_have_text("Integrating objections")

    # The facilitator amends, with the author's agreement, which the amendment records.
    editor = ada.locator("section#now form", has=ada.get_by_role("button", name="Save revision 2"))
    editor.get_by_label("New text").fill(AMENDED)
    editor.get_by_label("Bo, the author, agrees to this amendment").check()
    editor.get_by_role("button", name="Save revision 2").click()
    for someone in everyone:
        expect(phase(someone)).to_have_text("Consent round")
        expect(someone.locator(".badges")).to_contain_text("revision 2")
        expect(section(someone, "Objections")).to_contain_text("integrated by revision 2")
        expect(someone.locator("#live-text")).to_contain_text(AMENDED)
    # the amendment, sent over the socket, kept the criteria (one a line in its form)
    expect(ada.locator("ul.criteria li")).to_have_text(["Deliveries take a day, not three."])
    act(ada, "I consent")
    act(bo, "I consent")
    act(cy, "I consent")
    expect(ada.locator(".facilitating .round-complete")).to_contain_text(
        "No objection is open: close the round and the proposal is decided."
    )
    for someone in everyone:
        expect(someone.locator("#live-turn")).to_contain_text("The round is complete: everyone has responded.")
    act(ada, "Close the consent round")
    for someone in everyone:
        expect(phase(someone)).to_have_text("Decided")
        expect(someone.locator("section#now")).to_contain_text("The process is over.")
        expect(someone.locator("section#now").get_by_role("link", name="Read the decision")).to_be_visible()
        assert someone.evaluate("window.stillTheSamePage") is True  # no reload, all the way through

    # Everyone's page now shows the same history, Cy's included, each response once, and the
    # same as a page loaded afresh.
    rounds = [section(someone, "Rounds").inner_text() for someone in everyone]
    assert rounds[0] == rounds[1] == rounds[2]
    assert rounds[2].count("Bo consents with a concern") == 1, rounds[2]
    ARTIFACTS.mkdir(exist_ok=True)
    bo.screenshot(path=str(ARTIFACTS / "meeting.png"), full_page=True)
    assert bo.evaluate("document.documentElement.scrollWidth") <= 390
    bo.reload()
    assert section(bo, "Rounds").inner_text() == rounds[0]


def test_a_refused_action_keeps_the_words_and_says_why(meeting: tuple[Page, Page, Page, Cable]) -> None:
    ada, bo, cy, _ = meeting
    for someone in (ada, bo, cy):
        act(someone, "I am here")
    act(ada, "Start: clarifying questions")
    # Bo wrote the proposal, so he answers and is skipped: Ada's turn first, then Cy's.
    turn_of(cy, "Ada")
    # Cy asks out of turn through a stale form (as if two people pressed at once).
    cy.evaluate("""() => {
        const form = document.createElement('form');
        form.className = 'action-form';
        form.innerHTML = '<input type="hidden" name="type" value="question"><textarea name="text" aria-label="Question"></textarea><button>Ask</button>';
        document.querySelector('section#now').append(form);
        form.querySelector('textarea').value = 'Out of turn?';
        form.requestSubmit();
    }""")
    expect(cy.locator(".form-error")).to_have_text("It is someone else's turn in this round.")
    expect(cy.locator("section#now textarea[name=text]")).to_have_value("Out of turn?")
    expect(section(ada, "Rounds")).not_to_contain_text("Out of turn?")
    # The facilitator moves on from Ada: on every page it is Cy's turn, and Cy's words are
    # waiting in the question she may now ask.
    act(ada, "Move on from Ada")
    turn_of(cy, "your")
    turn_of(bo, "Cy")
    ask = cy.locator("section#now form", has=cy.get_by_role("button", name="Ask", exact=True))
    expect(ask.locator("textarea")).to_have_value("Out of turn?")
    ask.get_by_role("button", name="Ask", exact=True).click()
    expect(section(bo, "Rounds")).to_contain_text("Cy asked: Out of turn?")
