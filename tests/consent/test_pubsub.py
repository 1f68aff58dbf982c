"""Channels over a real Redis (consent.base.pubsub): messages between two processes' plugins,
a publish while Redis is away is logged and nobody's publishing stops, and after a Redis
restart each listening channel is told to catch up, then hears live messages again."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

import pytest
from litestar.channels import ChannelsPlugin
from litestar.channels.subscriber import Subscriber

from consent.base import pubsub
from tests.conftest import RedisServer


def plugin(url: str) -> ChannelsPlugin:
    return ChannelsPlugin(backend=pubsub.backend(url), arbitrary_channels_allowed=True)


async def next_of(subscriber: Subscriber, timeout: float = 10) -> bytes:
    return await asyncio.wait_for(subscriber._queue.get(), timeout)  # type: ignore[return-value]


async def test_two_processes_hear_each_other(redis_url: str) -> None:
    channel = f"proposal:{uuid.uuid4()}"  # the suite's two passes share one Redis
    async with plugin(redis_url) as first, plugin(redis_url) as second:
        hearing = await second.subscribe(channel)
        mine = await first.subscribe(channel)
        await first.wait_published(b'{"seq":1}', channel)
        assert await next_of(hearing) == b'{"seq":1}'
        assert await next_of(mine) == b'{"seq":1}'
        await second.unsubscribe(hearing)
        await first.unsubscribe(mine)


@pytest.fixture
def own_redis(tmp_path: Path) -> RedisServer:
    server = RedisServer(tmp_path)
    server.start()
    yield server  # type: ignore[misc]
    server.stop()


async def test_redis_away_and_back(own_redis: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "consent.pubsub")
    channel, other = f"proposal:{uuid.uuid4()}", f"proposal:{uuid.uuid4()}"
    async with plugin(own_redis.url) as first, plugin(own_redis.url) as second:
        hearing = await second.subscribe(channel)
        await first.wait_published(b'{"seq":1}', channel)
        assert await next_of(hearing) == b'{"seq":1}'

        own_redis.stop()
        first.publish(b'{"seq":2}', channel)  # lost: the listeners catch up from the database
        await first.wait_published(b'{"seq":2}', channel)  # and it does not raise
        late = await second.subscribe(other)  # a socket arriving meanwhile is not refused
        assert any("Redis is unreachable" in r.getMessage() for r in caplog.records)

        own_redis.start()
        assert await next_of(hearing, timeout=20) == pubsub.CATCH_UP
        assert await next_of(late) == pubsub.CATCH_UP
        # Publishing and listening go on, for the channel subscribed while Redis was away too.
        first.publish(b'{"seq":3}', channel)
        first.publish(b'{"seq":1}', other)
        assert await next_of(hearing) == b'{"seq":3}'
        assert await next_of(late) == b'{"seq":1}'
        assert any("Redis is reachable again" in r.getMessage() for r in caplog.records)
        await second.unsubscribe(hearing)
        await second.unsubscribe(late)


async def test_meetings_opening_at_once_each_hear_their_events(redis_url: str) -> None:
    """Twenty sockets of twenty meetings subscribing at the same moment, as a hall of meetings
    opens: each channel hears what is published to it (redis-py's PubSub once made a
    connection for each of the first subscriptions at once, and read only the last one)."""
    channels = [f"proposal:{uuid.uuid4()}" for _ in range(20)]
    async with plugin(redis_url) as server:
        subscribers = await asyncio.gather(*(server.subscribe(channel) for channel in channels))
        for n, channel in enumerate(channels):
            await server.wait_published(f'{{"seq":{n}}}'.encode(), channel)
        heard = [await next_of(subscriber) for subscriber in subscribers]
        assert heard == [f'{{"seq":{n}}}'.encode() for n in range(20)]
        for subscriber in subscribers:
            await server.unsubscribe(subscriber)
