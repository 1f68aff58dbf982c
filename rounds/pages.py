"""The proposal pages, which work without JavaScript: propose, follow the process, and take
each step the rules allow by a form."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from circles import services as circles
from circles.pages import circle_page
from consent.base.clock import today
from consent.base.errors import Refusal
from consent.base.forms import parse_field, parse_lines
from consent.base.labels import PHASE_NAMES
from consent.base.web import Form, Page
from rounds import actions, machine, selection, services, views
from rounds.controllers import take
from rounds.writer import ActionWriter


class ProposalForm(msgspec.Struct):
    title: str = ""
    driver: str = ""
    text: str = ""
    domain_id: str = ""
    mode: str = "async"
    closes_at: str = ""
    review_by: str = ""
    criteria: str = ""  # one a line
    agreement: str = ""


class ActionForm(msgspec.Struct):
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
    closes_at: str = ""  # a datetime-local field: read as UTC, like every time on the pages
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
    names.update({o["member"]["id"]: o["member"]["name"] for o in described["objections"]})
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
        form=context.pop("form", {}),
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
        return await page(
            request,
            db,
            "rounds/new_proposal.html",
            status_code=status_code,
            view=view,
            form=form,
            error=error,
            today=page.clock().date().isoformat(),
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
        try:
            closes_at = parse_field(data.closes_at, datetime.fromisoformat, "closes_at", "a date and time")
            proposal = await services.create_proposal(
                db_session,
                request.user.id,
                circle_id,
                title=data.title,
                driver=data.driver,
                text=data.text,
                domain_id=parse_field(data.domain_id, uuid.UUID, "domain_id", "one of the circle's domains")
                or uuid.UUID(int=0),
                mode=data.mode,
                now=page.clock(),
                criteria=parse_lines(data.criteria),
                review_by=parse_field(data.review_by, date.fromisoformat, "review_by", "a date like 2027-06-30"),
                closes_at=closes_at.replace(tzinfo=closes_at.tzinfo or UTC) if closes_at else None,
                agreement=bool(data.agreement),
            )
        except Refusal as refusal:
            await db_session.rollback()
            return await self._form(
                request, db_session, page, circle_id, msgspec.structs.asdict(data), str(refusal), refusal.status
            )
        flash(request, "Your proposal is saved as a draft; the facilitator starts it.", category="success")
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
            closes_at = parse_field(data.closes_at, datetime.fromisoformat, "closes_at", "a date and time")
            proposal = await services.create_selection(
                db_session,
                request.user.id,
                circle_id,
                role=data.role,
                description=data.description,
                term_ends_on=parse_field(
                    data.term_ends_on, date.fromisoformat, "term_ends_on", "a date like 2027-06-30"
                )
                or page.clock().date(),
                mode=data.mode,
                now=page.clock(),
                closes_at=closes_at.replace(tzinfo=closes_at.tzinfo or UTC) if closes_at else None,
            )
        except Refusal as refusal:
            await db_session.rollback()
            form = {f"select_{k}": v for k, v in msgspec.structs.asdict(data).items()}
            return await circle_page(
                request, db_session, page, circle_id, status_code=refusal.status, error=str(refusal), form=form
            )
        flash(request, "The selection is saved as a draft; the facilitator starts its nominations.", category="success")
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
        # A form sends every field; an empty one is one the action does not have.
        fields = msgspec.structs.asdict(data)
        criteria = fields.pop("criteria")
        action: dict[str, Any] = {k: v for k, v in fields.items() if v != "" or k in {"type", "client_id"}}
        if criteria is not None:  # the amendment form's criteria, one a line: empty clears them
            action["criteria"] = parse_lines(criteria)
        if "author_agreed" in action:  # a ticked box
            action["author_agreed"] = True
        try:
            # a datetime-local field has no seconds, which RFC 3339 wants
            action["closes_at"] = parse_field(data.closes_at, datetime.fromisoformat, "closes_at", "a date and time")
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
