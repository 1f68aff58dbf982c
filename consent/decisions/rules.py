"""The decision log's pure rules: a decision's status on a given day, the filters of a search
(parsed from a query string and written back into one), the cursor, and the exports' formats
(CSV, iCalendar, Markdown minutes). No I/O here, but for reading the minutes' template once."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal, get_args
from urllib.parse import urlencode

import templates
from consent.base import i18n
from consent.base.errors import bad_field
from consent.base.forms import parse_date, parse_uuid
from consent.base.i18n import gettext as _
from consent.base.labels import ITEM_STATES, OBJECTION_WORDS, RESPONSE_WORDS
from consent.base.text import MAX_TEXT, MAX_TITLE, clean_text
from consent.base.times import as_moment, choose_zone
from rounds.item_rules import OPEN as OPEN_ITEMS
from rounds.machine import AGREEING

DUE_DAYS = 30  # "due soon": the review date is within this many days
Status = Literal["active", "due", "overdue", "retired", "superseded"]
STATUSES: tuple[Status, ...] = get_args(Status)
IN_FORCE = ("active", "due", "overdue")  # stored as "active"; the review date tells which
Outcome = Literal["reaffirm", "retire", "amend"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
# open until its proposal closes; "recorded": at once by one member, before reviews went by consent
ReviewState = Literal["open", "consented", "not_adopted", "withdrawn", "recorded"]
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
MAX_QUERY, MAX_TERMS = 200, 10
TRUE, FALSE = ("1", "true", "on", "yes"), ("0", "false", "off", "no")


def assessed(criteria: Sequence[str], given: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """A review's assessments, as `(criterion, assessment)` pairs: exactly one of each of the
    decision's criteria, which the review assesses, in the decision's order."""
    found: dict[str, str] = {}
    for criterion, assessment in given:
        criterion = criterion.strip()
        if criterion not in criteria:
            raise bad_field(
                "assessments",
                _("{{Field}}: {criterion} is not a criterion of this decision.").format(criterion=repr(criterion[:80])),
            )
        if criterion in found:
            raise bad_field(
                "assessments", _("{{Field}}: {criterion} is assessed twice.").format(criterion=repr(criterion[:80]))
            )
        found[criterion] = clean_text(assessment, "assessments", MAX_TEXT)
    for criterion in criteria:
        if not found.get(criterion):
            raise bad_field(
                "assessments",
                _("{{Field}}: assess each criterion of the decision; {criterion} has no assessment.").format(
                    criterion=repr(criterion[:80])
                ),
            )
    return [{"criterion": criterion, "assessment": found[criterion]} for criterion in criteria]


def review_proposal(outcome: str, title: str, driver: str, review_by: date) -> tuple[str, str, str]:
    """The title, driver and text of a review's proposal where its opener gives none: an
    amendment keeps the decision's title and driver (and has a text of its own); a review to
    reaffirm or retire the decision says so."""
    if outcome == "amend":
        return title, driver, ""
    return (
        _("Review: {title}").format(title=title)[:MAX_TITLE],
        _("Its review date is {date}: is it still good enough for now, and safe enough to try?").format(
            date=review_by.isoformat()
        ),
        {
            "reaffirm": _("We keep the decision as it stands."),
            "retire": _("We retire the decision: it no longer applies."),
        }[outcome],
    )


def status_of(stored: str, review_by: date, today: date) -> str:
    """active, due (review within DUE_DAYS days), overdue (review date passed), retired, superseded."""
    if stored != "active":
        return stored
    if review_by < today:
        return "overdue"
    return "due" if review_by <= today + timedelta(days=DUE_DAYS) else "active"


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: the log is ordered by (decided_at, id), newest first."""

    decided_at: datetime
    id: uuid.UUID


def encode_cursor(cursor: Cursor) -> str:
    return base64.urlsafe_b64encode(f"{cursor.decided_at.isoformat()}|{cursor.id}".encode()).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    try:
        at, _bar, ident = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().partition("|")
        decided_at = datetime.fromisoformat(at)
        if decided_at.tzinfo is None:
            raise ValueError("naive time")
        return Cursor(decided_at, uuid.UUID(ident))
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise bad_field("cursor", _("{Field} is not one this log gave out; start again from the first page.")) from exc


def search_terms(q: str) -> list[str]:
    """The words of a search, lower-cased; punctuation separates words (so no query syntax)."""
    return re.findall(r"[^\W_]+", q.lower())[:MAX_TERMS]


def fts5_query(terms: Sequence[str]) -> str:
    """Every word must appear, each as a prefix ("freez" finds "freezer")."""
    return " ".join(f'"{term}"*' for term in terms)


def tsquery(terms: Sequence[str]) -> str:
    return " & ".join(f"'{term}':*" for term in terms)


@dataclass(frozen=True)
class Filters:
    circle_id: uuid.UUID | None = None
    subcircles: bool = False  # with circle_id: the circle's sub-circles too, all the way down
    domain_id: uuid.UUID | None = None
    statuses: tuple[str, ...] = ()  # any of them; none: every status
    review_after: date | None = None  # review_after <= review_by <= review_before
    review_before: date | None = None
    q: str = ""
    limit: int = DEFAULT_LIMIT
    cursor: Cursor | None = field(default=None, compare=False)

    @property
    def terms(self) -> list[str]:
        return search_terms(self.q)

    def params(self) -> list[tuple[str, str]]:
        """The filters as query parameters, to keep a search in a URL (no cursor, no default limit)."""
        pairs = [
            ("q", self.q),
            ("circle_id", str(self.circle_id or "")),
            ("subcircles", "1" if self.subcircles else ""),
            ("domain_id", str(self.domain_id or "")),
            *(("status", s) for s in self.statuses),
            ("review_after", self.review_after.isoformat() if self.review_after else ""),
            ("review_before", self.review_before.isoformat() if self.review_before else ""),
            ("limit", str(self.limit) if self.limit != DEFAULT_LIMIT else ""),
        ]
        return [(name, value) for name, value in pairs if value]

    def link(self, path: str, cursor: str | None = None) -> str:
        params = self.params() + ([("cursor", cursor)] if cursor else [])
        return f"{path}?{urlencode(params)}" if params else path

    def first_page(self) -> Filters:
        return replace(self, cursor=None)


def _one(params: Mapping[str, Sequence[str]], name: str) -> str:
    values = [v.strip() for v in params.get(name, []) if v.strip()]
    if len(values) > 1:
        raise bad_field(name, _("{Field} may be given once."))
    return values[0] if values else ""


def _uuid(params: Mapping[str, Sequence[str]], name: str) -> uuid.UUID | None:
    return parse_uuid(_one(params, name), name)


def parse_filters(params: Mapping[str, Sequence[str]]) -> Filters:
    """The filters of a query string ({name: [values]}); empty values count as absent, since a
    form sends every field. Anything wrong is refused with the field named."""
    statuses = tuple(dict.fromkeys(v.strip() for v in params.get("status", []) if v.strip()))
    if unknown := [s for s in statuses if s not in STATUSES]:
        raise bad_field(
            "status",
            _("{{Field}} must be one of {statuses}, not {status}.").format(
                statuses=", ".join(STATUSES), status=repr(unknown[0])
            ),
        )
    subcircles = _one(params, "subcircles").lower()
    if subcircles not in (*TRUE, *FALSE, ""):
        raise bad_field("subcircles", _("{Field} must be true or false."))
    limit = _one(params, "limit") or str(DEFAULT_LIMIT)
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
        raise bad_field(
            "limit", _("{{Field}} must be a whole number from 1 to {MAX_LIMIT}.").format(MAX_LIMIT=MAX_LIMIT)
        )
    q = clean_text(_one(params, "q"), "q", MAX_QUERY)
    review_after = parse_date(_one(params, "review_after"), "review_after")
    review_before = parse_date(_one(params, "review_before"), "review_before")
    if review_after and review_before and review_after > review_before:
        raise bad_field("review_after", _("{Field} must be on or before the latest review date."))
    circle_id = _uuid(params, "circle_id")
    if subcircles in TRUE and circle_id is None:
        raise bad_field("subcircles", _("{Field}: choose a circle first."))
    cursor = _one(params, "cursor")
    return Filters(
        circle_id=circle_id,
        subcircles=subcircles in TRUE,
        domain_id=_uuid(params, "domain_id"),
        statuses=statuses,
        review_after=review_after,
        review_before=review_before,
        q=q,
        limit=int(limit),
        cursor=decode_cursor(cursor) if cursor else None,
    )


# Exports. Each takes decisions as the API describes them (services.describe).

CSV_FIELDS = (
    "id",
    "title",
    "circle",
    "domain",
    "status",
    "decided_at",
    "review_by",
    "driver",
    "text",
    "evaluation",
    "consented",
    "concerns",
    "objections",
    "supersedes",
    "superseded_by",
    "proposal_id",
    "url",
    "action_items",  # last: the columns before it kept their places when it came
)


def consented(decision: Mapping[str, Any]) -> list[str]:
    """The names of those whose final response was consent (with or without a concern)."""
    return [r["member"]["name"] for r in decision["responses"] if r["kind"] in AGREEING]


def integration(objection: Mapping[str, Any]) -> str:
    """How an objection was dealt with, in words."""
    if objection["status"] == "integrated":
        return _("integrated by revision {revision}").format(revision=objection["integrated_by"])
    words = OBJECTION_WORDS.get(objection["status"], objection["status"])
    if objection.get("test") == "kept":
        return _("tested against the circle's aim and domain and kept; {words}").format(words=words)
    return words


def csv_row(decision: Mapping[str, Any]) -> dict[str, str]:
    return {
        **{
            name: decision[name] or ""
            for name in (
                "id",
                "title",
                "status",
                "decided_at",
                "review_by",
                "driver",
                "text",
                "supersedes",
                "superseded_by",
                "proposal_id",
                "url",
            )
        },
        "evaluation": "\n".join(decision["criteria"]),
        "circle": decision["circle"]["name"],
        "domain": decision["domain"]["name"],
        "consented": "; ".join(consented(decision)),
        "concerns": "\n".join(f"{c['name']}: {c['text']}" for c in decision["concerns"]),
        "objections": "\n".join(f"{o['name']}: {o['text']} ({integration(o)})" for o in decision["objections"]),
        "action_items": "\n".join(item_line(i) for i in decision["action_items"]),
    }


def item_line(item: Mapping[str, Any]) -> str:
    """An action item on one line, as the exports give it: what, who, by when, how it stands."""
    due = ", " + _("by {date}").format(date=item["due_on"]) if item["due_on"] else ""
    state = ITEM_STATES[item["state"]] + (", " + _("overdue") if item["overdue"] else "")
    note = f": {item['note']}" if item.get("note") else ""
    return " ".join(f"{item['what']} ({item['owner']['name']}{due}; {state}{note})".split())


def _spreadsheet_safe(value: str) -> str:
    """A cell starting like a formula is kept as text, so a spreadsheet does not run it."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


_MARKDOWN = templates.markdown()
i18n.install(_MARKDOWN)  # the minutes in the reader's language
_MINUTES = _MARKDOWN.get_template("consent/decisions/minutes.md")


def render_csv(decisions: Iterable[Mapping[str, Any]]) -> Iterable[str]:
    """The CSV, a chunk at a time (header first), for streaming a large export."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for decision in decisions:
        writer.writerow({k: _spreadsheet_safe(v) for k, v in csv_row(decision).items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def render_ics(
    decisions: Iterable[Mapping[str, Any]],
    base_url: str,
    now: datetime,
    host: str,
    deadlines: Iterable[Mapping[str, Any]] = (),
    meetings: Iterable[Mapping[str, Any]] = (),
) -> str:
    """A calendar with one all-day event on the review date of each decision in force (a date,
    in no zone), one on the due date of each open action item, one at each deadline that
    waits for the reader, and one for each meeting of the reader's circles (cancelled: marked
    so, which calendar apps remove), each in its circle's time zone (TZID, with the zone's VTIMEZONE: calendar
    apps show it in their own). All-day events, not to-dos (VTODO): the calendar apps people
    subscribe with (Google, Outlook, Apple's) show no to-do from a subscription."""
    import icalendar  # here, not at start: only calendar feeds need it (docs/performance.md)

    decisions_ = list(decisions)  # read twice: reviews, then action items
    calendar = icalendar.Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", "-//consent//decision log//EN")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("consent: decision reviews"))
    for d in decisions_:
        if d["status"] not in IN_FORCE:
            continue
        day = date.fromisoformat(d["review_by"])
        url = base_url.rstrip("/") + d["url"]
        event = icalendar.Event()
        event.add("uid", f"decision-{d['id']}@{host}")
        event.add("dtstamp", now)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        # text stored before line breaks were made "\n" may hold a bare CR, which would end the line
        event.add(
            "summary",
            " ".join(_("Review: {title} ({circle})").format(title=d["title"], circle=d["circle"]["name"]).split()),
        )  # one line
        event.add("description", f"{d['text']}\n\n{url}".replace("\r", ""))
        event.add("url", url)
        calendar.add_component(event)
    for d in decisions_:
        for item in d["action_items"]:
            if item["state"] not in OPEN_ITEMS or not item["due_on"]:
                continue
            day = date.fromisoformat(item["due_on"])
            url = f"{base_url.rstrip('/')}{d['url']}#item-{item['id']}"
            event = icalendar.Event()
            event.add("uid", f"action-item-{item['id']}@{host}")
            event.add("dtstamp", now)
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
            summary = _("Due: {what} ({owner}, {circle})").format(
                what=item["what"], owner=item["owner"]["name"], circle=d["circle"]["name"]
            )
            event.add("summary", " ".join(summary.split()))
            asked = _("Asked by the decision {title}.").format(title=d["title"])
            event.add("description", f"{asked}\n\n{url}".replace("\r", ""))
            event.add("url", url)
            calendar.add_component(event)
    for w in deadlines:
        url = base_url.rstrip("/") + w["url"]
        event = icalendar.Event()
        event.add("uid", f"deadline-{w['id']}@{host}")
        event.add("dtstamp", now)
        event.add("dtstart", as_moment(w["closes_at"]).astimezone(choose_zone(w["time_zone"])))
        event.add(
            "summary",
            " ".join(_("Respond by: {title} ({circle})").format(title=w["title"], circle=w["circle"]).split()),
        )
        event.add("description", _("Your response is asked before this deadline.") + f"\n\n{url}")
        event.add("url", url)
        calendar.add_component(event)
    for m in meetings:
        url = base_url.rstrip("/") + m["url"]
        starts = as_moment(m["starts_at"]).astimezone(choose_zone(m["time_zone"]))
        event = icalendar.Event()
        event.add("uid", f"meeting-{m['id']}@{host}")  # the same event, moved or cancelled
        event.add("dtstamp", now)
        event.add("dtstart", starts)
        event.add("dtend", starts + timedelta(minutes=m["minutes_long"]))
        event.add("summary", " ".join(_("{circle}: meeting").format(circle=m["circle"]).split()))
        if m["place"]:
            event.add("location", " ".join(m["place"].split()))
        event.add("description", url)
        event.add("url", url)
        if m["cancelled"]:
            event.add("status", "CANCELLED")
        calendar.add_component(event)
    # the zones' rules for ten years: what calendar apps need to place the times
    calendar.add_missing_timezones(date(now.year - 1, 1, 1), date(now.year + 10, 1, 1))
    return calendar.to_ical().decode()


def render_markdown(d: Mapping[str, Any], base_url: str) -> str:
    """The minutes of one decision: what, why, who consented, the objections and how each was
    integrated, the revisions and the reviews."""
    return _MINUTES.render(
        d=d, base_url=base_url.rstrip("/"), words=RESPONSE_WORDS, integration=integration, item_line=item_line
    )
