"""The decision log's pure rules: statuses by date, the filters of a query string and back,
cursors, search terms, and the export formats."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime

import icalendar
import pytest

from consent.base.errors import Refusal
from consent.decisions import rules

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("stored", "review_by", "status"),
    [
        ("active", date(2026, 11, 22), "overdue"),
        ("active", TODAY, "due"),
        ("active", date(2026, 12, 23), "due"),  # 30 days ahead: still due soon
        ("active", date(2026, 12, 24), "active"),
        ("retired", date(2026, 11, 1), "retired"),  # a retired decision is never overdue
        ("superseded", date(2026, 12, 1), "superseded"),
    ],
)
def test_status_follows_the_review_date(stored: str, review_by: date, status: str) -> None:
    assert rules.status_of(stored, review_by, TODAY) == status


def test_a_cursor_round_trips_and_a_forged_one_is_refused() -> None:
    cursor = rules.Cursor(datetime(2026, 11, 23, 9, 0, 1, 5, tzinfo=UTC), uuid.uuid4())
    assert rules.decode_cursor(rules.encode_cursor(cursor)) == cursor
    for forged in ("nonsense", "", "%%%", rules.encode_cursor(cursor)[:-4], "MjAyNi0xMS0yM3w="):
        with pytest.raises(Refusal) as refused:
            rules.decode_cursor(forged)
        assert (refused.value.status, refused.value.code) == (422, "invalid")
        assert refused.value.field == "cursor"


def test_filters_from_a_query_string_and_back() -> None:
    circle, domain = uuid.uuid4(), uuid.uuid4()
    params = {
        "q": [" winter bread "],
        "circle_id": [str(circle)],
        "subcircles": ["on"],
        "domain_id": [str(domain)],
        "status": ["due", "overdue", "due"],
        "review_after": ["2026-12-01"],
        "review_before": ["2027-01-31"],
        "limit": ["5"],
        "unknown": ["ignored"],
    }
    filters = rules.parse_filters(params)
    assert filters == rules.Filters(
        circle_id=circle,
        subcircles=True,
        domain_id=domain,
        statuses=("due", "overdue"),
        review_after=date(2026, 12, 1),
        review_before=date(2027, 1, 31),
        q="winter bread",
        limit=5,
    )
    again = rules.parse_filters(
        {
            name: [value] if name != "status" else ["due", "overdue"]
            for name, value in filters.params()
            if name != "status"
        }
        | {"status": ["due", "overdue"]}
    )
    assert again == filters
    assert filters.link("/decisions", "abc").endswith("&limit=5&cursor=abc")
    # an empty form field is no filter at all
    assert rules.parse_filters({"q": [""], "circle_id": [""], "status": [""], "limit": [""]}) == rules.Filters()
    assert rules.Filters().link("/decisions") == "/decisions"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": ["due", "soon"]}, "status"),
        ({"circle_id": ["not-an-id"]}, "circle_id"),
        ({"domain_id": ["42"]}, "domain_id"),
        ({"review_before": ["2027-13-01"]}, "review_before"),
        ({"review_after": ["yesterday"]}, "review_after"),
        ({"review_after": ["2027-02-01"], "review_before": ["2027-01-01"]}, "review_after"),
        ({"limit": ["0"]}, "limit"),
        ({"limit": ["101"]}, "limit"),
        ({"limit": ["ten"]}, "limit"),
        ({"q": ["x" * 201]}, "q"),
        ({"q": ["a", "b"]}, "q"),
        ({"subcircles": ["perhaps"], "circle_id": [str(uuid.uuid4())]}, "subcircles"),
        ({"subcircles": ["1"]}, "subcircles"),
        ({"cursor": ["garbage"]}, "cursor"),
    ],
)
def test_bad_filters_are_refused_with_the_field_named(params: dict[str, list[str]], field: str) -> None:
    with pytest.raises(Refusal) as refused:
        rules.parse_filters(params)
    assert refused.value.status == 422 and refused.value.field == field


def test_search_words_carry_no_query_syntax() -> None:
    terms = rules.search_terms('Freez* "OR" NEAR(a b) -x snake_case Über')
    assert terms == ["freez", "or", "near", "a", "b", "x", "snake", "case", "über"]
    assert rules.fts5_query(["freez", "or"]) == '"freez"* "or"*'
    assert rules.tsquery(["freez", "or"]) == "'freez':* & 'or':*"
    assert len(rules.search_terms(" ".join(["w"] * 50))) == rules.MAX_TERMS


def described(**changes: object) -> dict[str, object]:
    decision = {
        "id": str(uuid.uuid4()),
        "url": "/decisions/x",
        "title": "Bread, on Sundays; =1+1",
        "driver": "Waste\nevery week",
        "text": 'We collect — with a café\'s help, "quoted", on Fridays. ' * 4,
        "criteria": ["Less waste", "Everyone gets a share"],
        "evaluation": "Less waste\nEveryone gets a share",
        "circle": {"id": "c", "name": "Food Share"},
        "domain": {"id": "d", "name": "Food"},
        "decided_at": "2026-11-23T09:00:00+00:00",
        "review_by": "2027-05-23",
        "status": "active",
        "revision": 2,
        "proposal_id": "p",
        "supersedes": None,
        "superseded_by": None,
        "responses": [
            {"member": {"id": "m1", "name": "Ada"}, "kind": "consent"},
            {"member": {"id": "m2", "name": "Bo"}, "kind": "stand_aside"},
        ],
        "concerns": [{"member": "m3", "name": "Cy", "text": "The freezer is small"}],
        "objections": [
            {
                "id": "o1",
                "member": "m2",
                "name": "Bo",
                "text": "Closed in winter",
                "revision": 1,
                "status": "integrated",
                "integrated_by": 2,
            }
        ],
        "revisions": [{"number": 1, "text": "old"}, {"number": 2, "text": "new"}],
        "reviews": [],
        "action_items": [],
    }
    return decision | changes


def asked(what: str, state: str, due_on: str | None, **more: object) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "what": what,
        "owner": {"id": "m2", "name": "Bo"},
        "due_on": due_on,
        "state": state,
        "overdue": False,
        **more,
    }


ITEMS = [
    asked("Ask the baker", "accepted", "2026-12-10", overdue=True),
    asked("Find crates", "proposed", None),
    asked("Sweep", "done", "2026-12-01", note="Swept."),
    asked("Paint", "declined", "2026-12-02"),
]


def test_open_items_with_a_due_date_are_all_day_events_in_the_calendar() -> None:
    ics = rules.render_ics(
        [described(status="superseded", action_items=ITEMS)],
        "https://consent.example",
        datetime(2026, 11, 23, 9, tzinfo=UTC),
        "consent.example",
    )
    [event] = icalendar.Calendar.from_ical(ics).walk("VEVENT")  # the decision is not in force: no review
    assert event.decoded("DTSTART") == date(2026, 12, 10) and event.decoded("DTEND") == date(2026, 12, 11)
    assert str(event["SUMMARY"]) == "Due: Ask the baker (Bo, Food Share)"
    assert str(event["URL"]) == f"https://consent.example/decisions/x#item-{ITEMS[0]['id']}"
    assert str(event["UID"]) == f"action-item-{ITEMS[0]['id']}@consent.example"


def test_exports_list_each_item_and_how_it_stands() -> None:
    [row] = list(csv.DictReader(io.StringIO("".join(rules.render_csv([described(action_items=ITEMS)])))))
    assert row["action_items"].split("\n") == [
        "Ask the baker (Bo, by 2026-12-10; accepted, overdue)",
        "Find crates (Bo; asked, not answered yet)",
        "Sweep (Bo, by 2026-12-01; done: Swept.)",
        "Paint (Bo, by 2026-12-02; declined)",
    ]
    minutes = rules.render_markdown(described(action_items=ITEMS), "https://consent.example")
    assert "## Action items\n\n- Ask the baker (Bo, by 2026-12-10; accepted, overdue)\n- Find crates" in minutes


def test_the_calendar_has_one_event_per_review_date_of_a_decision_in_force() -> None:
    decisions = [
        described(),
        described(review_by="2026-12-01", status="due"),
        described(status="retired"),
        described(status="superseded"),
    ]
    ics = rules.render_ics(
        decisions, "https://consent.example", datetime(2026, 11, 23, 9, tzinfo=UTC), "consent.example"
    )
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n"))
    events = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    assert sorted(e.decoded("DTSTART") for e in events) == [date(2026, 12, 1), date(2027, 5, 23)]
    assert str(events[0]["SUMMARY"]) == "Review: Bread, on Sundays; =1+1 (Food Share)"
    assert str(events[0]["DESCRIPTION"]).startswith(decisions[0]["text"])  # folded and escaped, then read back whole
    assert str(events[0]["URL"]) == "https://consent.example/decisions/x"


def test_csv_keeps_every_character_and_never_starts_a_formula() -> None:
    decision = described()
    formula = described(title='=HYPERLINK("https://evil.example")', driver="-2")
    rows = list(csv.DictReader(io.StringIO("".join(rules.render_csv([decision, formula])))))
    assert rows[0]["title"] == decision["title"]  # "=1+1" inside a cell is only text
    assert (rows[1]["title"], rows[1]["driver"]) == ("'" + formula["title"], "'-2")  # a spreadsheet would run these
    assert (rows[0]["text"], rows[0]["driver"]) == (decision["text"], decision["driver"])
    assert rows[0]["consented"] == "Ada"  # Bo stood aside: not consent
    assert rows[0]["objections"] == "Bo: Closed in winter (integrated by revision 2)"
    assert rows[0]["concerns"] == "Cy: The freezer is small"
    assert rows[0]["evaluation"] == "Less waste\nEveryone gets a share"  # the criteria, one a line


def test_minutes_name_the_objection_and_how_it_was_integrated() -> None:
    review = {
        "at": "2027-05-20T10:00:00+00:00",
        "by": {"id": "m1", "name": "Ada"},
        "outcome": "reaffirm",
        "state": "consented",
        "review_by": "2027-11-20",
        "text": "It works.",
        "assessments": [{"criterion": "Less waste", "assessment": "A crate a week, not three."}],
    }
    minutes = rules.render_markdown(described(reviews=[review]), "https://consent.example")
    assert "- Bo (on revision 1): Closed in winter **integrated by revision 2**" in minutes
    assert "## How we will know it works\n\n- Less waste\n- Everyone gets a share\n" in minutes
    assert (
        "- 2027-05-20, Ada: reaffirm, consented (next review 2027-11-20): It works.\n"
        "  - Less waste: A crate a week, not three.\n"
    ) in minutes
    assert "good enough for now and safe enough to try" in minutes
    assert "- Bo: stood aside" in minutes and "### Revision 2\n\nnew" in minutes
