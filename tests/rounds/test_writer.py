"""The action writer (rounds.writer) on a real database: actions that arrive together are
committed together, each answered with its own outcome or refusal, published once, and one
action's failure does not fail the others."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consent.base import db
from consent.base.errors import Refusal
from consent.base.settings import Settings
from rounds.actions import decode
from rounds.models import Event
from rounds.services import Attempt, Outcome
from rounds.writer import ActionWriter
from tests.rounds.conftest import Circle

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Counted:
    """The app's session maker, counting the transactions the writer opens."""

    def __init__(self, sessions: Callable[[], AsyncSession]) -> None:
        self.sessions, self.opened = sessions, 0

    def __call__(self) -> AsyncSession:
        self.opened += 1
        return self.sessions()


@pytest.fixture
async def sessions(circle: Circle, settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions of the test's own: the app's engine belongs to the app's event loop."""
    engine = db.create_engine(settings.database_url)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


@pytest.fixture
async def writer(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Any]:
    counted = Counted(sessions)
    published: list[tuple[uuid.UUID, list[dict[str, Any]]]] = []

    async def publish(proposal_id: uuid.UUID, events: list[dict[str, Any]], after: Any) -> None:
        row, state = after  # the proposal after the events, for the page's update
        assert row.seq == state.seq == events[-1]["seq"]
        published.append((proposal_id, events))

    started = ActionWriter(counted, publish)
    await started.start()
    yield started, counted, published
    await started.stop()


async def live_proposal(circle: Circle) -> uuid.UUID:
    # Di proposes, so Di answers the clarifying questions and is skipped in that round's turns.
    proposal = await circle.propose("di", mode="live", closes_at=None)
    for who in ("ada", "bo", "cy", "di"):
        await circle.ok(proposal["id"], who, "present")
    await circle.ok(proposal["id"], "ada", "start")
    return uuid.UUID(proposal["id"])


def attempt(circle: Circle, who: str, proposal_id: uuid.UUID, type_: str, client_id: str, **data: Any) -> Attempt:
    return Attempt(
        uuid.UUID(circle.ids[who]), proposal_id, decode({"type": type_, "client_id": client_id, **data}), NOW
    )


async def log_of(sessions: async_sessionmaker[AsyncSession], proposal_id: uuid.UUID) -> list[Event]:
    async with sessions() as session:
        return list(await session.scalars(select(Event).where(Event.proposal_id == proposal_id).order_by(Event.seq)))


async def test_actions_that_arrive_together_are_committed_together_in_order(circle: Circle, writer: Any) -> None:
    started, counted, published = writer
    first, second = await live_proposal(circle), await live_proposal(circle)
    # Ada asks a question in each; then Di, the author, answers it 40 times in each, all at once.
    asked = [attempt(circle, "ada", p, "question", f"ask-{p}", text="Why?") for p in (first, second)]
    await asyncio.gather(*(started.submit(a) for a in asked))
    opened = counted.opened
    answers = [
        attempt(circle, "di", p, "answer", f"answer-{p}-{n}", question_id="q1", text=f"answer {n}")
        for n in range(40)
        for p in (first, second)
    ]
    outcomes = await asyncio.gather(*(started.enqueue(a) for a in answers))  # as sockets: after publishing
    assert counted.opened - opened < 5  # 80 actions, queued at once, take a transaction or a few
    for proposal_id in (first, second):
        log = await log_of(counted.sessions, proposal_id)
        assert [e.seq for e in log] == list(range(1, len(log) + 1))  # contiguous
        answered = [e.data["text"] for e in log if e.type == "question_answered"]
        assert answered == [f"answer {n}" for n in range(40)]  # in the order they arrived
    assert all(isinstance(o, Outcome) and len(o.json) == 1 for o in outcomes)
    assert len({(a.proposal_id, o.seq) for a, o in zip(answers, outcomes)}) == 80
    # each proposal's events of one transaction are published together, in seq order, each once
    for proposal_id in (first, second):
        seqs = [e["seq"] for p, events in published if p == proposal_id for e in events]
        assert seqs == list(range(seqs[0], seqs[0] + 41))
    assert len(published) < 10


async def test_each_action_gets_its_own_answer_and_a_refusal_changes_nothing(circle: Circle, writer: Any) -> None:
    started, counted, published = writer
    proposal_id = await live_proposal(circle)
    before = await log_of(counted.sessions, proposal_id)
    batch = [
        attempt(circle, "bo", proposal_id, "pass", "bo-out-of-turn"),  # Ada's turn
        attempt(circle, "zed", proposal_id, "pass", "zed-1"),  # not in the circle
        attempt(circle, "ada", uuid.uuid4(), "pass", "nowhere"),  # no such proposal
        attempt(circle, "ada", proposal_id, "question", "ada-ask", text="Who drives?"),
        attempt(circle, "ada", proposal_id, "question", "ada-ask", text="Who drives?"),  # sent twice at once
    ]

    async def without_client_id() -> Outcome:  # refused where it arrives, before the writer
        return await started.submit(Attempt(uuid.UUID(circle.ids["ada"]), proposal_id, decode({"type": "pass"}), NOW))

    results = await asyncio.gather(*(started.enqueue(a) for a in batch), without_client_id(), return_exceptions=True)
    codes = [r.code if isinstance(r, Refusal) else r for r in results]
    assert codes[0] == "not_your_turn" and codes[1] == "not_found" and codes[2] == "not_found"
    assert codes[5] == "invalid"
    assert isinstance(results[3], Outcome) and results[4] is results[3]  # one question, one answer for both
    assert [e.seq for e in await log_of(counted.sessions, proposal_id)] == [e.seq for e in before] + [len(before) + 1]
    assert [events[0]["type"] for _, events in published] == ["question_asked"]  # published once
    retried = await started.enqueue(attempt(circle, "ada", proposal_id, "question", "ada-ask", text="Who drives?"))
    assert retried.repeated and retried.seq == results[3].seq and retried.json == results[3].json
    assert len(published) == 1  # a retry is answered, not published again


async def test_a_request_is_answered_once_committed_and_a_socket_once_published(
    circle: Circle, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A request's answer carries its events: it does not wait for the live pages' update (in a
    circle of 2,000 that renders everyone). A socket's ack never overtakes its event."""
    proposal_id = await live_proposal(circle)
    release, published = asyncio.Event(), []

    async def slow_publish(proposal_id: uuid.UUID, events: list[dict[str, Any]], after: Any) -> None:
        await release.wait()
        published.append([e["seq"] for e in events])

    started = ActionWriter(sessions, slow_publish)
    await started.start()
    try:
        answered = await asyncio.wait_for(
            started.submit(attempt(circle, "ada", proposal_id, "question", "asked", text="Why?")), 10
        )
        assert answered.json[0]["type"] == "question_asked" and published == []
        assert [e.seq for e in await log_of(sessions, proposal_id)][-1] == answered.seq  # committed
        release.set()
        acked = started.enqueue(attempt(circle, "bo", proposal_id, "pass", "bo-passes"))
        release.clear()  # this one's publishing waits again
        await asyncio.sleep(0.2)
        assert not acked.done()  # held until its event is out
        release.set()
        outcome = await asyncio.wait_for(acked, 10)
        assert published[-1][-1] == outcome.seq
    finally:
        release.set()
        await started.stop()


async def test_one_action_failing_does_not_fail_the_others(circle: Circle, writer: Any) -> None:
    started, counted, _ = writer
    first, second = await live_proposal(circle), await live_proposal(circle)
    broken = Attempt(
        uuid.UUID(circle.ids["ada"]), first, decode({"type": "question", "client_id": "bad", "text": "?"}), "not a time"
    )  # type: ignore[arg-type]  # the database refuses to store it
    good = [
        attempt(circle, "ada", second, "question", "good", text="Who drives?"),
        attempt(circle, "ada", first, "pass", "ada-pass"),
    ]
    results = await asyncio.gather(
        started.submit(good[0]), started.submit(broken), started.submit(good[1]), return_exceptions=True
    )
    assert isinstance(results[0], Outcome) and isinstance(results[2], Outcome)
    assert isinstance(results[1], Exception) and not isinstance(results[1], Refusal)
    assert [e.type for e in await log_of(counted.sessions, first)][-1] == "passed"
    assert [e.type for e in await log_of(counted.sessions, second)][-1] == "question_asked"


async def test_stopping_writes_what_is_queued_then_refuses_more(circle: Circle, writer: Any) -> None:
    started, _counted, _ = writer
    proposal_id = await live_proposal(circle)
    queued = asyncio.ensure_future(started.submit(attempt(circle, "ada", proposal_id, "pass", "last-pass")))
    await asyncio.sleep(0)  # in the queue
    await started.stop()
    assert isinstance(await queued, Outcome)
    with pytest.raises(RuntimeError, match="not taking actions"):
        await started.submit(attempt(circle, "bo", proposal_id, "pass", "too-late"))


async def test_two_processes_writing_one_proposal_keep_its_seq_contiguous(circle: Circle, settings: Settings) -> None:
    """Two writers on two engines, as two server processes: their batches on one proposal take
    its row in turn (SELECT ... FOR UPDATE on PostgreSQL; SQLite has one writer at a time), so
    seq has no gap and no repeat."""
    proposal_id = await live_proposal(circle)
    await circle.ok(str(proposal_id), "ada", "question", text="Why?")
    engines = [db.create_engine(settings.database_url) for _ in range(2)]
    published: list[int] = []

    async def publish(_: uuid.UUID, events: list[dict[str, Any]], after: Any) -> None:
        published.extend(e["seq"] for e in events)

    counted = [Counted(async_sessionmaker(engine, expire_on_commit=False)) for engine in engines]
    writers = [ActionWriter(sessions, publish) for sessions in counted]
    for started in writers:
        await started.start()
    try:
        answers = [
            attempt(circle, "di", proposal_id, "answer", f"answer-{n}", question_id="q1", text=f"answer {n}")
            for n in range(60)
        ]
        outcomes = []
        for wave in range(0, 60, 20):  # the two writers' transactions overlap, wave after wave
            outcomes += await asyncio.gather(
                *(writers[n % 2].submit(a) for n, a in enumerate(answers[wave : wave + 20]))
            )
    finally:
        for started in writers:
            await started.stop()
    log = await log_of(async_sessionmaker(engines[0], expire_on_commit=False), proposal_id)
    for engine in engines:
        await engine.dispose()
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert sorted(o.seq for o in outcomes) == [e.seq for e in log[-60:]]
    assert sorted(published) == [e.seq for e in log[-60:]]  # each published once, by the one that wrote it
    # One transaction a wave for each writer: the other's batch waited for the row, rather than
    # both writing the same seq and one falling back to an action at a time.
    assert counted[0].opened + counted[1].opened <= 8
