"""The decision log's pages, which work without JavaScript: the log with its filters kept in
the URL, a decision's permanent page with its whole record, reviews by form, the calendar link,
and the "due for review" lists of the home and circle pages."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from circles import rules as circle_rules
from circles import services as circles
from circles.models import Circle, Domain, Membership
from consent.base.clock import Clock, today
from consent.base.errors import Refusal
from consent.base.i18n import N_, ngettext
from consent.base.i18n import gettext as _
from consent.base.labels import DEADLINE_OUTCOMES, EVENT_WORDS, MODE_CHANGES, PHASE_NAMES, RESPONSE_WORDS
from consent.base.times import read_typed
from consent.base.web import Form, Page, viewer_zone
from consent.decisions import rules, services
from consent.decisions.controllers import feed_link
from consent.decisions.schemas import parse_review
from rounds import item_services
from rounds import services as rounds
from rounds.diff import word_diff

REFUSALS = Refusal  # what a page shows back instead of failing


class ReviewForm(msgspec.Struct):
    """The decision page's one review form. `why` is the review's text, or for an amendment its
    driver; `text` the amended text. A criterion and its assessment come in pairs, in order
    (a form sends a repeated field once when there is one)."""

    outcome: str = ""
    review_by: str = ""
    why: str = ""
    text: str = ""
    mode: str = "live"
    closes_at: str = ""
    criterion: list[str] | str = []
    assessment: list[str] | str = []

    def body(self, zone: ZoneInfo) -> dict[str, Any]:
        """The review as the API takes it; blank fields are absent. The deadline is typed in
        the viewer's `zone`, without the seconds the API's times have."""
        pairs = zip(_listed(self.criterion), _listed(self.assessment), strict=False)
        amend = self.outcome == "amend"
        closes_at = read_typed(self.closes_at, zone)
        fields = {
            "outcome": self.outcome,
            "review_by": self.review_by,
            "text": self.text if amend else self.why,
            "driver": self.why if amend else "",
            "mode": self.mode,
            "closes_at": closes_at.isoformat() if closes_at else "",
        }
        return {k: v for k, v in fields.items() if v.strip()} | {
            "assessments": [{"criterion": c, "assessment": a} for c, a in pairs]
        }


def _listed(value: list[str] | str) -> list[str]:
    return [value] if isinstance(value, str) else value


class AgreementForm(msgspec.Struct):
    agreement: str = ""  # "1": mark as a standing agreement; empty: unmark


class ItemForm(msgspec.Struct):
    note: str = ""  # marking an item done: what was done


ITEM_STEPS_SAID = {
    "accept": N_("You accepted it: it is on your list until it is done."),
    "decline": N_("You declined it; the circle sees that it is not taken on."),
    "done": N_("Marked done."),
}


class FeedForm(msgspec.Struct):
    """Which review dates the calendar link gives: every decision the person may see, or one
    circle's (with its sub-circles), as chosen by its own form: never the log's search."""

    circle_id: str = ""
    subcircles: str = ""  # "1": the circle's sub-circles too


def happened(event: dict[str, Any]) -> tuple[str, str]:
    """One step of the consent process, for the decision's timeline: (who, what they did)."""
    who = event["actor"]["name"] if event["actor"] and event["type"] not in ("decided", "deadline_passed") else ""
    return who, _what(event)


def _what(event: dict[str, Any]) -> str:
    data, kind = event["data"], event["type"]
    if kind == "phase_changed":
        return _("moved the proposal to {phase}").format(phase=PHASE_NAMES.get(data["to"], data["to"]).lower())
    if kind == "responded":
        said = RESPONSE_WORDS.get(data.get("kind", ""), _("responded"))
        said = _("{said} (revision {revision})").format(said=said, revision=data["revision"])
        return said + (f": {data['text']}" if data.get("text") else "")
    if kind == "amended":
        if data.get("author_agreed"):
            return _("amended the proposal, with its author's agreement: revision {revision}").format(
                revision=data["revision"]
            )
        return _("amended the proposal: revision {revision}").format(revision=data["revision"])
    if kind == "decided":
        return _("Consent reached on revision {revision}: decided.").format(revision=data["revision"])
    if kind == "mode_changed":
        why = f": {data['reason']}" if data.get("reason") else ""
        return f"{MODE_CHANGES[data['to']]}{why}"
    if kind == "member_left":  # the actor is who left, or the steward who removed them
        lapsed = len(data.get("lapsed", []))
        words = EVENT_WORDS["member_removed" if data.get("recorded_by") else kind]
        if not lapsed:
            return words
        return (
            words
            + " "
            + ngettext("({n} open objection lapsed)", "({n} open objections lapsed)", lapsed).format(n=lapsed)
        )
    if kind == "deadline_passed":
        outcome = data.get("outcome", "")
        return _("The deadline passed: {outcome}").format(outcome=DEADLINE_OUTCOMES.get(outcome, outcome))
    words = EVENT_WORDS.get(kind, kind.replace("_", " "))
    return f"{words}: {data['text']}" if data.get("text") else words


async def _filter_choices(db: AsyncSession, account_id: uuid.UUID) -> dict[str, Any]:
    visible = await services.visible_circles(db, account_id)
    circles = sorted(visible.values(), key=lambda c: c.name)
    domains = list(await db.scalars(select(Domain).where(Domain.circle_id.in_(list(visible)))))
    names = {c.id: c.name for c in circles}
    return {
        "circles": circles,
        "domains": sorted(domains, key=lambda d: (names[d.circle_id], d.name)),
        "circle_names": names,
    }


async def log_page(
    request: Request[Any, Any, Any], db: AsyncSession, page: Page, status_code: int = 200, **context: Any
) -> Template:
    """The log: the search form, a page of decisions and the link to the next. Bad filters are
    shown with the form as typed, and nothing found."""
    params = request.query_params.dict()
    try:
        filters = rules.parse_filters(params)
        found = await services.search(db, request.user.id, filters, today(page.clock))
        items = await services.describe_many(db, found.decisions, found.visible, today(page.clock))
        error, next_cursor = None, found.next_cursor
    except REFUSALS as refusal:
        filters, items, error, next_cursor, status_code = rules.Filters(), [], str(refusal), None, refusal.status
    return await page(
        request,
        db,
        "consent/decisions/log.html",
        status_code=status_code,
        filters=filters,
        items=items,
        raw={name: values[0] if values else "" for name, values in params.items()},
        statuses=params.get("status", []),
        error=error,
        **await _filter_choices(db, request.user.id),
        next_link=filters.link("/decisions", next_cursor) if next_cursor else None,
        has_feed=await services.has_feed(db, request.user.id),
        all_statuses=rules.STATUSES,
        **context,
    )


async def decision_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    page: Page,
    decision_id: uuid.UUID,
    status_code: int = 200,
    **context: Any,
) -> Template:
    decision = await services.visible_decision(db, decision_id, request.user.id)
    d = await services.describe(db, decision, request.user.id, today(page.clock))
    revisions = d["revisions"]
    diffs = [word_diff(revisions[i - 1]["text"], r["text"]) if i else None for i, r in enumerate(revisions)]
    visible = await services.visible_circles(db, request.user.id)
    chain = await services.chain(db, decision, visible)
    member = await circles.roles_in(db, decision.circle_id, request.user.id) is not None
    form = context.pop("form", {})
    # What was typed into the review form, after a refusal: each criterion's assessment.
    typed = dict(zip(_listed(form.get("criterion", [])), _listed(form.get("assessment", [])), strict=False))
    powers = await circles.powers_in(db, decision.circle_id, request.user.id, today(page.clock))
    steward = circle_rules.may_change(powers or set())
    members = set(await db.scalars(select(Membership.account_id).where(Membership.circle_id == decision.circle_id)))
    # A steward marks done the open item of someone who has left the circle.
    closable = {i["id"] for i in d["action_items"] if steward and uuid.UUID(i["owner"]["id"]) not in members}
    return await page(
        request,
        db,
        "consent/decisions/decision.html",
        status_code=status_code,
        circle_zone=await circles.time_zone_of(db, decision.circle_id),
        d=d,
        member=member,
        steward=steward,
        closable=closable,
        viewer_id=str(request.user.id),
        revisions=list(zip(revisions, diffs)),
        chain=chain,
        happened=happened,
        responses=RESPONSE_WORDS,
        integration=rules.integration,
        open_change=await rounds.open_change(db, decision.id),
        form=form,
        typed=typed,
        **context,
    )


def reviews_section(clock_: Clock) -> Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[dict[str, Any]]]:
    """The circle page's section of decisions due for review (circles knows nothing of decisions)."""

    async def section(db: AsyncSession, circle_id: uuid.UUID, account_id: uuid.UUID) -> dict[str, Any]:
        overdue, due = await services.due_for_review(db, account_id, clock_().date(), circle_id)
        return {
            "template": "consent/decisions/circle_reviews.html",
            "overdue": overdue,
            "due": due,
            "log_link": rules.Filters(circle_id=circle_id).link("/decisions"),
        }

    return section


async def agreements_section(db: AsyncSession, circle_id: uuid.UUID) -> dict[str, Any]:
    """What someone invited to a circle reads before accepting: its standing agreements
    (circles knows nothing of decisions)."""
    circle = await db.get_one(Circle, circle_id)
    return {
        "template": "consent/decisions/agreements.html",
        "circle_name": circle.name,
        "agreements": await services.agreements(db, circle_id),
    }


class DecisionPages(Controller):
    include_in_schema = False

    @get("/decisions")
    async def index(self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page) -> Template | Redirect:
        """A search sent by the form carries every field, empty or not: the empty ones are
        dropped from the URL, so that it stays short enough to share."""
        # As the form sent them, in its order (a list: Litestar's multi_items() is a one-pass
        # iterator, in no fixed order, which lost the search behind the first empty field).
        pairs = parse_qsl(request.url.query, keep_blank_values=True)
        if any(not value.strip() for _, value in pairs):
            kept = [(name, value) for name, value in pairs if value.strip()]
            return Redirect(f"/decisions?{urlencode(kept)}" if kept else "/decisions")
        return await log_page(request, db_session, page)

    @get("/decisions/{decision_id:uuid}")
    async def show(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page, decision_id: uuid.UUID
    ) -> Template:
        return await decision_page(request, db_session, page, decision_id)

    @post("/decisions/{decision_id:uuid}/reviews")
    async def review(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        decision_id: uuid.UUID,
        data: Annotated[ReviewForm, Form],
    ) -> Template | Redirect:
        try:
            decision = await services.visible_decision(db_session, decision_id, request.user.id)
            zone = viewer_zone(request, await circles.time_zone_of(db_session, decision.circle_id))
            opened = await services.review(
                db_session, request.user.id, decision_id, parse_review(data.body(zone)).opening(), page.clock()
            )
        except REFUSALS as refusal:
            await db_session.rollback()
            return await decision_page(
                request,
                db_session,
                page,
                decision_id,
                status_code=refusal.status,
                error=str(refusal),
                form=msgspec.structs.asdict(data),
            )
        await db_session.commit()
        flash(
            request,
            _("The review is open: it runs as a proposal, and changes the decision only when the circle consents."),
            category="success",
        )
        return Redirect(f"/proposals/{opened.proposal_id}")

    @post("/decisions/{decision_id:uuid}/agreement")
    async def agreement(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        decision_id: uuid.UUID,
        data: Annotated[AgreementForm, Form],
    ) -> Template | Redirect:
        marked = bool(data.agreement)
        try:
            await services.set_agreement(db_session, request.user.id, decision_id, marked, today(page.clock))
        except REFUSALS as refusal:
            await db_session.rollback()
            return await decision_page(
                request, db_session, page, decision_id, status_code=refusal.status, error=str(refusal)
            )
        flash(
            request,
            _("It is a standing agreement: whoever is invited to the circle reads it before joining.")
            if marked
            else _("It is no longer shown as a standing agreement."),
            category="success",
        )
        return Redirect(f"/decisions/{decision_id}")

    async def _item_step(
        self, request: Request[Any, Any, Any], db: AsyncSession, page: Page, item_id: uuid.UUID, name: str, note: str
    ) -> Template | Redirect:
        """A step of an action item, from its decision's page; a refusal shows that page again."""
        try:
            item = await item_services.take_step(db, request.user.id, item_id, name, note, page.clock())
        except REFUSALS as refusal:
            await db.rollback()
            decision_id = await item_services.decision_of(db, item_id)
            if refusal.status == 404 or decision_id is None:
                raise
            return await decision_page(request, db, page, decision_id, status_code=refusal.status, error=str(refusal))
        flash(request, _(ITEM_STEPS_SAID[name]), category="success")
        return Redirect(f"/decisions/{item['decision']['id']}#item-{item['id']}")

    @post("/action-items/{item_id:uuid}/accept")
    async def accept_item(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page, item_id: uuid.UUID
    ) -> Template | Redirect:
        return await self._item_step(request, db_session, page, item_id, "accept", "")

    @post("/action-items/{item_id:uuid}/decline")
    async def decline_item(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page, item_id: uuid.UUID
    ) -> Template | Redirect:
        return await self._item_step(request, db_session, page, item_id, "decline", "")

    @post("/action-items/{item_id:uuid}/done")
    async def item_done(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        item_id: uuid.UUID,
        data: Annotated[ItemForm, Form],
    ) -> Template | Redirect:
        return await self._item_step(request, db_session, page, item_id, "done", data.note)

    @post("/decisions/feed")
    async def new_feed(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        site: str,
        data: Annotated[FeedForm, Form],
    ) -> Template:
        """Shows the new link once: only its fingerprint is kept."""
        chosen = {"circle_id": [data.circle_id], "subcircles": [data.subcircles] if data.circle_id else []}
        filters = rules.parse_filters(chosen)
        token = await services.new_feed(db_session, request.user.id)
        await db_session.commit()
        return await log_page(request, db_session, page, feed_url=feed_link(site, token, filters), feed_filters=filters)

    @post("/decisions/feed/revoke")
    async def revoke_feed(self, request: Request[Any, Any, Any], db_session: AsyncSession) -> Redirect:
        await services.revoke_feed(db_session, request.user.id)
        flash(request, _("Your calendar link was revoked; calendars using it get nothing more."), category="success")
        return Redirect("/decisions")
