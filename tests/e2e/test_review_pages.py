"""A review by consent in headless Chromium against a real server, each person on their own
phone: a member opens an asynchronous review of a decision from its page, the facilitator skips
to the consent round, the others consent on their pages, and the last consent decides it: only
then does the decision page show the new review date."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.conftest import Server
from tests.e2e.test_circle_pages import ARTIFACTS, section
from tests.e2e.test_proposal_pages import (
    PROPOSAL_URL,
    a_circle,
    do,
    fits_a_phone,
    in_days,
    make_proposal,
    now_section,
    person,
    phase,
)
from tests.helpers import PASSWORD, bearer, shown_day

DECISION_URL = re.compile(r"/decisions/[0-9a-f-]{36}$")
CRITERION = "Deliveries take a day, not three."  # fill_proposal's


def decided_through_the_api(server: Server, proposal_url: str) -> str:
    """Everyone consents to the proposal (they did so last spring, say): returns its decision's page."""
    proposal_id = proposal_url.rsplit("/", 1)[1]
    people = {}
    for email in ("ada@example.org", "bo@example.org", "cy@example.org"):
        signed_in = httpx.post(server.url + "/api/sessions", json={"email": email, "password": PASSWORD})
        people[email] = bearer(signed_in.json()["token"])
    steps = [("ada", "start"), ("ada", "advance"), ("ada", "advance"), ("ada", "consent"), ("bo", "consent")]
    for number, (who, action) in enumerate([*steps, ("cy", "consent")]):
        done = httpx.post(
            f"{server.url}/api/proposals/{proposal_id}/actions",
            json={"type": action, "client_id": f"setup-{number}"},
            headers=people[f"{who}@example.org"],
        )
        assert done.status_code == 200, done.text
    read = httpx.get(f"{server.url}/api/proposals/{proposal_id}", headers=people["ada@example.org"])
    return f"{server.url}/decisions/{read.json()['decision_id']}"


def test_a_member_reviews_a_decision_and_the_circle_consents_asynchronously(
    page: Page, server: Server, browser: Browser
) -> None:
    circle_url = a_circle(page, server, ("Bo", "bo@example.org"), ("Cy", "cy@example.org"))
    decision_url = decided_through_the_api(server, make_proposal(page, circle_url))
    first_review = (date.today() + timedelta(days=180)).isoformat()  # fill_proposal's
    next_review = (date.today() + timedelta(days=90)).isoformat()

    with person(browser, server, "bo@example.org") as bo, person(browser, server, "cy@example.org") as cy:
        # Bo opens a review to reaffirm it, asynchronously, with an earlier next review.
        bo.goto(decision_url)
        expect(bo.locator(".badges")).to_contain_text(f"review by {shown_day(first_review)}")
        review = section(bo, "Review this decision")
        review.get_by_label("Reaffirm it, with its next review date").check()
        review.get_by_label(CRITERION).fill("Most deliveries take a day now.")
        review.get_by_label("Why (for an amendment, its driver)").fill("The van works; look again after the winter.")
        review.get_by_label("Next review by").fill(next_review)
        review.get_by_label("Asynchronously, until a deadline").check()
        review.get_by_label("Deadline (UTC, for an asynchronous review)").fill(in_days(3).strftime("%Y-%m-%dT%H:%M"))
        review.get_by_role("button", name="Open the review").click()
        expect(bo).to_have_url(PROPOSAL_URL)
        expect(bo.get_by_role("status")).to_contain_text("The review is open")
        about = section(bo, "A review of a decision")
        expect(about).to_contain_text("proposes to reaffirm it")
        expect(about).to_contain_text(f"{CRITERION}: Most deliveries take a day now.")
        expect(about.get_by_role("link", name="A van for deliveries")).to_have_attribute(
            "href", decision_url.removeprefix(server.url)
        )
        expect(bo.locator(".badges")).to_contain_text("asynchronous")
        review_url = bo.url

        # Ada facilitates: no clarifying or reaction round for a review, if she so decides.
        page.goto(review_url)
        do(page, "Start: clarifying questions")
        do(page, "Skip to the consent round")
        expect(phase(page)).to_have_text("Consent round")
        expect(now_section(page)).to_contain_text(
            f"Consenting includes the review date: review by {shown_day(next_review)}."
        )
        do(page, "I consent")
        cy.goto(review_url)
        do(cy, "Consent with a concern", "Check the winter routes.", "Your concern")

        # Not yet consented by everyone: the decision is as it was.
        bo.goto(decision_url)
        expect(bo.locator(".badges")).to_contain_text(f"review by {shown_day(first_review)}")
        expect(section(bo, "Reviews")).to_contain_text("Bo opened a review to reaffirm it")
        bo.goto(review_url)
        do(bo, "I consent")  # the last consent decides it
        expect(phase(bo)).to_have_text("Decided")
        now_section(bo).get_by_role("link", name="Read the decision it reviewed").click()

        expect(bo).to_have_url(DECISION_URL)
        expect(bo.locator(".badges")).to_contain_text(f"review by {shown_day(next_review)}")
        reviews = section(bo, "Reviews")
        expect(reviews).to_contain_text(f"Reaffirmed, next review by {shown_day(next_review)}.")
        expect(reviews).to_contain_text("The van works; look again after the winter.")
        reviews.locator("summary", has_text="How the circle consented").click()
        expect(reviews).to_contain_text("Cy: consented with a concern")
        expect(reviews).to_contain_text("Concern, Cy: Check the winter routes.")
        fits_a_phone(bo)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        bo.screenshot(path=str(ARTIFACTS / "decision-reviewed.png"), full_page=True)
