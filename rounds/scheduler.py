"""Closes async proposals at their deadline: once at start (for those that fell due while the
server was down), then every few seconds. `consent tick` runs one pass, for cron."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from consent.base.clock import Clock
from rounds.services import Committed, close_due

log = logging.getLogger("consent.deadlines")


async def tick(sessions: Callable[[], AsyncSession], clock: Clock, committed: Committed | None = None) -> int:
    async with sessions() as db:
        return await close_due(db, clock(), committed)


class DeadlineScheduler:
    def __init__(
        self,
        sessions: Callable[[], AsyncSession],
        clock: Clock,
        every_seconds: float,
        committed: Committed | None = None,
    ) -> None:
        self.sessions, self.clock, self.every_seconds, self.committed = sessions, clock, every_seconds, committed
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await tick(self.sessions, self.clock, self.committed)  # what fell due while we were down, before serving
        self.task = asyncio.create_task(self.run())

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every_seconds)
            try:
                closed = await tick(self.sessions, self.clock, self.committed)
            except Exception:  # a failed pass is retried at the next one; the server stays up
                log.exception("closing due proposals failed")
            else:
                if closed:
                    log.info("closed %d proposal(s) at their deadline", closed)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
