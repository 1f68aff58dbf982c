"""Work done in order by one task of the server's own, fed by a queue: the action writer and
the publisher of live updates. Each takes together whatever waited while it was busy."""

from __future__ import annotations

import asyncio
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
