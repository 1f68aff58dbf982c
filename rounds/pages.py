"""The proposal pages, which work without JavaScript: propose, follow the process, and take
each step the rules allow by a form."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from itertools import zip_longest
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from circles import services as circles
from circles.pages import circle_page
from consent.base.clock import Clock, today
from consent.base.errors import Refusal, bad_field
from consent.base.forms import parse_field, parse_lines
from consent.base.i18n import N_
from consent.base.i18n import gettext as _
from consent.base.labels import PHASE_NAMES
from consent.base.times import read_typed
from consent.base.web import Form, Page, viewer_zone
from rounds import actions, item_rules, item_services, machine, selection, services, views
from rounds.controllers import take
from rounds.meetings import services as meetings
from rounds.writer import ActionWriter


class ItemRows(msgspec.Struct):
    """The repeated group of fields that asks action items: row by row, what, who and by when (a
    form sends a repeated field once when there is one). `items` marks a form that has the
    group; `more`, its "Add another item" button: the form comes back with one more row."""

    item_what: list[str] | str = []
    item_owner: list[str] | str = []
    item_due: list[str] | str = []
    items: str = ""
    more: str = ""

    def _sent(self) -> list[dict[str, str]]:
        columns = (_listed(self.item_what), _listed(self.item_owner), _listed(self.item_due))
        return [{"what": w, "owner": o, "due": d} for w, o, d in zip_longest(*columns, fillvalue="")]

    def rows(self) -> list[dict[str, str]]:
        """The rows as typed, the empty ones left out."""
        return [row for row in self._sent() if any(value.strip() for value in row.values())]

    def shown_again(self) -> list[dict[str, str]]:
        """The rows of the form shown again: after "Add another item", every row as sent and one
        more; after a refusal, those typed and empty ones (`item_rows`)."""
        return [*self._sent(), dict(EMPTY_ROW)] if self.more else item_rows(self.rows())

    def action_items(self) -> list[item_rules.ItemIn]:
        items = []
        for index, row in enumerate(self.rows()):
            field = f"action_items[{index}]"
            owner = parse_field(row["owner"], uuid.UUID, f"{field}.owner_id", N_("a member of the circle"))
            if owner is None:
                raise bad_field(f"{field}.owner_id", _("{Field}: choose the member asked to do it."))
            due_on = parse_field(row["due"], date.fromisoformat, f"{field}.due_on", N_("a date like 2027-06-30"))
            items.append(item_rules.ItemIn(what=row["what"], owner_id=owner, due_on=due_on))
        return items


def _listed(value: list[str] | str) -> list[str]:
    return [value] if isinstance(value, str) else value


ITEM_FIELDS = ItemRows.__struct_fields__
EMPTY_ROWS = 3  # a form that asks items shows at least this many rows


EMPTY_ROW = {"what": "", "owner": "", "due": ""}


def item_rows(given: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows a form shows: those given, then empty ones, up to EMPTY_ROWS and at least one."""
    return given + [dict(EMPTY_ROW) for _ in range(max(1, EMPTY_ROWS - len(given)))]


def rows_of(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    """A proposal's items as the rows of its amendment form."""
    return [{"what": i["what"], "owner": i["owner"]["id"], "due": i["due_on"] or ""} for i in items]


class ProposalForm(ItemRows):
    title: str = ""
    driver: str = ""
    text: str = ""
    domain_id: str = ""
    mode: str = "async"
    closes_at: str = ""
    review_by: str = ""
    criteria: str = ""  # one a line
    agreement: str = ""


class ActionForm(ItemRows):
    type: str = ""
    client_id: str = ""
    text: str = ""
    reason: str = ""
    driver: str = ""
    question_id: str = ""
    objection_id: str = ""
    on_behalf_of: str = ""
    member_id: str = ""
    to: str = ""
    review_by: str = ""
    criteria: str | None = None  # one a line; only the amendment form has the field, and empty clears them
    mode: str = ""
    closes_at: str = ""  # a datetime-local field: read in the viewer's zone (consent.base.times)
    author_agreed: str = ""  # the facilitator's amendment: a box ticked when the author agrees
    candidate_id: str = ""  # a selection's nomination, proposal or amendment
    term_ends_on: str = ""  # a selection's amendment


class SelectionForm(msgspec.Struct):
    role: str = ""
    description: str = ""
    term_ends_on: str = ""
    mode: str = "async"
    closes_at: str = ""


async def open_proposals_section(db: AsyncSession, circle_id: uuid.UUID, viewer_id: uuid.UUID) -> dict[str, Any]:
    """The circle page's list of open proposals (circles knows nothing of proposals)."""
    return {
        "template": "rounds/circle_proposals.html",
        "proposals": await services.open_proposals(db, circle_id),
    }


def action_items_section(clock_: Clock) -> Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[dict[str, Any]]]:
    """The circle page's open action items, overdue first (circles knows nothing of decisions)."""

    async def section(db: AsyncSession, circle_id: uuid.UUID, viewer_id: uuid.UUID) -> dict[str, Any]:
        return {
            "template": "rounds/circle_items.html",
            "items": await item_services.of_circle(db, circle_id, clock_().date()),
        }

    return section


async def refused_on_circle_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    page: Page,
    circle_id: uuid.UUID,
    refusal: Refusal,
    prefix: str,
    data: msgspec.Struct,
) -> Template:
    """A refused form of the circle page: nothing kept, the page again with why and the form
    as typed (its fields named `<prefix>_<field>`, as the section's template reads them)."""
    await db.rollback()
    form = {f"{prefix}_{k}": v for k, v in msgspec.structs.asdict(data).items()}
    return await circle_page(request, db, page, circle_id, status_code=refusal.status, error=str(refusal), form=form)


async def _now_context(
    request: Request[Any, Any, Any], db: AsyncSession, page: Page, proposal: Any, history: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """What the "what you can do now" part needs, for this viewer: with the whole page (given
    the event `history`), or alone (the live page asks for it when an event changed what this
    viewer may do; then only the questions still open are read)."""
    whole = history is not None
    day = today(page.clock)
    state = await services.state_of(db, proposal, day)
    # the whole page describes it all; its "now" part alone needs only a summary
    described = (
        await services.describe(db, proposal, day, responses=False, state=state)
        if whole
        else (await services.summary(db, proposal, state))[0]
    )
    viewer, turn = request.user.id, state.whose_turn
    zone = viewer_zone(request, await circles.time_zone_of(db, proposal.circle_id))
    facilitating = viewer in state.movers and state.phase in machine.OPEN_PHASES
    live_turns = facilitating and state.mode == "live"
    # the facilitator records responses for someone in the room without a device
    for_turn = (
        machine.available(state, turn) & machine.TURN_ACTIONS if live_turns and turn and turn != viewer else set()
    )
    available = machine.available(state, viewer)
    # a selection names members: as nominees, its candidate, or another candidate
    choosing = proposal.kind == selection.SELECTION and state.phase in {
        selection.NOMINATING,
        selection.CHANGING,
        machine.INTEGRATING,
    }
    members = await services.names_of(db, set(state.members)) if live_turns or choosing else {}
    mine = state.nominations.get(viewer)
    if history is None:
        questions = ("question_asked", "question_answered")
        history = await services.events_of(db, proposal.id, questions) if "answer" in available else []
    answered = {e["data"]["question_id"] for e in history if e["type"] == "question_answered"}
    return {
        "proposal": described,
        "available": available,
        "viewer_id": str(viewer),
        "facilitating": facilitating,
        "you_present": state.mode == "live" and viewer in state.participants and state.phase in machine.OPEN_PHASES,
        "round_complete": state.round_complete,
        "consented": state.consented(),
        "for_turn": for_turn,
        # a review may skip the clarifying and reaction rounds
        "skip_to_consent": state.phase == machine.CLARIFYING
        and machine.allows(state, viewer, actions.Advance(client_id="available", to="consenting")),
        "absent_members": [
            (str(m), name)
            for m, name in sorted(members.items(), key=lambda item: item[1])
            if m not in state.participants
        ],
        "open_questions": [
            e for e in history if e["type"] == "question_asked" and e["data"]["question_id"] not in answered
        ],
        "async_days": await services.async_days_of(db, proposal.circle_id),
        # the amendment form's action items, and whom they may be asked of
        **(
            {
                "circle_members": sorted(
                    ((str(m), name) for m, name in (await services.names_of(db, set(state.members))).items()),
                    key=lambda member: member[1],
                ),
                "amend_rows": item_rows(rows_of(await item_services.of_proposal(db, proposal.id, day))),
            }
            if "amend" in available
            else {}
        ),
        "candidates": sorted(((str(m), name) for m, name in members.items()), key=lambda item: item[1])
        if choosing
        else [],
        # async, your own nomination is yours to see before the others are heard
        "my_nomination": {
            "candidate_id": str(mine.candidate),
            "candidate": (await services.names_of(db, {mine.candidate})).get(mine.candidate, ""),
            "reason": mine.reason,
        }
        if mine
        else None,
        "client_id": uuid.uuid4().hex,
        "zone": zone,  # its times, and the deadlines typed in its forms
        # the meeting this is the item under way of: where everyone goes back to, after it
        "meeting_id": await meetings.taking_up(db, proposal.id) if state.mode == "live" else None,
    }


async def proposal_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    page: Page,
    proposal_id: uuid.UUID,
    status_code: int = 200,
    **context: Any,
) -> Template:
    proposal = await services.visible_proposal(db, proposal_id, request.user.id)
    # the event log, read once: the rounds, the mode's history and the questions still open
    history = await services.as_json(db, await services.events_since(db, proposal, 0, limit=100_000))
    now = await _now_context(request, db, page, proposal, history)
    described = now["proposal"]
    names = {p["id"]: p["name"] for p in described["participants"]}
    reviewed = described["review"]["decision"]["id"] if described["review"] else None
    reviewed_items = (
        (await item_services.of_decisions(db, [uuid.UUID(reviewed)], today(page.clock)))[uuid.UUID(reviewed)]
        if reviewed
        else []
    )
    names.update({o["member"]["id"]: o["member"]["name"] for o in described["objections"]})
    form = context.pop("form", {})
    if form.get("type") == "amend":  # a refused amendment, or one more row: the items as typed
        typed = ItemRows(**{k: v for k, v in form.items() if k in ITEM_FIELDS})
        now["amend_rows"] = typed.shown_again()
    for nomination in described["selection"]["nominations"] if described["selection"] else []:
        names.update({person["id"]: person["name"] for person in (nomination["member"], nomination["candidate"])})
    return await page(
        request,
        db,
        "rounds/proposal.html",
        status_code=status_code,
        circle=await circles.get_visible(db, proposal.circle_id, request.user.id),
        phase_name=PHASE_NAMES[proposal.state],
        rounds=views.rounds_of(history),
        mode_history=views.mode_history(history),
        revisions=views.with_diffs(described["revisions"]),
        names=names,
        form=form,
        reviewed_items=reviewed_items,
        **now,
        **context,
    )


class ProposalPages(Controller):
    include_in_schema = False

    @get("/circles/{circle_id:uuid}/proposals/new")
    async def new(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page, circle_id: uuid.UUID
    ) -> Template:
        return await self._form(request, db_session, page, circle_id, {})

    async def _form(
        self,
        request: Request[Any, Any, Any],
        db: AsyncSession,
        page: Page,
        circle_id: uuid.UUID,
        form: dict[str, Any],
        error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        await services.member_of(db, circle_id, request.user.id)  # only members propose: the form is theirs
        view = await circles.load_circle(db, circle_id, request.user.id, today(page.clock))
        typed = ProposalForm(**{k: v for k, v in form.items() if k in ITEM_FIELDS})
        return await page(
            request,
            db,
            "rounds/new_proposal.html",
            status_code=status_code,
            circle_zone=view.circle.time_zone,
            view=view,
            form=form,
            error=error,
            today=page.clock().date().isoformat(),
            item_rows=typed.shown_again(),
            members=[(str(m.account_id), name) for m, name, _ in view.members],
        )

    @post("/circles/{circle_id:uuid}/proposals")
    async def create(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        circle_id: uuid.UUID,
        data: Annotated[ProposalForm, Form],
    ) -> Template | Redirect:
        if data.more:  # "Add another item": the form again, as typed, with one more row
            return await self._form(request, db_session, page, circle_id, msgspec.structs.asdict(data))
        try:
            zone = viewer_zone(request, await circles.time_zone_of(db_session, circle_id))
            proposal = await services.create_proposal(
                db_session,
                request.user.id,
                circle_id,
                title=data.title,
                driver=data.driver,
                text=data.text,
                domain_id=parse_field(data.domain_id, uuid.UUID, "domain_id", N_("one of the circle's domains"))
                or uuid.UUID(int=0),
                mode=data.mode,
                now=page.clock(),
                criteria=parse_lines(data.criteria),
                review_by=parse_field(data.review_by, date.fromisoformat, "review_by", N_("a date like 2027-06-30")),
                closes_at=read_typed(data.closes_at, zone),
                agreement=bool(data.agreement),
                action_items=data.action_items(),
            )
        except Refusal as refusal:
            await db_session.rollback()
            return await self._form(
                request, db_session, page, circle_id, msgspec.structs.asdict(data), str(refusal), refusal.status
            )
        flash(request, _("Your proposal is saved as a draft; the facilitator starts it."), category="success")
        return Redirect(f"/proposals/{proposal.id}")

    @post("/circles/{circle_id:uuid}/selections")
    async def select(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        circle_id: uuid.UUID,
        data: Annotated[SelectionForm, Form],
    ) -> Template | Redirect:
        """The circle page's "Select someone for a role", for its stewards."""
        try:
            zone = viewer_zone(request, await circles.time_zone_of(db_session, circle_id))
            proposal = await services.create_selection(
                db_session,
                request.user.id,
                circle_id,
                role=data.role,
                description=data.description,
                term_ends_on=parse_field(
                    data.term_ends_on, date.fromisoformat, "term_ends_on", N_("a date like 2027-06-30")
                )
                or page.clock().date(),
                mode=data.mode,
                now=page.clock(),
                closes_at=read_typed(data.closes_at, zone),
            )
        except Refusal as refusal:
            return await refused_on_circle_page(request, db_session, page, circle_id, refusal, "select", data)
        flash(
            request, _("The selection is saved as a draft; the facilitator starts its nominations."), category="success"
        )
        return Redirect(f"/proposals/{proposal.id}")

    @get("/proposals/{proposal_id:uuid}")
    async def show(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page, proposal_id: uuid.UUID
    ) -> Template:
        return await proposal_page(request, db_session, page, proposal_id)

    @get("/proposals/{proposal_id:uuid}/now")
    async def now(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page, proposal_id: uuid.UUID
    ) -> Template:
        """The "what you can do now" part alone, for the live page (static/meeting.js)."""
        proposal = await services.visible_proposal(db_session, proposal_id, request.user.id)
        context = await _now_context(request, db_session, page, proposal, None)
        return Template("rounds/now.html", context={**context, "form": {}})

    @post("/proposals/{proposal_id:uuid}/actions")
    async def act(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        writer: ActionWriter,
        proposal_id: uuid.UUID,
        data: Annotated[ActionForm, Form],
    ) -> Template | Redirect:
        if data.more:  # "Add another item" on the amendment form: the page again, as typed, one more row
            return await proposal_page(request, db_session, page, proposal_id, form=msgspec.structs.asdict(data))
        # A form sends every field; an empty one is one the action does not have.
        fields = msgspec.structs.asdict(data)
        for name in ITEM_FIELDS:
            fields.pop(name)
        criteria = fields.pop("criteria")
        action: dict[str, Any] = {k: v for k, v in fields.items() if v != "" or k in {"type", "client_id"}}
        if criteria is not None:  # the amendment form's criteria, one a line: empty clears them
            action["criteria"] = parse_lines(criteria)
        if "author_agreed" in action:  # a ticked box
            action["author_agreed"] = True
        try:
            if data.items:  # the amendment form's items: they replace the proposal's
                action["action_items"] = [msgspec.to_builtins(item) for item in data.action_items()]
            if data.closes_at.strip():  # a datetime-local field: in the viewer's zone, without seconds
                proposal = await services.visible_proposal(db_session, proposal_id, request.user.id)
                zone = viewer_zone(request, await circles.time_zone_of(db_session, proposal.circle_id))
                action["closes_at"] = read_typed(data.closes_at, zone)
            await take(writer, page.clock, request.user.id, proposal_id, actions.decode(action), holding=db_session)
        except Refusal as refusal:
            return await proposal_page(
                request,
                db_session,
                page,
                proposal_id,
                status_code=refusal.status,
                error=str(refusal),
                form=msgspec.structs.asdict(data),
            )
        return Redirect(f"/proposals/{proposal_id}#now")
