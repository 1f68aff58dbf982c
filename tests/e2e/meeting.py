"""A member's meeting socket, as a real `websockets` client sees it: everything it receives
is kept, in order, so tests can check that each event came exactly once."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.org import Org
from tests.helpers import token_of

Message = dict[str, Any]


class Socket:
    def __init__(self, org: Org, who: str, proposal_id: str) -> None:
        self.org, self.who, self.proposal_id = org, who, proposal_id
        self.received: list[Message] = []
        self.connection: ClientConnection | None = None
        self.closed_with: int | None = None
        self._arrived = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None

    @property
    def events(self) -> list[Message]:
        """The events as the log gives them: without the live page's `view` (and `views`, in
        the other languages), which only a batch's last event carries (rounds.page_updates)."""
        return [
            {k: v for k, v in m.items() if k not in ("view", "views")}
            for m in self.received
            if "data" in m and "seq" in m
        ]

    @property
    def views(self) -> list[Message]:
        return [m["view"] for m in self.received if m.get("view")]

    @property
    def last_seq(self) -> int:
        return self.events[-1]["seq"] if self.events else 0

    def url(self) -> str:
        return self.org.url.replace("http://", "ws://") + f"/ws/proposals/{self.proposal_id}"

    async def open(
        self, since: int | None = None, read: bool = True, receive_buffer: int | None = None, **options: Any
    ) -> Message:
        """Connects, says hello with the bearer token, and returns the welcome. A small
        `receive_buffer` makes a client that stops reading push back on the server at once
        (the kernel would otherwise buffer megabytes for it)."""
        token = token_of(self.org.people[self.who])
        if receive_buffer is not None:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            address = urlsplit(self.org.url)
            sock.connect((address.hostname, address.port))
            options["sock"] = sock
        self.connection = await connect(self.url(), proxy=None, open_timeout=10, **options)
        self.closed_with = None
        await self.connection.send(
            json.dumps({"type": "hello", "since": self.last_seq if since is None else since, "token": token})
        )
        welcome = json.loads(await self.connection.recv())
        assert welcome["type"] == "welcome", welcome
        if read:
            self.start_reading()
        return welcome

    def start_reading(self) -> None:
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.connection is not None
        try:
            async for text in self.connection:
                async with self._arrived:
                    self.received.append(json.loads(text))
                    self._arrived.notify_all()
        except ConnectionClosed:
            pass
        async with self._arrived:
            self.closed_with = self.connection.close_code
            self._arrived.notify_all()

    async def wait_for(self, check: Any, timeout: float = 20) -> None:
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: check(self)), timeout)

    async def wait_for_seq(self, seq: int, timeout: float = 20) -> None:
        await self.wait_for(lambda s: s.last_seq >= seq, timeout)

    async def wait_closed(self, timeout: float = 20) -> int:
        await self.wait_for(lambda s: s.closed_with is not None, timeout)
        assert self.closed_with is not None
        return self.closed_with

    async def send(self, message: Message | str) -> None:
        assert self.connection is not None
        await self.connection.send(message if isinstance(message, str) else json.dumps(message))

    async def act(self, type_: str, **data: Any) -> Message:
        """Sends an action and waits for its ack or error."""
        client_id = f"{self.who}-{type_}-{time.monotonic_ns()}"
        await self.send({"type": type_, "client_id": client_id, **data})
        await self.wait_for(lambda s: any(m.get("client_id") == client_id for m in s.received))
        return next(m for m in self.received if m.get("client_id") == client_id)

    async def ok(self, type_: str, **data: Any) -> int:
        answer = await self.act(type_, **data)
        assert answer["type"] == "ack", answer
        return answer["seq"]

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
        if self._reader is not None:
            await self._reader
