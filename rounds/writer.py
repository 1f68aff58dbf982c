"""The one writer of a server process. Every action, from sockets, pages and the API, waits in
one queue; all that arrived while the previous transaction ran are applied and committed
together (`services.act_many`); a request's sender is answered then, with its events, and a
socket's once they are published (on the proposal's channel, with the pages' update).
An action's cost is round trips to the database, not work: one transaction of a handful of
statements for a hundred actions, instead of ten statements for each (docs/performance.md)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from consent.base.errors import Refusal
from consent.base.work import QueuedWork
from rounds import services
from rounds.services import After, Attempt, Outcome

log = logging.getLogger("consent.actions")

BATCH_LIMIT = 200  # actions in one transaction: enough to amortise it, short enough to keep it brief
# Sends committed events, with the proposal after them, to the meeting (rounds.page_updates).
Publish = Callable[[uuid.UUID, list[dict[str, Any]], After | None], Awaitable[None]]
# The action, its sender's future, and whether the sender is answered only once its events are
# on the proposal's channel (a socket's ack must not overtake its event).
Waiting = tuple[Attempt, "asyncio.Future[Outcome]", bool]


class ActionWriter(QueuedWork[Waiting]):
    LIMIT = BATCH_LIMIT

    def __init__(self, sessions: Callable[[], AsyncSession], publish: Publish) -> None:
        super().__init__()
        self.sessions, self.publish = sessions, publish

    def enqueue(self, attempt: Attempt, published: bool = True) -> asyncio.Future[Outcome]:
        """Queues the action, after those queued before it; the future is its outcome once
        committed and (`published`) on the proposal's channel, or its refusal, which changed
        nothing."""
        if self.task is None or self.task.done():
            raise RuntimeError("the server is not taking actions (starting or stopping)")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((attempt, future, published))
        return future

    async def submit(self, attempt: Attempt) -> Outcome:
        """For a request (the API, a page's form, a mail): answered once committed, with its
        events, not after the live pages' update, which in a circle of 2,000 renders everyone."""
        return await self.enqueue(attempt, published=False)

    def keep(self, item: Waiting) -> bool:
        return not item[1].done()  # a sender that went away before its turn: it will retry

    async def work(self, items: list[Waiting]) -> None:
        await self.write(items)

    async def write(self, batch: list[Waiting]) -> None:
        try:
            async with self.sessions() as db:
                results: list[Outcome | Refusal | Exception] = [
                    *await services.act_many(db, [attempt for attempt, *_ in batch])
                ]
                await db.commit()
        except Exception as exc:
            if len(batch) > 1:  # one action's failure must not fail the others: each alone
                for item in batch:
                    await self.write([item])
                return
            log.exception("an action failed")
            results = [exc]
        answers = list(zip(batch, results))
        self.answer([(future, result) for (_, future, published), result in answers if not published])
        # Each proposal's events of this transaction go out together, in order: one update of
        # its pages for all of them. Sockets are answered after, so an ack never overtakes its event.
        counted: set[int] = set()
        together: dict[uuid.UUID, tuple[list[dict[str, Any]], After | None]] = {}
        for (attempt, *_), result in answers:
            if isinstance(result, Outcome) and not result.repeated and id(result) not in counted and result.json:
                counted.add(id(result))
                events, _ = together.get(attempt.proposal_id, ([], None))
                together[attempt.proposal_id] = ([*events, *result.json], result.after)
        await asyncio.gather(*(self.publish(p, events, after) for p, (events, after) in together.items()))
        self.answer([(future, result) for (_, future, published), result in answers if published])

    @staticmethod
    def answer(answers: list[tuple[asyncio.Future[Outcome], Outcome | Refusal | Exception]]) -> None:
        for future, result in answers:
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
