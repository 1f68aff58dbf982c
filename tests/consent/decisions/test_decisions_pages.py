"""The decision log's pages in-process: filters kept in the URL, refusals shown on the page,
the lists of reviews due on the home and circle pages, a review by form, and the calendar link."""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlsplit

import icalendar

from tests.consent.decisions.conftest import decide
from tests.rounds.conftest import Circle, MovableClock


async def test_the_log_keeps_its_filters_in_the_url(circle: Circle, clock: MovableClock) -> None:
    for title in ("Rota one", "Rota two", "Rota three"):
        await decide(circle, title, text=f"{title} by rota.")
        clock.move(minutes=1)
    page = await circle.client.get(
        "/decisions",
        params={"q": "rota", "status": "active", "limit": "2", "circle_id": circle.id},
        headers=circle.people["bo"],
    )
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Rota three" in text and "Rota two" in text and "Rota one" not in text
    next_link = text.split('class="button" href="')[1].split('"')[0]
    assert next_link.startswith(f"/decisions?q=rota&circle_id={circle.id}&status=active&limit=2&cursor=")
    second = html.unescape((await circle.client.get(next_link, headers=circle.people["bo"])).text)
    assert "Rota one" in second and "Rota three" not in second and "Older decisions" not in second
    assert 'value="active" checked' in second and 'value="rota"' in second
    assert f'href="/decisions.csv?q=rota&circle_id={circle.id}&status=active&limit=2"' in second


async def test_a_search_sent_by_the_form_keeps_every_filled_field_in_order(circle: Circle) -> None:
    # The form sends every field, empty or not, in its order; the log keeps the filled ones.
    # Each empty field before and after the filled ones, whatever order the server holds them in.
    sent = "circle_id=&q=winter&domain_id=&status=active&status=due&review_after=&review_before=2027-06-30&x="
    for _ in range(5):
        answer = await circle.client.get(f"/decisions?{sent}", headers=circle.people["bo"], follow_redirects=False)
        assert answer.status_code == 302
        assert answer.headers["location"] == "/decisions?q=winter&status=active&status=due&review_before=2027-06-30"


async def test_a_bad_filter_is_shown_on_the_page(circle: Circle) -> None:
    page = await circle.client.get("/decisions", params={"review_before": "2027-02-30"}, headers=circle.people["bo"])
    assert page.status_code == 422
    assert "The latest review date must be a date like 2027-06-30." in page.text and 'role="alert"' in page.text


async def test_reviews_due_on_the_home_and_circle_pages(circle: Circle, clock: MovableClock) -> None:
    await decide(circle, "Compost bins", review_by="2026-12-01")
    await decide(circle, "Van hire", review_by="2026-12-20")
    await decide(circle, "Far away", review_by="2027-09-01")
    clock.move(days=5)  # 2026-11-28: compost and van due, nothing overdue
    home = (await circle.client.get("/", headers=circle.people["di"])).text
    due = home.split("Reviews due in the next 30 days")[1]
    assert "Compost bins" in due and "Van hire" in due and "Far away" not in home
    assert "No decision is overdue for review." in home
    clock.move(days=10)  # 2026-12-08: compost overdue
    page = (await circle.client.get(f"/circles/{circle.id}", headers=circle.people["di"])).text
    overdue, due = page.split("Reviews overdue")[1].split("Reviews due in the next 30 days")
    assert "Compost bins" in overdue and "Van hire" not in overdue
    assert "Van hire" in due.split("</section>")[0]
    stranger = (await circle.client.get("/", headers=circle.people["zed"])).text
    assert "Compost bins" not in stranger


async def test_a_review_by_form_opens_its_proposal_and_a_refusal_keeps_what_was_typed(circle: Circle) -> None:
    d = await decide(circle, "Bread", objection="The stall is closed in winter.", criteria=["Less waste"])
    cy = circle.people["cy"]
    page = await circle.client.get(d["url"], headers=cy)
    assert "The stall is closed in winter." in page.text and "integrated by revision 2" in page.text
    assert "good enough for now, safe enough to try" in page.text
    assert '<input type="hidden" name="criterion" value="Less waste">' in page.text
    form = {"outcome": "reaffirm", "why": "Still fine", "criterion": "Less waste", "assessment": "Half the waste"}
    refused = await circle.client.post(f"{d['url']}/reviews", data={**form, "review_by": "2026-01-01"}, headers=cy)
    assert refused.status_code == 422 and "The review date must be in the future." in refused.text
    assert "Still fine</textarea>" in refused.text and "Half the waste</textarea>" in refused.text
    refused = await circle.client.post(f"{d['url']}/reviews", data={**form, "assessment": ""}, headers=cy)
    assert refused.status_code == 422 and "&#39;Less waste&#39; has no assessment" in refused.text
    refused = await circle.client.post(
        f"{d['url']}/reviews", data={**form, "mode": "async", "closes_at": "soon"}, headers=cy
    )
    assert refused.status_code == 422 and "The deadline must be a date and time." in refused.text

    done = await circle.client.post(
        f"{d['url']}/reviews",
        data={**form, "review_by": "2027-12-01", "mode": "async", "closes_at": "2026-11-30T09:00"},
        headers=cy,
        follow_redirects=False,
    )
    assert done.status_code in (302, 303), done.text
    proposal_url = done.headers["location"]
    proposal = await circle.client.get(proposal_url, headers=cy)
    assert "A review of a decision" in proposal.text and f'href="{d["url"]}"' in proposal.text
    assert "<strong>reaffirm it</strong>" in proposal.text and "Half the waste" in proposal.text
    assert "open until" in proposal.text and "Nov 30, 2026, 9:00\u202fAM UTC" in proposal.text
    page = await circle.client.get(d["url"], headers=cy)
    assert f'<a href="{proposal_url}">take part in it</a>' in page.text and "Open the review" not in page.text
    assert "opened a review to reaffirm it" in page.text and "Still fine" in page.text
    circle_page = await circle.client.get(f"/circles/{circle.id}", headers=cy)
    assert '<span class="badge">review</span>' in circle_page.text  # among the open proposals

    proposal_id = proposal_url.rsplit("/", 1)[1]
    facilitator = await circle.client.get(proposal_url, headers=circle.people["ada"])
    assert "Start: clarifying questions" in facilitator.text
    await circle.ok(proposal_id, "ada", "start")
    facilitator = await circle.client.get(proposal_url, headers=circle.people["ada"])
    assert "Skip to the consent round" in facilitator.text
    await circle.ok(proposal_id, "ada", "advance", to="consenting")
    for who in ("ada", "bo", "cy", "di"):
        await circle.ok(proposal_id, who, "consent")
    page = await circle.client.get(d["url"], headers=cy)
    assert "Reaffirmed, next review by Dec 1, 2027." in page.text and "How the circle consented" in page.text
    assert "Open the review" in page.text  # closed, it holds the decision no more
    stranger = await circle.client.post(f"{d['url']}/reviews", data=form, headers=circle.people["zed"])
    assert stranger.status_code == 404


async def test_a_plain_proposal_offers_no_skip(circle: Circle) -> None:
    proposal = await circle.propose()
    await circle.ok(proposal["id"], "ada", "start")
    page = await circle.client.get(f"/proposals/{proposal['id']}", headers=circle.people["ada"])
    assert "Move on to the reaction round" in page.text and "Skip to the consent round" not in page.text


async def test_a_calendar_link_made_after_a_search_gives_every_review_date_not_the_search(circle: Circle) -> None:
    await decide(circle, "Compost bins", review_by="2026-12-01")
    await decide(circle, "Van hire", review_by="2026-12-20")
    bo = circle.people["bo"]
    searched = html.unescape((await circle.client.get("/decisions", params={"q": "compost"}, headers=bo)).text)
    calendar = searched.split('<section id="calendar">')[1]
    assert "It does not keep the search above." in calendar and "compost" not in calendar

    made = await circle.client.post("/decisions/feed", data={"circle_id": "", "subcircles": "1"}, headers=bo)
    assert made.status_code == 200
    text = html.unescape(made.text)
    assert "It gives the review dates of every decision you can see, whatever you search for." in text
    link = urlsplit(text.split('id="feed-url" type="text" readonly value="')[1].split('"')[0])
    assert parse_qs(link.query).keys() == {"feed"}  # the secret alone: no search, no circle
    feed = await circle.client.get(f"{link.path}?{link.query}")
    summaries = {str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(feed.content).walk("VEVENT")}
    assert summaries == {"Review: Compost bins (Riverside)", "Review: Van hire (Riverside)"}

    # One circle, chosen in the calendar's own form, with its sub-circles.
    made = await circle.client.post("/decisions/feed", data={"circle_id": circle.id, "subcircles": "1"}, headers=bo)
    text = html.unescape(made.text)
    assert "It gives the review dates of the decisions of Riverside and its sub-circles, whatever" in text
    link = urlsplit(text.split('id="feed-url" type="text" readonly value="')[1].split('"')[0])
    assert parse_qs(link.query).keys() == {"feed", "circle_id", "subcircles"}
    assert parse_qs(link.query)["circle_id"] == [circle.id]
