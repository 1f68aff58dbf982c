"""The proposal pages in headless Chromium against a real server: a whole asynchronous consent
process, with a clarifying question, a reaction, an objection integrated by an amendment and a
decision; bad input; who sees what; a double submit recorded once; a phone screen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from playwright.sync_api import Browser, Locator, Page, expect

from tests.conftest import Server
from tests.e2e.test_circle_pages import (
    ARTIFACTS,
    add_domain,
    give_role,
    open_form,
    section,
    start_organisation,
)
from tests.helpers import accept_invitations, create_account, shown_day, sign_in_in_page, sign_up_in_page

PROPOSAL_URL = re.compile(r"/proposals/[0-9a-f-]{36}$")
PHONE = {"width": 390, "height": 844}
TEXT = "We buy a second-hand van for deliveries and share it between the circles."
AMENDED = "We rent an electric van for deliveries and share it between the circles."


@contextmanager
def person(browser: Browser, server: Server, email: str) -> Iterator[Page]:
    """Someone else, on their own phone: a browser context of their own, signed in."""
    context = browser.new_context(viewport=PHONE)
    try:
        other = context.new_page()
        sign_in_in_page(other, server.url, email)
        yield other
    finally:
        context.close()


def a_circle(page: Page, server: Server, *members: tuple[str, str]) -> str:
    """Ada signs up and starts Acme Coop, with a domain, and invites `members` (name, email),
    who have accounts already and accept; returns the circle page's URL."""
    for name, email in members:
        create_account(server.url, name, email)
    sign_up_in_page(page, server.url, "Ada", "ada@example.org")
    url = start_organisation(page, server, "Acme Coop", "Make good things together")
    add_domain(page, "Transport", "Moving goods and people")
    for _, email in members:
        give_role(page, email)
        expect(page.get_by_role("status")).to_contain_text(f"{email} is invited")
        assert accept_invitations(server.url, email) == ["Acme Coop"]
    return url


def in_days(days: int) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(second=0, microsecond=0)


def fill_proposal(
    page: Page,
    title: str = "A van for deliveries",
    driver: str = "Deliveries by bike take too long.",
    text: str = TEXT,
    closes_at: str | None = None,
    review_by: str | None = None,
) -> None:
    """Fills the new proposal form, asynchronously, with a deadline three days ahead."""
    page.get_by_label("Title").fill(title)
    page.get_by_label("Driver: the need or situation").fill(driver)
    page.get_by_label("Proposal", exact=True).fill(text)
    page.get_by_label("How will we know it works?").fill("Deliveries take a day, not three.")
    page.get_by_label("Domain").select_option(label="Transport")
    page.get_by_label("Asynchronously, until a deadline").check()
    page.get_by_label("Deadline (UTC, for an asynchronous proposal)").fill(
        closes_at if closes_at is not None else in_days(3).strftime("%Y-%m-%dT%H:%M")
    )
    page.get_by_label("Review by").fill(
        review_by if review_by is not None else (date.today() + timedelta(days=180)).isoformat()
    )


def make_proposal(page: Page, circle_url: str, **fields: str) -> str:
    """Makes an async proposal from the circle page; returns the proposal page's URL."""
    page.goto(circle_url)
    section(page, "Proposals").get_by_role("link", name="Make a proposal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New proposal")
    fill_proposal(page, **fields)
    page.get_by_role("button", name="Save the proposal").click()
    expect(page).to_have_url(PROPOSAL_URL)
    expect(page.get_by_role("status")).to_contain_text("Your proposal is saved as a draft")
    expect(phase(page)).to_have_text("Draft")
    return page.url


def phase(page: Page) -> Locator:
    return page.locator(".badges .badge").first


def now_section(page: Page) -> Locator:
    return page.locator("section#now")


def do(page: Page, button: str, text: str | None = None, label: str | re.Pattern[str] | None = None) -> None:
    """Takes one action from "What you can do now": fills its text (if any) and presses its button."""
    form = now_section(page).locator("form", has=page.get_by_role("button", name=button, exact=True))
    expect(form).to_have_count(1)
    if text is not None:
        (form.get_by_label(label) if label is not None else form.locator("textarea")).fill(text)
    form.get_by_role("button", name=button, exact=True).click()
    expect(page).to_have_url(re.compile(r"/proposals/[0-9a-f-]{36}#now$"))
    expect(page.get_by_role("alert")).to_have_count(0)


def round_section(page: Page, heading: str) -> Locator:
    """A round, by its heading, e.g. "Round 2: Reaction round", with the responses listed in it."""
    return section(page, "Rounds").locator(".round", has=page.get_by_role("heading", name=heading, exact=True))


def line(pattern: str) -> re.Pattern[str]:
    """A list item's whole text (to_have_text does not trim around a regular expression)."""
    return re.compile(r"^\s*" + pattern + r"\s*$")


def fits_a_phone(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_an_async_proposal_from_draft_through_an_integrated_objection_to_a_decision(
    page: Page, server: Server, browser: Browser
) -> None:
    circle_url = a_circle(page, server, ("Bo", "bo@example.org"), ("Cy", "cy@example.org"))
    url = make_proposal(page, circle_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("A van for deliveries")
    expect(page.locator(".badges")).to_contain_text("asynchronous")
    expect(page.locator(".badges")).to_contain_text("revision 1")
    expect(page.locator(".badges")).to_contain_text("open until")
    expect(page.locator(".badges")).to_contain_text(f"review by {shown_day(date.today() + timedelta(days=180))}")
    expect(section(page, "Driver")).to_contain_text("Deliveries by bike take too long.")
    expect(section(page, "Driver")).to_contain_text(TEXT)
    expect(section(page, "Rounds")).to_contain_text("The process has not started.")

    # The circle page lists it among the open proposals.
    page.goto(circle_url)
    proposals = section(page, "Proposals")
    expect(proposals.get_by_role("link", name="A van for deliveries")).to_be_visible()
    expect(proposals).to_contain_text("Draft")
    proposals.get_by_role("link", name="A van for deliveries").click()
    expect(page).to_have_url(url)

    do(page, "Start: clarifying questions")
    expect(phase(page)).to_have_text("Clarifying questions")
    expect(now_section(page).get_by_role("button", name="Start: clarifying questions")).to_have_count(0)

    with person(browser, server, "bo@example.org") as bo, person(browser, server, "cy@example.org") as cy:
        bo.goto(url)
        expect(phase(bo)).to_have_text("Clarifying questions")
        # Bo is no facilitator: he takes part, he does not move the process.
        expect(now_section(bo).get_by_role("button", name="Move on to the reaction round")).to_have_count(0)
        do(bo, "Ask", "Who may drive it?", "Your clarifying question")
        expect(round_section(bo, "Round 1: Clarifying questions")).to_contain_text("Bo asked: Who may drive it?")

        page.reload()
        do(page, "Answer", "Anyone in the circle with a licence.", "Answer to Bo: “Who may drive it?”")
        expect(now_section(page).get_by_role("button", name="Answer")).to_have_count(0)  # nothing left to answer
        clarifying = round_section(page, "Round 1: Clarifying questions")
        expect(clarifying).to_contain_text("Bo asked: Who may drive it?")
        expect(clarifying).to_contain_text("Anyone in the circle with a licence.")

        do(page, "Move on to the reaction round")
        expect(phase(page)).to_have_text("Reaction round")

        cy.goto(url)
        do(cy, "React", "Good idea, the bikes are worn out.", "Your reaction (brief; reactions are not debated)")
        expect(now_section(cy).get_by_role("button", name="React")).to_have_count(0)  # one reaction each
        expect(round_section(cy, "Round 2: Reaction round")).to_contain_text(
            "Cy reacted: Good idea, the bikes are worn out."
        )

        page.reload()
        do(page, "Move on to the consent round")
        expect(phase(page)).to_have_text("Consent round")

        bo.goto(url)
        for button in ("I consent", "Consent with a concern", "I object", "Stand aside"):
            expect(now_section(bo).get_by_role("button", name=button, exact=True)).to_be_visible()
        do(bo, "I object", "A petrol van goes against our aim of low-carbon transport.", re.compile("^Your objection"))
        expect(section(bo, "Objections")).to_contain_text("Bo (revision 1): A petrol van goes against our aim")
        expect(section(bo, "Objections")).to_contain_text("open")
        expect(
            now_section(bo).get_by_role("button", name=re.compile("^Withdraw my objection “A petrol van"))
        ).to_be_visible()
        expect(now_section(bo).get_by_role("button", name="I consent")).to_have_count(0)  # he has responded

        page.reload()
        do(page, "I consent")
        cy.goto(url)
        do(cy, "I consent")
        consent_round = round_section(cy, "Round 3: Consent round")
        expect(consent_round.locator("li")).to_have_count(3)

        page.reload()
        do(page, "Close the consent round")
        expect(phase(page)).to_have_text("Integrating objections")
        expect(now_section(page).get_by_role("button", name="Close the consent round")).to_have_count(0)
        fits_a_phone(page)

        # Only the author amends; the form is open, holding the current text.
        amend = page.locator(
            "details", has=page.locator("summary", has_text="Amend the proposal to integrate the objections")
        )
        expect(amend).to_have_attribute("open", "")
        expect(amend.get_by_label("New text")).to_have_value(TEXT)
        amend.get_by_label("New text").fill(AMENDED)
        amend.get_by_role("button", name="Save revision 2").click()
        expect(page.get_by_role("alert")).to_have_count(0)
        expect(phase(page)).to_have_text("Consent round")
        expect(page.locator(".badges")).to_contain_text("revision 2")
        expect(page.get_by_role("heading", name=re.compile(r"^Proposal \(revision 2, by Ada\)"))).to_be_visible()
        expect(section(page, "Driver")).to_contain_text(AMENDED)
        expect(page.get_by_role("heading", name="Changes from revision 1")).to_be_visible()
        diff = section(page, "Driver").locator(".diff")
        expect(diff.locator("ins")).to_have_text(re.compile(r"^rent an electric\s*$"))
        expect(diff.locator("del")).to_have_text(re.compile(r"^buy a second-hand\s*$"))
        expect(section(page, "Objections")).to_contain_text("integrated by revision 2")
        expect(section(page, "Revisions").locator("summary")).to_have_text(["Revision 2", "Revision 1"])

        # Everyone consents again, on revision 2; the last consent decides it at once.
        bo.goto(url)
        expect(now_section(bo).get_by_role("button", name=re.compile("^Withdraw my objection"))).to_have_count(0)
        do(bo, "I consent")
        cy.goto(url)
        do(cy, "Consent with a concern", "The rent may rise next year.", "Your concern")
        expect(phase(cy)).to_have_text("Consent round")  # Ada has not responded yet

    page.reload()
    do(page, "I consent")
    expect(phase(page)).to_have_text("Decided")
    expect(now_section(page)).to_contain_text("The process is over.")
    expect(now_section(page).locator("form")).to_have_count(0)
    expect(page.locator(".badges")).not_to_contain_text("open until")  # it is closed: no deadline to meet

    # Every response, grouped by the round it was given in.
    rounds = section(page, "Rounds")
    expect(rounds.locator("h3")).to_have_text(
        ["Round 4: Consent round", "Round 3: Consent round", "Round 2: Reaction round", "Round 1: Clarifying questions"]
    )
    expect(round_section(page, "Round 1: Clarifying questions").locator("li")).to_have_text(
        [
            line(r"Bo\s+asked: Who may drive it\?"),
            line(r"Ada\s+answered Bo’s question “Who may drive it\?”: Anyone in the circle with a licence\."),
        ]
    )
    expect(round_section(page, "Round 2: Reaction round").locator("li")).to_have_text(
        [line(r"Cy\s+reacted: Good idea, the bikes are worn out\.")]
    )
    expect(round_section(page, "Round 3: Consent round").locator("li")).to_have_text(
        [
            line(r"Bo\s+objects\s+\(revision 1\): A petrol van goes against our aim of low-carbon transport\."),
            line(r"Ada\s+consents\s+\(revision 1\)"),
            line(r"Cy\s+consents\s+\(revision 1\)"),
        ]
    )
    expect(round_section(page, "Round 4: Consent round").locator("li")).to_have_text(
        [
            line(r"Bo\s+consents\s+\(revision 2\)"),
            line(r"Cy\s+consents with a concern\s+\(revision 2\): The rent may rise next year\."),
            line(r"Ada\s+consents\s+\(revision 2\)"),
        ]
    )
    objections = section(page, "Objections")
    expect(objections.locator("li")).to_have_count(1)
    expect(objections).to_contain_text("Bo (revision 1): A petrol van goes against our aim of low-carbon transport.")
    expect(objections).to_contain_text("integrated by revision 2")
    participants = section(page, "Participants").locator("li")
    expect(participants).to_have_text([line(r"Ada\s+consent"), line(r"Bo\s+consent"), line(r"Cy\s+concern")])

    fits_a_phone(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "proposal-decided.png"), full_page=True)

    # Decided, it is no longer an open proposal of the circle.
    page.goto(circle_url)
    expect(section(page, "Proposals")).to_contain_text("No open proposals.")


def test_an_objection_without_a_reason_is_refused_and_changes_nothing(page: Page, server: Server) -> None:
    circle_url = a_circle(page, server, ("Bo", "bo@example.org"))
    url = make_proposal(page, circle_url)
    do(page, "Start: clarifying questions")
    do(page, "Move on to the reaction round")
    do(page, "Move on to the consent round")

    objection = now_section(page).locator("form", has=page.get_by_role("button", name="I object"))
    objection.locator("textarea").evaluate("el => el.removeAttribute('required')")
    objection.locator("textarea").fill("   ")
    objection.get_by_role("button", name="I object").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("An objection needs a reason")
    expect(phase(page)).to_have_text("Consent round")
    expect(section(page, "Objections")).to_have_count(0)
    expect(round_section(page, "Round 3: Consent round").locator("li")).to_have_count(0)
    expect(round_section(page, "Round 3: Consent round").get_by_text("No responses yet.")).to_be_visible()
    expect(section(page, "Participants").locator("li")).to_have_text([line("Ada"), line("Bo")])

    # A refusal keeps what was typed.
    too_long = "Not safe enough. " * 1200  # over the 20,000 characters an objection may have
    objection = now_section(page).locator("form", has=page.get_by_role("button", name="I object"))
    objection.locator("textarea").fill(too_long)
    objection.get_by_role("button", name="I object").click()
    expect(page.get_by_role("alert")).to_contain_text("The text must have at most 20000 characters.")
    kept = now_section(page).locator("form", has=page.get_by_role("button", name="I object")).locator("textarea")
    expect(kept).to_have_value(too_long)

    # Still free to respond, and a reason makes it an objection.
    page.goto(url)
    do(page, "I object", "Not safe enough: nobody has checked the insurance.")
    expect(section(page, "Objections")).to_contain_text(
        "Ada (revision 1): Not safe enough: nobody has checked the insurance."
    )


def test_a_bad_new_proposal_is_answered_and_keeps_what_was_typed(page: Page, server: Server) -> None:
    circle_url = a_circle(page, server)
    page.goto(circle_url)
    section(page, "Proposals").get_by_role("link", name="Make a proposal").click()
    new_url = page.url

    page.get_by_label("Title").evaluate("el => el.removeAttribute('required')")
    fill_proposal(page, title="")
    page.get_by_role("button", name="Save the proposal").click()
    expect(page.get_by_role("alert")).to_contain_text("The title must not be empty.")
    expect(page.get_by_label("Driver: the need or situation")).to_have_value("Deliveries by bike take too long.")
    expect(page.get_by_label("Proposal", exact=True)).to_have_value(TEXT)
    expect(page.get_by_label("How will we know it works?")).to_have_value("Deliveries take a day, not three.")
    expect(page.get_by_label("Asynchronously, until a deadline")).to_be_checked()
    expect(page.get_by_label("Domain").locator("option:checked")).to_have_text("Transport")

    page.goto(new_url)
    past = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    fill_proposal(page, closes_at=past)
    page.get_by_role("button", name="Save the proposal").click()
    expect(page.get_by_role("alert")).to_contain_text("The deadline must be in the future.")
    expect(page.get_by_label("Title")).to_have_value("A van for deliveries")
    expect(page.get_by_label("Driver: the need or situation")).to_have_value("Deliveries by bike take too long.")
    expect(page.get_by_label("Proposal", exact=True)).to_have_value(TEXT)
    expect(page.get_by_label("Deadline (UTC, for an asynchronous proposal)")).to_have_value(past)

    # Corrected, it goes through; nothing was saved by the refused attempts.
    page.get_by_label("Deadline (UTC, for an asynchronous proposal)").fill(in_days(3).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Save the proposal").click()
    expect(page).to_have_url(PROPOSAL_URL)
    page.goto(circle_url)
    expect(section(page, "Proposals").locator("li")).to_have_count(1)


def test_outsiders_get_not_found_and_members_only_see_what_they_may_do(
    page: Page, server: Server, browser: Browser
) -> None:
    create_account(server.url, "Oz Outsider", "oz@example.org")
    circle_url = a_circle(page, server, ("Bo", "bo@example.org"))
    url = make_proposal(page, circle_url)
    expect(now_section(page).get_by_role("button", name="Start: clarifying questions")).to_be_visible()

    with person(browser, server, "oz@example.org") as oz:
        response = oz.goto(url)
        assert response is not None and response.status == 404
        expect(oz.get_by_role("heading", level=1)).to_have_text("Not found")
        expect(oz.get_by_text("A van for deliveries")).to_have_count(0)
        expect(oz.get_by_text("Acme Coop")).to_have_count(0)

    with person(browser, server, "bo@example.org") as bo:
        bo.goto(url)
        expect(bo.get_by_role("heading", level=1)).to_have_text("A van for deliveries")
        expect(now_section(bo).get_by_role("button", name="Start: clarifying questions")).to_have_count(0)
        expect(now_section(bo)).to_contain_text("Nothing for you to do right now.")
        expect(now_section(bo).locator("summary", has_text="Amend the proposal")).to_have_count(0)
        expect(now_section(bo).locator("summary", has_text="Withdraw the proposal")).to_have_count(0)

        page.reload()
        do(page, "Start: clarifying questions")
        bo.reload()
        expect(now_section(bo).get_by_role("button", name="Ask")).to_be_visible()
        expect(now_section(bo).get_by_role("button", name="Move on to the reaction round")).to_have_count(0)


def form_fields(form: Locator) -> dict[str, str]:
    return form.evaluate("f => Object.fromEntries(new FormData(f).entries())")


def test_a_form_submitted_twice_is_recorded_once(page: Page, server: Server, browser: Browser) -> None:
    circle_url = a_circle(page, server, ("Bo", "bo@example.org"))
    url = make_proposal(page, circle_url)
    do(page, "Start: clarifying questions")

    # A question sent twice (a double tap, a retry on a bad connection) is asked once. Bo asks:
    # Ada wrote the proposal, and its author answers questions, she does not ask them.
    with person(browser, server, "bo@example.org") as bo:
        bo.goto(url)
        ask = now_section(bo).locator("form", has=bo.get_by_role("button", name="Ask"))
        ask.locator("textarea").fill("Electric or petrol?")
        fields = form_fields(ask)
        assert set(fields) >= {"_csrf_token", "type", "client_id", "text"}
        ask.get_by_role("button", name="Ask").click()
        expect(bo).to_have_url(re.compile("#now$"))
        again = bo.request.post(url + "/actions", form=fields)
        assert again.ok, again.status
        assert "Electric or petrol?" in again.text()
    page.goto(url)
    expect(round_section(page, "Round 1: Clarifying questions").locator("li")).to_have_count(1)

    do(page, "Move on to the reaction round")
    do(page, "Move on to the consent round")
    consent = now_section(page).locator("form", has=page.get_by_role("button", name="I consent"))
    fields = form_fields(consent)
    consent.get_by_role("button", name="I consent").click()
    expect(page).to_have_url(re.compile("#now$"))
    again = page.request.post(url + "/actions", form=fields)
    assert again.ok, again.status  # the same answer as the first time, not "already responded"
    assert 'role="alert"' not in again.text()
    page.goto(url)
    expect(round_section(page, "Round 3: Consent round").locator("li")).to_have_count(1)
    expect(phase(page)).to_have_text("Consent round")  # Bo has not responded

    # A second consent with an id of its own is a new action, and refused: once per revision.
    expect(now_section(page).get_by_role("button", name="I consent")).to_have_count(0)
    token = form_fields(now_section(page).locator("form").first)["_csrf_token"]
    refused = page.request.post(
        url + "/actions", form={"_csrf_token": token, "type": "consent", "client_id": "another-one"}
    )
    assert refused.status == 409
    assert "You already gave your consent response on this revision." in refused.text()


def test_the_proposal_page_fits_a_phone(page: Page, server: Server, browser: Browser) -> None:
    circle_url = a_circle(page, server, ("Bo Withaveryveryverylongname", "bo@example.org"))
    long_text = (
        "See https://example.org/a/very/long/link/to/the/van/rental/terms/and/conditions/that/goes/on/and/on "
        + "for the terms. "
        + "Each circle books the van a week ahead. " * 10
    )
    url = make_proposal(
        page, circle_url, title="A rather long title for a proposal about sharing a delivery van", text=long_text
    )
    do(page, "Start: clarifying questions")
    fits_a_phone(page)
    with person(browser, server, "bo@example.org") as bo:
        bo.goto(url)
        do(bo, "Ask", "What about https://example.org/another/rather/long/link/without/any/spaces/in/it?")
        fits_a_phone(bo)
    page.reload()
    for summary in ("Amend the proposal", "Withdraw the proposal"):
        open_form(page, summary)
    fits_a_phone(page)
