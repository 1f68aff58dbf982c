"""The decision log as a newcomer tries it, in headless Chromium on a phone against a real server
with the demo network: find a decision by a word from its objection, read its history (the
objection and how it was integrated), subscribe to every review date from the search's page, and open a review of it by form
(which changes nothing until the circle consents: test_review_pages.py takes one to the end)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import httpx
import icalendar
from playwright.sync_api import Page, expect

from consent.base.settings import Settings
from tests.conftest import start_server
from tests.consent.test_cli import demo_passwords
from tests.e2e.test_circle_pages import section
from tests.helpers import shown_day, sign_in_in_page

DECISION_URL = re.compile(r"/decisions/[0-9a-f-]{36}$")


def test_a_member_finds_a_decision_subscribes_and_opens_a_review_of_it(page: Page, settings: Settings) -> None:
    server = start_server(settings, "--demo")
    try:
        passwords = demo_passwords(server.log.read_text())
        sign_in_in_page(page, server.url, "ada@demo.example", passwords["ada@demo.example"])
        # The home page lists what is due: the bread decision soon, the donations one overdue.
        expect(
            section(page, "Decisions to review").get_by_role("link", name="Collect on Fridays, share on Sundays")
        ).to_be_visible()
        expect(
            section(page, "Decisions to review").get_by_role("link", name="Donations go through the shared account")
        ).to_be_visible()

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Decisions").click()
        expect(page).to_have_url(re.compile(r"/decisions$"))  # arrived, before typing into its page
        search = page.get_by_label("Search the title, driver, text, concerns and objections")
        search.fill("winter")
        expect(search).to_have_value("winter")
        page.get_by_role("button", name="Find decisions").click()
        expect(page).to_have_url(re.compile(r"/decisions\?q=winter$"))  # the search can be shared
        found = section(page, "Decisions found")
        expect(found.get_by_role("listitem")).to_have_count(1)
        found.get_by_role("link", name="Collect on Fridays, share on Sundays").click()
        expect(page).to_have_url(DECISION_URL)
        permalink = page.url

        # The record names each member of Food Share with what they did in the round that decided.
        record = section(page, "Each member in the round that decided")
        expect(record.locator("ul").first.locator("li")).to_have_text(
            [
                "Ada Okafor: consented",
                "Chidi Mensah: consented",
                "Dana Kowalski: consented with a concern: The hall's freezer is small.",
            ]
        )
        objections = record.locator("ul.objections")
        expect(objections).to_contain_text("The market stall is closed in winter, so nobody would get the bread.")
        expect(objections).to_contain_text("integrated by revision 2")
        expect(section(page, "How it was decided")).to_contain_text("Ada Okafor objected (revision 1)")
        expect(section(page, "Revisions").locator("ins").first).to_contain_text("Sundays")
        expect(page.locator(".statement")).to_contain_text("good enough for now, safe enough to try")

        # Subscribe, from the search's page: the link gives every review date, not the search's,
        # and works without a cookie, as a calendar app fetches it.
        page.go_back()
        expect(page).to_have_url(re.compile(r"/decisions\?q=winter$"))
        calendar = page.locator("section#calendar")
        expect(calendar).to_contain_text("It does not keep the search above.")
        calendar.get_by_role("button", name="Make a calendar link").click()
        expect(page.locator("section#calendar")).to_contain_text(
            "It gives the review dates of every decision you can see, whatever you search for."
        )
        link = page.get_by_label("Your calendar link").input_value()
        assert urlsplit(link).path == "/decisions.ics" and "q=" not in link
        calendar = icalendar.Calendar.from_ical(httpx.get(link).content)
        events = {str(e["SUMMARY"]): e.decoded("DTSTART") for e in calendar.walk("VEVENT")}
        reviews = {summary: day for summary, day in events.items() if summary.startswith("Review: ")}
        assert set(reviews) == {
            "Review: Collect on Fridays, share on Sundays (Food Share)",
            "Review: Donations go through the shared account (Riverside Mutual Aid)",
        }

        # Open a review to reaffirm it, a year ahead: nothing changes until the circle consents.
        page.goto(permalink)
        expect(section(page, "Driver")).to_contain_text("Less than one crate thrown away a week by spring.")
        review = section(page, "Review this decision")
        next_review = (date.today() + timedelta(days=365)).isoformat()
        review.get_by_label("Reaffirm it, with its next review date").check()
        review.get_by_label("Less than one crate thrown away a week by spring.").fill(
            "Two crates a week, down from five."
        )
        review.get_by_label("Why (for an amendment, its driver)").fill("Still good enough for now.")
        review.get_by_label("Next review by").fill(next_review)
        review.get_by_role("button", name="Open the review").click()
        expect(page).to_have_url(re.compile(r"/proposals/[0-9a-f-]{36}$"))
        expect(page.locator(".flash-success")).to_contain_text(
            "The review is open"
        )  # a live meeting has its own status
        expect(page.get_by_role("heading", level=1)).to_have_text("Review: Collect on Fridays, share on Sundays")
        expect(section(page, "A review of a decision")).to_contain_text("Two crates a week, down from five.")
        review_url = page.url

        page.goto(permalink)
        expect(section(page, "Review this decision").get_by_role("link", name="take part in it")).to_have_attribute(
            "href", urlsplit(review_url).path
        )
        expect(section(page, "Reviews")).to_contain_text("Ada Okafor opened a review to reaffirm it")
        expect(page.locator(".badges")).not_to_contain_text(f"review by {shown_day(next_review)}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone
        calendar = icalendar.Calendar.from_ical(httpx.get(link).content)
        unchanged = {str(e["SUMMARY"]): e.decoded("DTSTART") for e in calendar.walk("VEVENT")}
        assert unchanged == events
    finally:
        server.stop()
