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
from consent.base.clock import today
from consent.base.errors import Refusal
from consent.base.forms import parse_field, parse_lines
from consent.base.labels import PHASE_NAMES
from consent.base.web import Form, Page
from rounds import actions, machine, services
from rounds.controllers import take
from rounds.diff import word_diff
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


async def open_proposals_section(db: AsyncSession, circle_id: uuid.UUID, viewer_id: uuid.UUID) -> dict[str, Any]:
    """The circle page's list of open proposals (circles knows nothing of proposals)."""
    return {
        "template": "rounds/circle_proposals.html",
        "proposals": await services.open_proposals(db, circle_id),
    }


def _rounds(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Responses grouped by round, each round named by its phase and the revision it was on.
    An answer (its event has no round) goes with its question, and names it."""
    rounds: dict[int, dict[str, Any]] = {}
    questions: dict[str, dict[str, Any]] = {}
    for event in history:
        data = event["data"]
        if event["type"] == "phase_changed" and "round" in data:  # named by the phase that opened it, not the one
            # that closed it (a consent round closed with an objection open stays a consent round)
            rounds.setdefault(data["round"], {"number": data["round"], "items": []}).setdefault(
                "phase", PHASE_NAMES[data["to"]]
            )
        elif event["type"] in services.RESPONSE_EVENTS:
            if event["type"] == "question_asked":
                questions[data["question_id"]] = event
            question = questions.get(data["question_id"]) if event["type"] == "question_answered" else None
            number = question["data"].get("round", 0) if question else data.get("round", 0)
            rounds.setdefault(number, {"number": number, "items": []})["items"].append({**event, "question": question})
    return [rounds[n] for n in sorted(rounds)]


async def proposal_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    page: Page,
    proposal_id: uuid.UUID,
    status_code: int = 200,
    **context: Any,
) -> Template:
    proposal = await services.visible_proposal(db, proposal_id, request.user.id)
    described = await services.describe(db, proposal, today(page.clock))
    state = await services.state_of(db, proposal, today(page.clock))
    history = described["responses"]
    names = {p["id"]: p["name"] for p in described["participants"]}
    names.update({o["member"]["id"]: o["member"]["name"] for o in described["objections"]})
    revisions = described["revisions"]
    diffs = [word_diff(revisions[i - 1]["text"], r["text"]) if i else None for i, r in enumerate(revisions)]
    answered = {e["data"]["question_id"] for e in history if e["type"] == "question_answered"}
    circle = await circles.get_visible(db, proposal.circle_id, request.user.id)
    members = await services.names_of(db, set(state.members))
    viewer, turn = request.user.id, state.whose_turn
    movers_view = viewer in state.movers and state.mode == "live" and state.phase in machine.OPEN_PHASES
    # the facilitator records responses for someone in the room without a device
    for_turn = (
        machine.available(state, turn) & machine.TURN_ACTIONS if movers_view and turn and turn != viewer else set()
    )
    # a review may skip the clarifying and reaction rounds
    skip_to_consent = state.phase == machine.CLARIFYING and machine.allows(
        state, viewer, actions.Advance(client_id="available", to="consenting")
    )
    absent = (
        [(str(m), name) for m, name in sorted(members.items(), key=lambda item: item[1]) if m not in state.present]
        if movers_view
        else []
    )
    return await page(
        request,
        db,
        "rounds/proposal.html",
        status_code=status_code,
        proposal=described,
        circle=circle,
        phase_name=PHASE_NAMES[proposal.state],
        rounds=_rounds(history_all := await _all_events(db, proposal)),
        mode_history=[
            e
            for e in history_all
            if e["type"] == "mode_changed"
            or (e["type"] == "deadline_passed" and e["data"]["outcome"] == "next_meeting")
        ],
        async_days=circle.default_async_days,
        revisions=list(zip(revisions, diffs)),
        names=names,
        form=context.pop("form", {}),
        available=machine.available(state, request.user.id),
        viewer_id=str(request.user.id),
        open_questions=[
            e for e in history if e["type"] == "question_asked" and e["data"]["question_id"] not in answered
        ],
        client_id=uuid.uuid4().hex,
        for_turn=for_turn,
        skip_to_consent=skip_to_consent,
        absent_members=absent,
        **context,
    )


async def _all_events(db: AsyncSession, proposal: Any) -> list[dict[str, Any]]:
    return await services.as_json(db, await services.events_since(db, proposal, 0, limit=100_000))


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
                domain_id=parse_field(data.domain_id, uuid.UUID, "domain_id", "choose one of the circle's domains")
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

    @get("/proposals/{proposal_id:uuid}")
    async def show(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page, proposal_id: uuid.UUID
    ) -> Template:
        return await proposal_page(request, db_session, page, proposal_id)

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
