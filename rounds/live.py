"""Live meetings, the parts that do no I/O of their own: how events travel on a proposal's
channel (Litestar's Channels plugin: published after commit, fanned out by every server
process to its own sockets), who has a meeting open, and putting one socket's events in order.

An event is encoded once, when it is published; every socket sends the same bytes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
from litestar.channels import ChannelsPlugin
from litestar.channels.subscriber import Subscriber

from consent.base import i18n

CLOSE_TOO_SLOW = 4008  # the socket fell `socket_backlog` events behind: reconnect with `since`
CLOSE_REFUSED = 4403  # not a member of the circle, unknown proposal, foreign Origin or no credentials
_SEQ_PREFIX = b'{"seq":'
# After a presence message, a meeting's next one waits this long plus 2 ms per person there;
# whoever arrives meanwhile is in that one. A whole assembly arriving at once would otherwise
# send each socket a list of everyone once per arrival (2,000 people: 2,000 lists of up to
# 2,000 names to each of 2,000 sockets, more than the server can ever send).
PRESENCE_QUIET_SECONDS = 0.1


def channel(proposal_id: uuid.UUID) -> str:
    return f"proposal:{proposal_id}"


def encode(message: dict[str, Any]) -> bytes:
    return msgspec.json.encode(message)


def seq_of(payload: bytes) -> int | None:
    """The seq of an encoded event, read without decoding it (an event's JSON starts with its
    seq, see `services.event_json`); None for other messages such as presence."""
    if not payload.startswith(_SEQ_PREFIX):
        return None
    return int(payload[len(_SEQ_PREFIX) : payload.index(b",")])


def publish(channels: ChannelsPlugin, proposal_id: uuid.UUID, events: Iterable[dict[str, Any]]) -> None:
    """Sends committed events to everyone in the meeting, in seq order. Call only after commit."""
    publish_to(channels, channel(proposal_id), events)


def publish_to(channels: ChannelsPlugin, name: str, events: Iterable[dict[str, Any]]) -> None:
    for event in events:
        channels.publish(encode(event), name)


def with_views(events: list[dict[str, Any]], views: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The events of one update, the last carrying its page's view in each served language:
    `view` in the default one, `views` the others. Without a view for every language (its
    rendering failed), the events alone: the pages load themselves again."""
    if not events or views is None or len(views) != len(i18n.LANGUAGES):
        return events
    others = {language: view for language, view in views.items() if language != i18n.DEFAULT}
    return [*events[:-1], {**events[-1], "view": views[i18n.DEFAULT], "views": others}]


class InOrder:
    """One socket's view of the event stream: each seq once, in order. Events that arrive
    ahead of a gap (two actions committed at once, published the other way round) wait until
    the gap is filled, from the channel or from the database."""

    def __init__(self, last: int) -> None:
        self.last = last
        self.early: dict[int, bytes] = {}

    def take(self, seq: int, payload: bytes) -> list[bytes]:
        """What may be sent now, given one more event."""
        if seq > self.last:
            self.early[seq] = payload
        ready = []
        while self.last + 1 in self.early:
            self.last += 1
            ready.append(self.early.pop(self.last))
        return ready

    @property
    def gap(self) -> bool:
        return bool(self.early)


class Presence:
    """Who has each meeting open in this process; someone with two tabs open is there once.
    With several processes, rounds.presence.SharedPresence tells the others."""

    def __init__(self) -> None:
        self._open: dict[uuid.UUID, Counter[uuid.UUID]] = {}
        self._names: dict[uuid.UUID, str] = {}
        # Meetings told who is there within their quiet time -> whether it changed since.
        self._quiet: dict[uuid.UUID, bool] = {}

    def join(self, proposal_id: uuid.UUID, member: uuid.UUID, name: str) -> None:
        self._names[member] = name
        self._open.setdefault(proposal_id, Counter())[member] += 1

    def leave(self, proposal_id: uuid.UUID, member: uuid.UUID) -> None:
        here = self._open.get(proposal_id)
        if here is None:
            return
        here[member] -= 1
        if here[member] <= 0:
            del here[member]
        if not here:
            del self._open[proposal_id]

    def of(self, proposal_id: uuid.UUID) -> list[dict[str, str]]:
        here = self._open.get(proposal_id, Counter())
        return sorted(({"id": str(m), "name": self._names[m]} for m in here), key=lambda p: (p["name"], p["id"]))

    def message(self, proposal_id: uuid.UUID) -> bytes:
        return encode({"type": "presence", "present": self.of(proposal_id)})

    async def start(self) -> None:
        """Nothing to start: this process alone knows who is there."""

    async def stop(self) -> None:
        """As start."""

    def say(self, proposal_id: uuid.UUID, channels: ChannelsPlugin) -> None:
        """Tells the meeting who is there, now."""
        channels.publish(self.message(proposal_id), channel(proposal_id))

    def announce(self, proposal_id: uuid.UUID, channels: ChannelsPlugin) -> None:
        """Tells the meeting who is there: at once, or, within the quiet time after the last
        time, once at its end with whoever is there by then."""
        if proposal_id in self._quiet:
            self._quiet[proposal_id] = True
            return
        self._quiet[proposal_id] = False
        self.say(proposal_id, channels)
        quiet = PRESENCE_QUIET_SECONDS + len(self._open.get(proposal_id, ())) / 500
        asyncio.get_running_loop().call_later(quiet, self._end_quiet, proposal_id, channels)

    def _end_quiet(self, proposal_id: uuid.UUID, channels: ChannelsPlugin) -> None:
        if self._quiet.pop(proposal_id):
            self.announce(proposal_id, channels)


class Backlog:
    """What Litestar's Subscriber uses of asyncio.Queue (get, put_nowait, task_done, qsize,
    join), in a list and one future: asyncio.Queue holds three deques and an Event, some
    600 bytes each, a tenth of an idle meeting socket's memory (docs/performance.md). The
    end-of-stream None always fits."""

    def __init__(self, maxsize: int | None) -> None:
        self.items: list[bytes | None] = []
        self.maxsize = maxsize or 0
        self.waiter: asyncio.Future[None] | None = None

    def qsize(self) -> int:
        return len(self.items)

    def put_nowait(self, item: bytes | None) -> None:
        if item is not None and self.maxsize and len(self.items) >= self.maxsize:
            raise asyncio.QueueFull
        self.items.append(item)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def put(self, item: bytes | None) -> None:
        self.put_nowait(item)

    async def get(self) -> bytes | None:
        while not self.items:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return self.items.pop(0)

    def task_done(self) -> None:
        """Nothing waits for the items to be processed (Subscriber.run_in_background is not used)."""

    async def join(self) -> None:
        """As task_done."""


class SocketQueue(Subscriber):
    """Litestar's subscriber, with its bounded backlog: when a socket cannot keep up, the
    backlog overflows and, rather than silently losing events, the socket is told
    (`when_too_slow`: it stops sending), closed (CLOSE_TOO_SLOW) and resumes from its last
    seq. Nobody else waits for it."""

    def __init__(self, plugin: ChannelsPlugin, max_backlog: int | None = None, **_: Any) -> None:
        super().__init__(plugin)
        self._queue = Backlog(max_backlog)  # type: ignore[assignment]  # duck-typed: see Backlog
        self.too_slow = False
        self.on_too_slow: Callable[[], object] | None = None

    def when_too_slow(self, callback: Callable[[], object]) -> None:
        """Calls `callback` when the backlog overflows; at once if it has."""
        self.on_too_slow = callback
        if self.too_slow:
            callback()

    def put_nowait(self, item: bytes | None) -> bool:
        if super().put_nowait(item):
            return True
        if not self.too_slow and self.on_too_slow is not None:
            self.on_too_slow()
        self.too_slow = True
        return False
