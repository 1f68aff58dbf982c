"""The meetings' writer of a server process: each action in a transaction of its own, in the
order they came (a meeting's actions are few: a round of check-ins, an advance), then its events
published to the meeting's channel with the pages' update (rounds/meetings/views.py), then
what it carries into the proposal under way sent through the proposals' writer
(rounds.writer), then its sender answered."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar.channels import ChannelsPlugin
from sqlalchemy.ext.asyncio import AsyncSession

from consent.base import i18n
from consent.base.errors import Refusal
from consent.base.work import QueuedWork
from rounds import live
from rounds.meetings import rules, services, views
from rounds.writer import ActionWriter

log = logging.getLogger("consent.meetings")


def channel(meeting_id: uuid.UUID) -> str:
    return f"meeting:{meeting_id}"


@dataclass(frozen=True)
class Attempt:
    account_id: uuid.UUID
    meeting_id: uuid.UUID
    act: rules.Acts
    now: datetime
    language: str = field(default_factory=i18n.current)  # its refusal is said in its sender's


Waiting = tuple[Attempt, "asyncio.Future[services.Outcome]"]


class MeetingWriter(QueuedWork[Waiting]):
    def __init__(
        self,
        sessions: Callable[[], AsyncSession],
        channels: ChannelsPlugin,
        proposals: ActionWriter,
        pages: views.MeetingViews,
    ) -> None:
        super().__init__()
        self.sessions, self.channels, self.proposals, self.pages = sessions, channels, proposals, pages

    async def submit(self, attempt: Attempt) -> services.Outcome:
        return await self.enqueue(attempt)

    async def take(
        self, holding: AsyncSession, account_id: uuid.UUID, meeting_id: uuid.UUID, raw: Any, now: datetime
    ) -> services.Outcome:
        """An action as a request sends it (the API's JSON, a page's form): decoded, else its
        refusal; then the request's session released, for on SQLite the pool's one connection
        is what the writer waits for; then written."""
        act = rules.decode(raw)
        await holding.commit()
        return await self.submit(Attempt(account_id, meeting_id, act, now))

    def enqueue(self, attempt: Attempt) -> asyncio.Future[services.Outcome]:
        if self.task is None or self.task.done():
            raise RuntimeError("the server is not taking actions (starting or stopping)")
        future: asyncio.Future[services.Outcome] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((attempt, future))
        return future

    def keep(self, item: Waiting) -> bool:
        return not item[1].done()

    async def work(self, items: list[Waiting]) -> None:
        for attempt, future in items:
            i18n.use(attempt.language)
            try:
                async with self.sessions() as db:
                    outcome = await services.act(db, attempt.account_id, attempt.meeting_id, attempt.act, attempt.now)
                    await db.commit()
            except Refusal as refusal:
                future.set_exception(refusal)
                continue
            except Exception as exc:
                log.exception("a meeting action failed")
                future.set_exception(exc)
                continue
            if not outcome.repeated and outcome.json:  # with what it changes on the pages
                shown = await self.pages.view(attempt.meeting_id, outcome.json)
                live.publish_to(self.channels, channel(attempt.meeting_id), live.with_views(outcome.json, shown))
            for carried in outcome.carried:  # the proposal's rules may refuse: said on its own page
                self.proposals.enqueue(carried).add_done_callback(_said)
            future.set_result(outcome)


def _said(done: asyncio.Future[Any]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.info("carried into the proposal, refused: %s", done.exception())
