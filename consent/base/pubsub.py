"""Pub/sub between server processes: the backend of Litestar's Channels plugin. In memory for
one process; Redis (or Valkey) when several serve the same meetings (docs/deploy.md).

Redis carries messages, it keeps none: everything a meeting must not lose is in the database
before it is published. So when Redis is away the server goes on: a publish that fails is
logged, and once the connection is back every channel's subscribers are told to catch up
(`CATCH_UP`) from the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Iterable
from typing import TYPE_CHECKING, Any

from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("consent.pubsub")

# Given to a channel's subscribers when the connection to Redis is back: what was published
# meanwhile did not reach them. Not JSON of any message a client is sent.
CATCH_UP = b"catch up"
RETRY_SECONDS = 1.0  # between attempts to reach Redis again
LISTEN_SECONDS = 1.0  # a wait for the next message, after which the listener looks again


def redis_client(url: str) -> Redis:
    """A client that gives up on an unreachable Redis in seconds rather than hanging the
    publisher (connections are checked when taken from the pool, so a restarted Redis is
    found again)."""
    from redis.asyncio import Redis

    return Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10)


def backend(redis_url: str | None) -> ChannelsBackend:
    return MemoryChannelsBackend() if redis_url is None else RedisChannels(redis_client(redis_url))


def _unreachable() -> tuple[type[Exception], ...]:
    from redis.exceptions import ConnectionError, TimeoutError

    return (ConnectionError, TimeoutError, OSError)


class RedisChannels(RedisChannelsPubSubBackend):
    """Litestar's Redis pub/sub backend, made to outlive a Redis restart: Litestar's own would
    let one failed publish end its publishing task for good (every later event stays queued)
    and one dropped connection end its listening task (the process hears nothing more)."""

    def __init__(self, redis: Redis) -> None:
        super().__init__(redis=redis)
        self.wanted: set[str] = set()  # the channels this process listens to, whatever Redis knows
        self.lost = False  # Redis was unreachable: subscribe again, then everyone catches up
        # One (un)subscription at a time: redis-py's PubSub connects on its first command, and
        # two first commands at once each made a connection, the second replacing the first
        # with the first's channels on it, subscribed in Redis and read by nobody (a hall of
        # meetings opening at once lost every event of most of them; bench --scale-out).
        self.changing = asyncio.Lock()

    def _unreachable(self, doing: str, error: Exception) -> None:
        if not self.lost:
            log.warning(
                "Redis is unreachable (%s: %s); meetings catch up from the database when it is back", doing, error
            )
        self.lost = True

    async def on_shutdown(self) -> None:
        await super().on_shutdown()
        await self._redis.aclose()

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        try:
            await super().publish(data, channels)
        except _unreachable() as error:  # the events are committed: sockets catch up when it is back
            self._unreachable("publishing", error)

    async def subscribe(self, channels: Iterable[str]) -> None:
        channels = set(channels)
        self.wanted |= channels
        try:
            async with self.changing:
                await super().subscribe(channels)
        except _unreachable() as error:  # subscribed when it is back; the socket reads the database meanwhile
            self._unreachable("subscribing", error)
            self._has_subscribed.set()  # the listener tries again

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        channels = set(channels)
        self.wanted -= channels
        try:
            async with self.changing:
                await super().unsubscribe(channels)
        except _unreachable() as error:
            self._unreachable("unsubscribing", error)

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        while True:
            await self._has_subscribed.wait()
            try:
                if self.lost:
                    await self._listen_again()
                    for channel in list(self.wanted):
                        yield channel, CATCH_UP
                    continue
                message = await self._pub_sub.get_message(ignore_subscribe_messages=True, timeout=LISTEN_SECONDS)
            except _unreachable() as error:
                self._unreachable("listening", error)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if message is not None and (channel := message["channel"].decode()) in self.wanted:
                yield channel, message["data"]

    async def _listen_again(self) -> None:
        """Subscribes to every wanted channel on a new connection (also those whose subscribing
        failed while Redis was away)."""
        async with self.changing:
            if self.wanted:
                await self._pub_sub.subscribe(*self.wanted)
        self.lost = False
        log.info("Redis is reachable again; %d meeting(s) catch up from the database", len(self.wanted))
