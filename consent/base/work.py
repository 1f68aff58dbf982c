"""Work done in order by one task of the server's own, fed by a queue: the action writer and
the publisher of live updates. Each takes together whatever waited while it was busy."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Generic, TypeVar

T = TypeVar("T")


class QueuedWork(Generic[T]):
    LIMIT: int | None = None  # items taken together at most

    def __init__(self) -> None:
        self.queue: asyncio.Queue[T | None] = asyncio.Queue()  # None: stop after what is before it
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        """Does what is already queued, then ends."""
        if self.task is not None and not self.task.done():
            self.queue.put_nowait(None)
            await self.task

    async def run(self) -> None:
        while True:
            items: list[T] = []
            item = await self.queue.get()
            while item is not None:
                if self.keep(item):
                    items.append(item)
                if len(items) == self.LIMIT or self.queue.empty():
                    break
                item = self.queue.get_nowait()
            if items:
                await self.work(items)
            if item is None:
                return

    def keep(self, item: T) -> bool:
        """Whether an item is still wanted when its turn comes."""
        return True

    async def work(self, items: list[T]) -> None:
        """Does the items that waited together, in order."""
        raise NotImplementedError


class Recurring:
    """Work done again and again by a task of the server's own: when woken (something to do
    now), else every `every_seconds` (what other processes left, retries that fell due). A
    failed pass is logged and retried at the next; the server stays up. Stopping lets the pass
    under way end (`stopping` says to end it early): cancelled mid-statement, a PostgreSQL
    connection could hang the server's shutdown."""

    def __init__(self, every_seconds: float, log: logging.Logger) -> None:
        self.every_seconds, self.log = every_seconds, log
        self.woken = asyncio.Event()
        self.stopping = False
        self.task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self.woken.set()

    async def start(self) -> None:
        self.task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        self.stopping = True
        self.woken.set()
        if self.task is not None:
            await self.task

    async def run(self) -> None:
        while not self.stopping:
            self.woken.clear()
            try:
                await self.once()
            except Exception:
                self.log.exception("%s failed", type(self).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.woken.wait(), self.every_seconds)

    async def once(self) -> None:
        raise NotImplementedError
