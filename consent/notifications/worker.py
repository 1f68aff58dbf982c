"""The notifier: makes notifications after every commit of actions in this process, and every
few seconds (deadlines near, reviews due, digests, other processes' actions); then wakes the
mail sender."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from consent.base.clock import Clock
from consent.base.work import Recurring
from consent.notifications.mails import Postman
from consent.notifications.services import notify

log = logging.getLogger("consent.notifications")


class Notifier(Recurring):
    def __init__(
        self,
        readers: Callable[[], AsyncSession],
        sessions: Callable[[], AsyncSession],
        postman: Postman,
        clock: Clock,
        every_seconds: float,
        digest_hour: int,
        made: Callable[[], None],
    ) -> None:
        super().__init__(every_seconds, log)
        self.readers, self.sessions, self.postman, self.clock = readers, sessions, postman, clock
        self.digest_hour, self.made = digest_hour, made

    async def once(self) -> None:
        await notify(self.readers, self.sessions, self.postman, self.clock(), self.digest_hour)
        self.made()  # mail may be waiting now: the sender looks at once
