"""Presence across processes (rounds.presence.SharedPresence) on a real Redis: two processes'
members in one list, told to every process's subscribers; someone on two processes is there
once; a process that dies takes its members out within the heartbeat time; a process that
stops takes them out at once; a Redis that lost everything is told again."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.channels import ChannelsPlugin
from litestar.channels.subscriber import Subscriber
from redis.asyncio import Redis

from consent.base import pubsub
from rounds import live
from rounds.presence import SharedPresence

HEARTBEAT = 0.8


@pytest.fixture
async def channels(redis_url: str) -> AsyncIterator[ChannelsPlugin]:
    async with ChannelsPlugin(backend=pubsub.backend(redis_url), arbitrary_channels_allowed=True) as plugin:
        yield plugin


async def started(redis_url: str) -> SharedPresence:
    presence = SharedPresence(pubsub.redis_client(redis_url), HEARTBEAT)
    await presence.start()
    return presence


async def told(subscriber: Subscriber, check: Any, timeout: float = 10) -> list[str]:
    """The names of the first presence list that passes `check`."""
    deadline = time.monotonic() + timeout
    while True:
        payload = await asyncio.wait_for(subscriber._queue.get(), deadline - time.monotonic())
        names = [p["name"] for p in json.loads(payload)["present"]]  # type: ignore[arg-type]
        if check(names):
            return names


async def test_one_list_for_every_process(redis_url: str, channels: ChannelsPlugin) -> None:
    meeting = uuid.uuid4()
    listening = await channels.subscribe(live.channel(meeting))
    first, second = await started(redis_url), await started(redis_url)
    ada, bo, cy = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    first.join(meeting, ada, "Ada")
    first.announce(meeting, channels)
    assert await told(listening, lambda names: True) == ["Ada"]
    second.join(meeting, cy, "Cy")
    second.join(meeting, ada, "Ada")  # a second tab, on the other process
    second.join(meeting, bo, "Bo")
    second.announce(meeting, channels)
    assert await told(listening, lambda names: len(names) == 3) == ["Ada", "Bo", "Cy"]

    second.leave(meeting, ada)  # still there on the first process
    second.leave(meeting, cy)
    await asyncio.sleep(live.PRESENCE_QUIET_SECONDS + 0.05)
    second.announce(meeting, channels)
    assert await told(listening, lambda names: "Cy" not in names) == ["Ada", "Bo"]

    # The second process dies: nothing said, its keys are no longer refreshed.
    assert second.refreshing is not None and second.task is not None
    second.refreshing.cancel()
    second.task.cancel()
    gone = time.monotonic()
    assert await told(listening, lambda names: names == ["Ada"]) == ["Ada"]
    assert time.monotonic() - gone <= HEARTBEAT + 0.3

    await first.stop()  # a process that stops takes its members out at once
    assert await told(listening, lambda names: True, timeout=2) == []
    await channels.unsubscribe(listening)
    for stopped in (first, second):
        await stopped.redis.aclose()


async def test_a_redis_that_lost_everything_is_told_again(redis_url: str, channels: ChannelsPlugin) -> None:
    meeting = uuid.uuid4()
    listening = await channels.subscribe(live.channel(meeting))
    presence = await started(redis_url)
    presence.join(meeting, uuid.uuid4(), "Ada")
    presence.announce(meeting, channels)
    assert await told(listening, lambda names: True) == ["Ada"]
    async with Redis.from_url(redis_url) as redis:  # as after a restart, for this meeting
        await redis.delete(*await redis.keys(f"consent:presence:{meeting}*"))
    # Within a refresh its part is written again, and the meeting told (nothing was said there).
    assert await told(listening, lambda names: True, timeout=HEARTBEAT) == ["Ada"]
    async with Redis.from_url(redis_url) as redis:
        assert await redis.exists(f"consent:presence:{meeting}:{presence.process}")
    await presence.stop()
    await presence.redis.aclose()
    await channels.unsubscribe(listening)
