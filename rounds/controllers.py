"""The proposal API of API.md: create, read, act, and the event log since a seq; and the
answers of the person asked to a decision's action items."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from consent.base.clock import Clock, today
from consent.base.errors import error_responses
from rounds import actions, item_services, services
from rounds.schemas import (
    ACTION_SCHEMAS,
    ActedOut,
    ActionItemOut,
    EventsOut,
    ItemDone,
    NewProposal,
    NewSelection,
    ProposalOut,
)
from rounds.writer import ActionWriter


async def take(
    writer: ActionWriter,
    clock: Clock,
    account_id: uuid.UUID,
    proposal_id: uuid.UUID,
    action: actions.Action,
    holding: AsyncSession | None = None,
) -> services.Outcome:
    """The action through the process's writer (rounds.writer): answered once committed.
    A request first ends its own transaction (`holding`): on SQLite the pool's one connection
    is what the writer waits for."""
    if holding is not None:
        await holding.commit()
    return await writer.submit(services.Attempt(account_id, proposal_id, action, clock()))


class ProposalApi(Controller):
    path = "/api"
    tags = ["proposals"]

    @post(
        "/circles/{circle_id:uuid}/proposals",
        status_code=HTTP_201_CREATED,
        responses=error_responses(400, 401, 403, 404, 422),
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        clock: Clock,
        circle_id: uuid.UUID,
        data: NewProposal,
    ) -> ProposalOut:
        """Propose, in one of the circle's domains: live (in a meeting) or async (until closes_at)."""
        proposal = await services.create_proposal(
            db_session,
            request.user.id,
            circle_id,
            title=data.title,
            driver=data.driver,
            text=data.text,
            domain_id=data.domain_id,
            mode=data.mode,
            now=clock(),
            review_by=data.review_by,
            closes_at=data.closes_at,
            supersedes=data.supersedes,
            criteria=data.all_criteria(),
            agreement=data.agreement,
            action_items=data.action_items,
        )
        return msgspec.convert(await services.describe(db_session, proposal, today(clock)), ProposalOut)

    @post(
        "/circles/{circle_id:uuid}/selections",
        status_code=HTTP_201_CREATED,
        responses=error_responses(400, 401, 403, 404, 409, 422),
    )
    async def select(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        clock: Clock,
        circle_id: uuid.UUID,
        data: NewSelection,
    ) -> ProposalOut:
        """Open the selection of someone for a role of the circle (a steward): nominations, a
        change round, a candidate, consent; decided, the role is theirs until the term's end."""
        proposal = await services.create_selection(
            db_session,
            request.user.id,
            circle_id,
            role=data.role,
            description=data.description,
            term_ends_on=data.term_ends_on,
            mode=data.mode,
            now=clock(),
            closes_at=data.closes_at,
        )
        return msgspec.convert(await services.describe(db_session, proposal, today(clock)), ProposalOut)

    @get("/proposals/{proposal_id:uuid}", responses=error_responses(400, 401, 404))
    async def read(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock, proposal_id: uuid.UUID
    ) -> ProposalOut:
        proposal = await services.visible_proposal(db_session, proposal_id, request.user.id)
        return msgspec.convert(await services.describe(db_session, proposal, today(clock)), ProposalOut)

    @post(
        "/proposals/{proposal_id:uuid}/actions",
        status_code=HTTP_200_OK,
        responses=error_responses(400, 401, 403, 404, 409, 422),
    )
    async def act(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        writer: ActionWriter,
        clock: Clock,
        proposal_id: uuid.UUID,
        data: Annotated[
            dict[str, Any],
            Body(title="Action", schema_extra={"one_of": ACTION_SCHEMAS}),
        ],
    ) -> ActedOut:
        """Take one step of the consent process; retrying with the same client_id changes nothing."""
        # Decoded here, not by the framework: a malformed action gets the action's own refusal codes.
        outcome = await take(writer, clock, request.user.id, proposal_id, actions.decode(data), holding=db_session)
        return msgspec.convert(
            {"seq": outcome.seq, "event": outcome.json[0] if outcome.json else None, "events": outcome.json}, ActedOut
        )

    @get("/proposals/{proposal_id:uuid}/events", responses=error_responses(400, 401, 404))
    async def events(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        proposal_id: uuid.UUID,
        since: int = Parameter(default=0, ge=0, le=2**63 - 1),  # a seq is a 64-bit integer in the database
    ) -> EventsOut:
        """Every event with seq > since, in order (at most 1000; ask again from the last one)."""
        proposal = await services.visible_proposal(db_session, proposal_id, request.user.id)
        items = await services.as_json(db_session, await services.events_since(db_session, proposal, since))
        return msgspec.convert({"items": items}, EventsOut)


class ActionItemApi(Controller):
    path = "/api/action-items"
    tags = ["proposals"]

    async def _step(
        self, request: Request[Any, Any, Any], db: AsyncSession, clock: Clock, item_id: uuid.UUID, name: str, note: str
    ) -> ActionItemOut:
        return msgspec.convert(
            await item_services.take_step(db, request.user.id, item_id, name, note, clock()), ActionItemOut
        )

    @post("/{item_id:uuid}/accept", status_code=HTTP_200_OK, responses=error_responses(400, 401, 403, 404, 409))
    async def accept(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock, item_id: uuid.UUID
    ) -> ActionItemOut:
        """The person asked takes the item on (once its decision exists)."""
        return await self._step(request, db_session, clock, item_id, "accept", "")

    @post("/{item_id:uuid}/decline", status_code=HTTP_200_OK, responses=error_responses(400, 401, 403, 404, 409))
    async def decline(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock, item_id: uuid.UUID
    ) -> ActionItemOut:
        """The person asked cannot take the item on, or no longer can; it is closed."""
        return await self._step(request, db_session, clock, item_id, "decline", "")

    @post("/{item_id:uuid}/done", status_code=HTTP_200_OK, responses=error_responses(400, 401, 403, 404, 409))
    async def done(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        clock: Clock,
        item_id: uuid.UUID,
        data: ItemDone,
    ) -> ActionItemOut:
        """Done, with a note: by the person asked, or by a steward of the circle once they left it."""
        return await self._step(request, db_session, clock, item_id, "done", data.note)
