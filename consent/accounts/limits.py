"""How often one may sign up and fail to sign in, checked before any password is hashed.

Generous where people share an address (a circle of twenty behind a community hall's router
signs up and in at once) and tight where a password is guessed: failed sign-ins are counted
per account, which locks for a few minutes, and per client address, with a high ceiling;
successful sign-ins are never counted. The counts live in a Litestar store: in memory for one
process, in Redis when several serve (docs/deploy.md), so that every process counts the same
failures. Reading and writing a count are two steps, so processes failing at the same instant
may each miss one of the others' failures: a limit, not a ledger.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from litestar.stores.base import Store

from consent.base.errors import Refusal
from consent.base.i18n import N_, ngettext
from consent.base.i18n import gettext as _
from consent.base.tokens import hash_token

SIGN_UP_WINDOW = 10 * 60  # seconds
SIGN_IN_WINDOW = 15 * 60
ACCOUNT_LOCKOUT = 5 * 60  # an account's sign-in, after too many failures
RESET_WINDOW = 60 * 60
RESETS_PER_EMAIL = 3  # reset mails to one address an hour: enough for a lost one, no mail bomb


class TooMany(Refusal):
    """429 with `Retry-After`: the error handler sends an exception's `headers`."""

    def __init__(self, message: str, seconds: int) -> None:
        super().__init__("too_many_requests", _(message).format(wait=_minutes(seconds)), 429)
        self.headers = {"Retry-After": str(seconds)}


def _minutes(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)


@dataclass(frozen=True)
class Limit:
    """At most `count` events of one key within `window` seconds. Once there, the key waits
    until the oldest leaves the window, or, with `lockout`, that long after the latest."""

    count: int
    window: int
    lockout: int | None = None


class Counts:
    """The times of each key's recent events, in `store` under `name`."""

    def __init__(self, store: Store, name: str, limit: Limit, clock: Callable[[], float] = time.time) -> None:
        self.store, self.name, self.limit, self.clock = store, name, limit, clock
        self.lock = asyncio.Lock()  # one read-and-write at a time in this process

    async def _times(self, key: str, now: float) -> list[float]:
        stored = await self.store.get(f"{self.name}:{key}")
        return [t for t in (json.loads(stored) if stored else []) if t > now - self.limit.window]

    async def wait(self, key: str) -> int:
        """Seconds until `key` may have another event; 0: now."""
        now = self.clock()
        times = await self._times(key, now)
        if len(times) < self.limit.count:
            return 0
        until = times[-self.limit.count] + self.limit.window
        if self.limit.lockout is not None:
            until = min(until, times[-1] + self.limit.lockout)
        return max(1, math.ceil(until - now))

    async def add(self, key: str) -> None:
        async with self.lock:
            now = self.clock()
            times = [*await self._times(key, now), now][-self.limit.count :]
            await self.store.set(f"{self.name}:{key}", json.dumps(times), expires_in=self.limit.window)

    async def clear(self, key: str) -> None:
        await self.store.delete(f"{self.name}:{key}")


class SignInLimits:
    """The limits of signing up and in, by client address and by account."""

    def __init__(self, store: Store, sign_ups_per_address: int, failures_per_account: int, failures_per_address: int):
        self.sign_ups = Counts(store, "sign-ups", Limit(sign_ups_per_address, SIGN_UP_WINDOW))
        self.by_account = Counts(
            store, "failed-by-account", Limit(failures_per_account, SIGN_IN_WINDOW, ACCOUNT_LOCKOUT)
        )
        self.by_address = Counts(store, "failed-by-address", Limit(failures_per_address, SIGN_IN_WINDOW))
        self.resets = Counts(store, "resets", Limit(sign_ups_per_address, SIGN_UP_WINDOW))
        self.resets_by_email = Counts(store, "resets-by-email", Limit(RESETS_PER_EMAIL, RESET_WINDOW))

    async def signing_up(self, address: str) -> None:
        """Counts a sign-up from `address`; refused past the limit, before the password is hashed."""
        seconds = await self.sign_ups.wait(address)
        if seconds:
            raise TooMany(N_("Too many accounts were made from your network just now; try again in {wait}."), seconds)
        await self.sign_ups.add(address)

    async def resetting(self, address: str, email: str) -> bool:
        """Counts a password reset asked from `address`, refused past the sign-up limit; whether
        to mail `email`, which is not mailed more than RESETS_PER_EMAIL times an hour. The
        answer is the same either way: it must not tell whether the email has an account."""
        seconds = await self.resets.wait(address)
        if seconds:
            raise TooMany(
                "Too many password resets were asked from your network just now; try again in {wait}.", seconds
            )
        await self.resets.add(address)
        key = _account_key(email)
        if await self.resets_by_email.wait(key):
            return False
        await self.resets_by_email.add(key)
        return True

    async def signing_in(self, address: str, email: str) -> None:
        """Refuses a sign-in to a locked account, or from an address past its ceiling."""
        seconds = await self.by_account.wait(_account_key(email))
        if seconds:
            raise TooMany(N_("Too many failed sign-ins to this account; for its safety, try again in {wait}."), seconds)
        seconds = await self.by_address.wait(address)
        if seconds:
            raise TooMany(N_("Too many failed sign-ins from your network; try again in {wait}."), seconds)

    async def failed(self, address: str, email: str) -> None:
        """A wrong password or an unknown email: counted alike, so the answer does not tell them apart."""
        await self.by_account.add(_account_key(email))
        await self.by_address.add(address)

    async def succeeded(self, email: str) -> None:
        """The account's own failures are forgotten once its password is given."""
        await self.by_account.clear(_account_key(email))


def _account_key(email: str) -> str:
    """The email as sign-in finds it (trimmed, any case), hashed: the store need not hold addresses."""
    return hash_token(email.strip().lower())
