"""`/ws/proposals/{id}`: one member's live connection to a meeting (protocol in API.md).

hello (with `since`) → welcome with the state → every missed event from the database → live
events from the proposal's channel, each exactly once and in seq order. Actions sent on the
socket are answered with ack or error; their events arrive like everyone else's.

`Connection` is that protocol for any event log with a channel; `Meeting` is a proposal's, and
a circle's meeting has its own (rounds.meetings.sockets): they differ only in how the log is
opened and checked, its welcome, its events and how an action reaches its writer.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, Protocol
from urllib.parse import urlsplit

from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.exceptions import WebSocketDisconnect
from sqlalchemy.ext.asyncio import AsyncSession

from consent.base import i18n, pubsub
from consent.base.clock import Clock
from consent.base.errors import Refusal, bad_field
from consent.base.i18n import gettext as _
from rounds import actions, live, services
from rounds.writer import ActionWriter

HELLO_SECONDS = 10.0  # a socket that does not say hello in time is closed
TOKEN_CHECK_SECONDS = 5.0  # a socket's token is looked up again before an action at most this often
REFUSALS = Refusal  # the rules' answers, said to the client
# A socket's actions sent and not yet answered; beyond this, it is read no further until one is.
IN_FLIGHT = 64
Answer = tuple[str | None, "asyncio.Future[Any]"]  # an action's client_id and outcome (with its seq)


class Member(Protocol):
    id: uuid.UUID
    name: str


class Writer(Protocol):
    """A log's writer: the action's outcome, with the seq of its last event, once committed and
    published (rounds.writer.ActionWriter, rounds.meetings.writer.MeetingWriter)."""

    def enqueue(self, attempt: Any) -> asyncio.Future[Any]: ...


Identify = Callable[[WebSocket[Any, Any, Any], str | None], Awaitable[Member | None]]  # the shell's


class Refused(Exception):
    """The socket may not join this meeting; it is closed with CLOSE_REFUSED."""


def _same_origin(socket: WebSocket[Any, Any, Any]) -> bool:
    """Browsers always send Origin; another site's page must not ride on the member's cookie.
    Clients that are not browsers send none and authenticate with a token."""
    origin = socket.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == socket.headers.get("host")


def _error(code: str, message: str, client_id: Any = None) -> str:
    return json.dumps({"type": "error", "client_id": client_id, "error": {"code": code, "message": message}})


def _parse(text: str) -> dict[str, Any]:
    try:
        message = json.loads(text)
    except ValueError as exc:
        raise Refusal("invalid_message", _("Messages are JSON objects with a type."), status=400) from exc
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise Refusal("invalid_message", _("Messages are JSON objects with a type."), status=400)
    return message


class Welcomes:
    """A meeting's welcome is the same for everyone at one seq: described once and sent to all
    who arrive before the next event. A hall arriving at once (2,000 sockets) costs one
    description, not 2,000 of a 2,000-participant proposal."""

    KEPT = 64  # welcomes kept, the most recent

    def __init__(self) -> None:
        self._made: OrderedDict[tuple[uuid.UUID, int, date], asyncio.Future[bytes]] = OrderedDict()

    async def of(self, db: AsyncSession, proposal: Any, today: date) -> bytes:
        key = (proposal.id, proposal.seq, today)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = asyncio.get_running_loop().create_future()
            if len(self._made) > self.KEPT:
                self._made.popitem(last=False)
            try:
                # The state without its `responses`: they are events, and the client gets those it
                # has not seen next; a long meeting's welcome stays small.
                state = await services.describe(db, proposal, today, responses=False)
            except BaseException as failed:
                self._made.pop(key, None)
                made.set_exception(failed)
                made.exception()  # those waiting get it; nobody else need be told of it
                raise
            made.set_result(live.encode({"type": "welcome", "seq": proposal.seq, "state": state}))
        return await asyncio.shield(made)


class Connection:
    """One open socket on an event log: greets, replays, then forwards live events while taking
    actions. What differs between logs is the methods a subclass gives."""

    channel: str  # the log's, its live events

    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        channels: ChannelsPlugin,
        sessions: Callable[[], AsyncSession],
        writer: Writer,
        clock: Clock,
        identify: Identify,
    ) -> None:
        self.socket, self.channels, self.sessions = socket, channels, sessions
        self.writer, self.clock, self.identify = writer, clock, identify
        self.send_lock = asyncio.Lock()
        self.member: Member | None = None
        self.token: str | None = None  # from the hello, for clients without the cookie
        self.token_checked = 0.0  # when the token was last found valid (time.monotonic)

    async def opened(self, db: AsyncSession, joining: bool) -> Any:
        """The log's owner (with its `seq`) as this member may see it; `joining`: also checked
        that they may take part. Refusal if not."""
        raise NotImplementedError

    async def welcomed(self, db: AsyncSession, log: Any) -> bytes:
        """The encoded welcome: the state at `log.seq`."""
        raise NotImplementedError

    async def events(self, db: AsyncSession, log: Any, since: int, limit: int) -> list[dict[str, Any]]:
        """The events after `since`, as JSON, at most `limit`."""
        raise NotImplementedError

    def attempt(self, message: dict[str, Any]) -> Any:
        """The action a message asks for, as the writer takes it; Refusal if it is none."""
        raise NotImplementedError

    def arrived(self) -> None:
        """Once welcomed (a proposal's socket says who has the page open)."""

    def left(self) -> None:
        """When the socket ends, if it `arrived`."""

    async def send(self, text: str | bytes) -> None:
        async with self.send_lock:  # the reader's acks and the writer's events share the socket
            await self.socket.send_data(text)

    async def hello(self) -> tuple[int, str | None]:
        """Waits for a valid hello; returns its `since` and token."""
        while True:
            try:
                message = _parse(await self.socket.receive_data("text"))
                since = message.get("since", 0)
                if message["type"] != "hello":
                    raise Refusal("hello_first", _('Say hello first: {"type": "hello", "since": 0}.'), 400)
                if not isinstance(since, int) or isinstance(since, bool) or since < 0:
                    raise bad_field(
                        "since", _("{Field} must be the last seq you saw, 0 or more."), "invalid_message", 400
                    )
                token = message.get("token")
            except Refusal as refusal:
                await self.send(_error(refusal.code, str(refusal)))
                continue
            return since, token if isinstance(token, str) else None

    async def welcome(self, since: int) -> live.InOrder:
        """The state, then every event after `since` from the database. The caller subscribed
        before this, so anything committed meanwhile is also on its way: InOrder drops the
        copies."""
        async with self.sessions() as db:
            try:
                log = await self.opened(db, joining=True)
            except REFUSALS as refusal:
                raise Refused(str(refusal)) from refusal
            welcome = await self.welcomed(db, log)
        since = min(since, log.seq)  # a client ahead of the log has seen nothing real beyond it
        await self.send(welcome)
        order = live.InOrder(since)
        while True:  # page by page, and no database session held while a slow client reads
            async with self.sessions() as db:
                missed = await self.events(db, log, order.last, services.EVENTS_PAGE)
            for event in missed:
                order.last = event["seq"]
                await self.send(live.encode(event))
            if len(missed) < services.EVENTS_PAGE:
                return order

    async def fill(self, order: live.InOrder, to_end: bool = False) -> list[bytes]:
        """Events missing before those that came early, from the database; `to_end`: every
        event after the last one sent."""
        ready: list[bytes] = []
        while True:
            limit = services.EVENTS_PAGE if to_end else min(order.early) - order.last - 1
            async with self.sessions() as db:
                missing = await self.events(db, await self.opened(db, joining=False), order.last, limit)
                for event in missing:
                    ready += order.take(event["seq"], live.encode(event))
            if not to_end or len(missing) < limit:
                return ready

    async def forward(self, subscriber: live.SocketQueue, order: live.InOrder) -> None:
        async for payload in subscriber.iter_events():
            if payload == pubsub.CATCH_UP:  # Redis was away: what it did not carry is in the database
                ready = await self.fill(order, to_end=True)
            else:
                seq = live.seq_of(payload)
                ready = [payload] if seq is None else order.take(seq, payload)
                if order.gap:
                    ready += await self.fill(order)
            for message in ready:
                await self.send(message)

    async def take_actions(self, answers: asyncio.Queue[Answer]) -> None:
        """Hands each action to the writer as it arrives, without waiting for the one before
        to be committed: a facilitator recording a fast round, or a client sending 100 actions
        a second, is not held to one action per transaction. They are written in the order
        sent; `answer` acknowledges them."""
        while True:
            text = await self.socket.receive_data("text")
            client_id = None
            try:
                message = _parse(text)
                client_id = message.get("client_id") if isinstance(message.get("client_id"), str) else None
                if message["type"] == "ping":  # the page's own heartbeat: browsers cannot see pings
                    await self.send('{"type":"pong"}')
                    continue
                if message["type"] == "hello":
                    raise Refusal("already_greeted", _("This socket has said hello already."), 400)
                attempt = self.attempt(message)
                await self.still_signed_in()
            except REFUSALS as refusal:
                await self.send(_error(refusal.code, str(refusal), client_id))
                continue
            await answers.put((client_id, self.writer.enqueue(attempt)))

    async def still_signed_in(self) -> None:
        """A socket opened with a token acts only while the token is valid: one revoked
        (signed out, or by the account's owner) stops its actions within TOKEN_CHECK_SECONDS,
        as it stops HTTP calls (looked up at most that often: a client sending 100 actions a
        second does not pay two queries for each)."""
        if self.token is None or time.monotonic() - self.token_checked < TOKEN_CHECK_SECONDS:
            return
        if await self.identify(self.socket, self.token) is None:
            raise Refused("The token was revoked: sign in again.")
        self.token_checked = time.monotonic()

    async def answer(self, answers: asyncio.Queue[Answer]) -> None:
        """Each action's ack once it is committed and published (after its event), or why it
        was refused, in the order they were sent."""
        while True:
            client_id, outcome = await answers.get()
            try:
                seq = (await outcome).seq
            except REFUSALS as refusal:
                await self.send(_error(refusal.code, str(refusal), client_id))
                continue
            await self.send(json.dumps({"type": "ack", "client_id": client_id, "seq": seq}))

    async def run(self) -> None:
        # Only the client's part is timed: a busy server may take longer to look up who it is.
        since, self.token = await asyncio.wait_for(self.hello(), HELLO_SECONDS)
        self.member = await self.identify(self.socket, self.token)
        self.token_checked = time.monotonic()
        if self.member is None:
            raise Refused("Sign in first, or say hello with a valid token.")
        # who it is is known now: their account's language, else the browser's (consent.base.i18n)
        accept = self.socket.headers.get("accept-language")
        i18n.use(i18n.language_of(getattr(self.member, "language", None), accept))
        subscriber = await self.channels.subscribe(self.channel)
        assert isinstance(subscriber, live.SocketQueue)
        joined = False
        try:
            order = await self.welcome(since)
            self.arrived()
            joined = True
            forwarding = asyncio.create_task(self.forward(subscriber, order))
            subscriber.when_too_slow(forwarding.cancel)  # it may be waiting on a client that does not read
            answers: asyncio.Queue[Answer] = asyncio.Queue(IN_FLIGHT)
            tasks = [
                forwarding,
                asyncio.create_task(self.take_actions(answers)),
                asyncio.create_task(self.answer(answers)),
            ]
            try:
                done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            await self.channels.unsubscribe(subscriber)
            if joined:
                self.left()
        if subscriber.too_slow:  # after leaving: closing waits on a client that is not reading
            await self.socket.close(live.CLOSE_TOO_SLOW, "too slow: reconnect with since")

    @property
    def member_id(self) -> uuid.UUID:
        assert self.member is not None, "said after the hello"
        return self.member.id


async def serve(connection: Connection) -> None:
    """Accepts the socket and runs the connection to its end, closed with why if refused."""
    socket = connection.socket
    await socket.accept()
    try:
        if not _same_origin(socket):
            raise Refused("This page's origin may not open the meeting.")
        await connection.run()
    except Refused as refusal:
        await socket.close(live.CLOSE_REFUSED, str(refusal)[:120])
    except TimeoutError:
        await socket.close(1008, "say hello first")
    except WebSocketDisconnect:
        pass


class Meeting(Connection):
    """A proposal's live meeting: who has it open is announced to everyone in it."""

    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        proposal_id: uuid.UUID,
        channels: ChannelsPlugin,
        sessions: Callable[[], AsyncSession],
        presence: live.Presence,
        writer: ActionWriter,
        clock: Clock,
        welcomes: Welcomes,
        identify: Identify,
    ) -> None:
        super().__init__(socket, channels, sessions, writer, clock, identify)
        self.proposal_id, self.presence, self.welcomes = proposal_id, presence, welcomes
        self.channel = live.channel(proposal_id)

    async def opened(self, db: AsyncSession, joining: bool) -> Any:
        proposal = await services.visible_proposal(db, self.proposal_id, self.member_id)
        if joining:
            await services.member_of(db, proposal.circle_id, self.member_id)
        return proposal

    async def welcomed(self, db: AsyncSession, log: Any) -> bytes:
        return await self.welcomes.of(db, log, self.clock().date())

    async def events(self, db: AsyncSession, log: Any, since: int, limit: int) -> list[dict[str, Any]]:
        return await services.as_json(db, await services.events_since(db, log, since, limit=limit))

    def attempt(self, message: dict[str, Any]) -> services.Attempt:
        return services.Attempt(self.member_id, self.proposal_id, actions.decode(message), self.clock())

    def arrived(self) -> None:
        assert self.member is not None
        self.presence.join(self.proposal_id, self.member.id, self.member.name)
        self.presence.announce(self.proposal_id, self.channels)

    def left(self) -> None:
        self.presence.leave(self.proposal_id, self.member_id)
        self.presence.announce(self.proposal_id, self.channels)


@websocket("/ws/proposals/{proposal_id:uuid}")
async def meeting_socket(
    socket: WebSocket[Any, Any, Any],
    proposal_id: uuid.UUID,
    channels: ChannelsPlugin,
    identify: Identify,
    sessions: Callable[[], AsyncSession],
    presence: live.Presence,
    writer: ActionWriter,
    clock: Clock,
    welcomes: Welcomes,
) -> None:
    await serve(Meeting(socket, proposal_id, channels, sessions, presence, writer, clock, welcomes, identify))
