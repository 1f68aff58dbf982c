"""Who has a meeting open, across every server process, in Redis (docs/deploy.md).

Each process keeps, per meeting, a hash of the members whose sockets it holds, under a key
that expires unless the process refreshes it (every quarter of the heartbeat time): a
process that dies takes its members out of every meeting within the heartbeat time, and
after a Redis restart each process writes its part again at its next refresh. What the
meeting is told is read from every process's hash and published by Redis itself, in one
script, so that the lists said go out in the order the changes were made. The turn order is
not in here: it comes from the `present` events of the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import TYPE_CHECKING, Any

from litestar.channels import ChannelsPlugin

from consent.base.work import QueuedWork
from rounds import live

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline

log = logging.getLogger("consent.presence")

REFRESHES = 4  # per heartbeat time; a process's part lives three of them
SAID_MS = 24 * 3600 * 1000  # what a meeting was last told, kept to tell it only of changes
# KEYS: the meeting's set of processes, what it was last told; ARGV: the prefix of the
# processes' hashes, the meeting's channel, "1" to tell it even if nothing changed.
TELL = """
local people = {}
for _, process in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local here = redis.call('HGETALL', ARGV[1] .. process)
  if #here == 0 then redis.call('SREM', KEYS[1], process) end
  for i = 1, #here, 2 do people[here[i]] = here[i + 1] end
end
local sorted = {}
for id, name in pairs(people) do sorted[#sorted + 1] = {name, id} end
table.sort(sorted, function(a, b) if a[1] ~= b[1] then return a[1] < b[1] end return a[2] < b[2] end)
local entries = {}
for i, person in ipairs(sorted) do
  entries[i] = '{"id":' .. cjson.encode(person[2]) .. ',"name":' .. cjson.encode(person[1]) .. '}'
end
local message = '{"type":"presence","present":[' .. table.concat(entries, ',') .. ']}'
if ARGV[3] == '1' or redis.call('GET', KEYS[2]) ~= message then
  redis.call('SET', KEYS[2], message, 'PX', ARGV[4])
  redis.call('PUBLISH', ARGV[2], message)
end
"""

Change = tuple[str, uuid.UUID, Any]  # ("join", meeting, (member, name)) | ("leave" | "tell" | "refresh", meeting, _)


class SharedPresence(live.Presence, QueuedWork[Change]):
    """Presence as live.Presence keeps it, for this process's sockets, and its share in Redis;
    the changes are written in order by one task, those that waited together in one round
    trip (a hall arriving at once)."""

    def __init__(self, redis: Redis, heartbeat_seconds: float) -> None:
        live.Presence.__init__(self)
        QueuedWork.__init__(self)
        self.redis, self.process = redis, uuid.uuid4().hex
        self.every = heartbeat_seconds / REFRESHES
        self.ttl_ms = int(heartbeat_seconds * 1000 * (REFRESHES - 1) / REFRESHES)
        self.tell = redis.register_script(TELL)
        self.refreshing: asyncio.Task[None] | None = None
        self.failing = False

    @staticmethod
    def _key(proposal_id: uuid.UUID) -> str:
        return f"consent:presence:{proposal_id}"

    def join(self, proposal_id: uuid.UUID, member: uuid.UUID, name: str) -> None:
        super().join(proposal_id, member, name)
        if self._open[proposal_id][member] == 1:  # new here; a second tab changes nothing
            self.queue.put_nowait(("join", proposal_id, (member, name)))

    def leave(self, proposal_id: uuid.UUID, member: uuid.UUID) -> None:
        super().leave(proposal_id, member)
        if member not in self._open.get(proposal_id, ()):
            self.queue.put_nowait(("leave", proposal_id, member))

    def say(self, proposal_id: uuid.UUID, channels: ChannelsPlugin) -> None:
        self.queue.put_nowait(("tell", proposal_id, None))

    async def start(self) -> None:
        await QueuedWork.start(self)
        self.refreshing = asyncio.create_task(self.refresh())

    async def stop(self) -> None:
        """Takes this process's members out of its meetings at once, rather than when its
        keys expire."""
        if self.refreshing is not None:
            self.refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.refreshing
        for proposal_id in list(self._open):
            for member in list(self._open[proposal_id]):
                self.queue.put_nowait(("leave", proposal_id, member))
            self.queue.put_nowait(("tell", proposal_id, None))
        await QueuedWork.stop(self)

    async def refresh(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            for proposal_id in list(self._open):
                self.queue.put_nowait(("refresh", proposal_id, None))

    async def work(self, items: list[Change]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for kind, proposal_id, detail in items:
            key = self._key(proposal_id)
            mine = f"{key}:{self.process}"
            if kind == "leave":
                pipe.hdel(mine, str(detail))
                continue
            if kind in ("join", "refresh"):
                here = self._open.get(proposal_id)
                if not here:  # everyone left since
                    continue
                members = {str(detail[0]): detail[1]} if kind == "join" else {str(m): self._names[m] for m in here}
                pipe.hset(mine, mapping=members)
                pipe.pexpire(mine, self.ttl_ms)
                pipe.sadd(key, self.process)
                pipe.pexpire(key, SAID_MS)
            if kind != "join":  # a join is told by its socket's announce
                await self._tell(pipe, proposal_id, forced=kind == "tell")
        try:
            await pipe.execute()
        except Exception as error:  # the next refresh writes this process's part again
            if not self.failing:
                log.warning("presence could not be shared through Redis (%s); retried at the next refresh", error)
            self.failing = True
        else:
            self.failing = False

    async def _tell(self, pipe: Pipeline, proposal_id: uuid.UUID, forced: bool) -> None:
        key = self._key(proposal_id)
        await self.tell(
            keys=[key, f"{key}:said"],
            args=[f"{key}:", live.channel(proposal_id), "1" if forced else "0", SAID_MS],
            client=pipe,
        )
