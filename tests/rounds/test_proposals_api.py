"""The proposal API of API.md through the real app on a real database: the consent process
from draft to decision, retries, every refusal in the error envelope, and the async deadline."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consent.base import db
from consent.base.settings import Settings
from rounds.models import Decision, Event
from rounds.scheduler import tick
from tests.helpers import assert_refused, proposal_body
from tests.rounds.conftest import Circle, MovableClock


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The notifier works only when an action wakes it: one test migrates the database under
    the running app, and a pass at that moment would deadlock with the migration on PostgreSQL
    (a server migrates before it starts its work, never under it)."""
    return dataclasses.replace(settings, tick_seconds=3600)


async def to_consenting(circle: Circle, proposal_id: str) -> None:
    for step in ("start", "advance", "advance"):
        await circle.ok(proposal_id, "ada", step)


async def events(circle: Circle, proposal_id: str, since: int = 0) -> list[dict]:
    response = await circle.client.get(
        f"/api/proposals/{proposal_id}/events?since={since}", headers=circle.people["bo"]
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_new_proposal_is_a_draft_at_revision_one(circle: Circle) -> None:
    proposal = await circle.propose(criteria=["Less food in the bin by March", " Everyone gets a share "])
    assert (proposal["state"], proposal["revision"], proposal["seq"], proposal["mode"]) == ("draft", 1, 0, "async")
    assert (proposal["kind"], proposal["review"]) == ("proposal", None)
    assert proposal["revisions"][0]["text"] == "We collect on Fridays and share on Saturdays."
    assert proposal["author"]["name"] == "Ada"
    assert proposal["criteria"] == ["Less food in the bin by March", "Everyone gets a share"]
    assert proposal["evaluation"] == "Less food in the bin by March\nEveryone gets a share"  # the same, as one text
    assert {p["name"] for p in proposal["participants"]} == {"Ada", "Bo", "Cy", "Di"}


async def test_an_evaluation_is_taken_as_the_one_criterion(circle: Circle) -> None:
    proposal = await circle.propose(evaluation="Less food in the bin by March")
    assert proposal["criteria"] == ["Less food in the bin by March"]
    assert (await circle.propose(evaluation="  "))["criteria"] == []
    both = await circle.client.post(
        f"/api/circles/{circle.id}/proposals",
        json=proposal_body(circle.domain_id, "2026-11-30T09:00:00Z", criteria=["A"], evaluation="B"),
        headers=circle.people["ada"],
    )
    assert "evaluation" in assert_refused(both, 422, "invalid")


async def test_async_objection_integrated_by_amendment_then_decided(circle: Circle) -> None:
    proposal_id = (await circle.propose(review_by="2027-03-01"))["id"]
    await circle.ok(proposal_id, "ada", "start")
    question = await circle.ok(proposal_id, "bo", "question", text="Who has a car?")
    await circle.ok(proposal_id, "ada", "answer", question_id=question["event"]["data"]["question_id"], text="Cy does.")
    await circle.ok(proposal_id, "ada", "advance")
    await circle.ok(proposal_id, "cy", "reaction", text="Love it")
    await circle.ok(proposal_id, "ada", "advance")
    objection = await circle.ok(proposal_id, "bo", "object", text="Saturdays clash with the market")
    for name in ("ada", "cy"):
        await circle.ok(proposal_id, name, "consent")
    await circle.ok(proposal_id, "di", "concern", text="Storage overnight")
    moved = await circle.ok(proposal_id, "ada", "advance")
    assert moved["event"]["data"]["to"] == "integrating"

    amended = await circle.ok(proposal_id, "ada", "amend", text="We collect on Fridays and share on Sundays.")
    assert [e["type"] for e in amended["events"]] == ["amended", "phase_changed"]
    state = await circle.get(proposal_id)
    assert state["revision"] == 2 and state["state"] == "consenting"
    assert state["objections"][0]["status"] == "integrated" and state["objections"][0]["integrated_by"] == 2
    assert [r["number"] for r in state["revisions"]] == [1, 2]

    for name in ("bo", "cy", "ada"):
        await circle.ok(proposal_id, name, "consent")
    last = await circle.ok(proposal_id, "di", "concern", text="Still storage")
    assert [e["type"] for e in last["events"]] == ["responded", "decided"]
    assert (await circle.get(proposal_id))["state"] == "decided"

    async with db_session(circle) as session:
        decision = await session.scalar(select(Decision))
    assert decision.text == "We collect on Fridays and share on Sundays." and decision.revision == 2
    assert decision.review_by.isoformat() == "2027-03-01"
    assert {r["member"]["name"]: r["kind"] for r in decision.record["responses"]} == {
        "Ada": "consent",
        "Bo": "consent",
        "Cy": "consent",
        "Di": "concern",
    }
    assert [c["text"] for c in decision.record["concerns"]] == ["Still storage"]  # the final revision's
    assert decision.record["objections"][0]["id"] == objection["event"]["data"]["objection_id"]
    assert decision.record["objections"][0]["integrated_by"] == 2


@contextlib.asynccontextmanager
async def db_session(circle: Circle) -> AsyncIterator[AsyncSession]:
    """A session of the test's own: the app's engine belongs to the app's event loop."""
    engine = db.create_engine(circle.settings.database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            yield session
    finally:
        await engine.dispose()


async def test_review_date_defaults_to_the_circles_period(circle: Circle, clock: MovableClock) -> None:
    proposal_id = (await circle.propose())["id"]
    await to_consenting(circle, proposal_id)
    for name in ("ada", "bo", "cy", "di"):
        await circle.ok(proposal_id, name, "consent")
    async with db_session(circle) as session:
        decision = await session.scalar(select(Decision))
    assert decision.review_by.isoformat() == "2027-05-23"  # six months after 2026-11-23


async def test_the_review_date_is_proposed_when_the_consent_round_opens_and_decided_as_consented(
    circle: Circle, clock: MovableClock
) -> None:
    proposal_id = (await circle.propose(criteria=["Less waste"]))["id"]
    await circle.ok(proposal_id, "ada", "start")
    await circle.ok(proposal_id, "ada", "advance")
    clock.move(days=2)  # the consent round opens on 2026-11-25: the circle's six months from then
    opened = await circle.ok(proposal_id, "ada", "advance")
    assert opened["event"]["data"] == {"from": "reacting", "to": "consenting", "round": 3, "review_by": "2027-05-25"}
    assert (await circle.get(proposal_id))["review_by"] == "2027-05-25"
    page = await circle.client.get(f"/proposals/{proposal_id}", headers=circle.people["bo"])
    assert "Consenting includes the review date: <strong>review by" in page.text and "2027-05-25" in page.text

    await circle.ok(proposal_id, "bo", "object", text="Six months is too long to wait")
    for name in ("ada", "cy", "di"):
        await circle.ok(proposal_id, name, "consent")
    await circle.ok(proposal_id, "ada", "advance")  # to integration
    # A review date that is not in the future is refused, and changes nothing.
    state = await circle.get(proposal_id)
    for day in ("2026-11-25", "2026-01-01"):
        refused = await circle.act(proposal_id, "ada", "amend", text="Sundays.", review_by=day)
        message = assert_refused(refused, 422, "invalid", field="review_by")
        assert message == "The review date must be in the future."
    assert await circle.get(proposal_id) == state
    amended = await circle.ok(
        proposal_id, "ada", "amend", text="Sundays.", review_by="2027-02-01", criteria=["Less waste", "Fewer trips"]
    )
    assert amended["events"][0]["data"]["review_by"] == "2027-02-01"
    assert amended["events"][1]["data"]["review_by"] == "2027-02-01"  # the new consent round proposes it
    clock.move(days=20)  # the decision takes the date consented to, whenever it comes
    for name in ("ada", "bo", "cy", "di"):
        await circle.ok(proposal_id, name, "consent")
    state = await circle.get(proposal_id)
    decision = await circle.client.get(f"/api/decisions/{state['decision_id']}", headers=circle.people["bo"])
    assert (decision.json()["review_by"], decision.json()["criteria"]) == ("2027-02-01", ["Less waste", "Fewer trips"])


async def test_only_a_review_skips_to_the_consent_round(circle: Circle) -> None:
    proposal_id = (await circle.propose())["id"]
    await circle.ok(proposal_id, "ada", "start")
    refused = await circle.act(proposal_id, "ada", "advance", to="consenting")
    assert_refused(refused, 409, "not_a_review")
    assert_refused(await circle.act(proposal_id, "ada", "advance", to="decided"), 422, "invalid")
    assert (await circle.get(proposal_id))["state"] == "clarifying"


async def test_a_retried_action_is_applied_once_and_answered_alike(circle: Circle) -> None:
    proposal_id = (await circle.propose())["id"]
    await to_consenting(circle, proposal_id)
    first = await circle.act(proposal_id, "bo", "object", client_id="bo-1", text="Too soon")
    again = await circle.act(proposal_id, "bo", "object", client_id="bo-1", text="Too soon")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    state = await circle.get(proposal_id)
    assert state["seq"] == 4 and len(state["objections"]) == 1

    # A client_id is its sender's: Cy's objection with Bo's id is refused, not taken for Bo's retry.
    taken = await circle.act(proposal_id, "cy", "object", client_id="bo-1", text="Not in winter")
    assert_refused(taken, 409, "client_id_taken", field="client_id")
    assert (await circle.get(proposal_id))["seq"] == 4
    assert (await circle.act(proposal_id, "cy", "object", client_id="cy-1", text="Not in winter")).status_code == 200


async def test_a_retry_is_answered_alike_across_the_migration_of_its_bookkeeping(circle: Circle) -> None:
    """0004 moves how many events an action made out of the first event's data into a column
    (and back on the way down); a retry is answered with all of them either way."""
    proposal_id = (await circle.propose())["id"]
    await to_consenting(circle, proposal_id)
    await circle.ok(proposal_id, "ada", "consent")
    await circle.ok(proposal_id, "bo", "consent")
    await circle.ok(proposal_id, "cy", "consent")
    first = await circle.act(proposal_id, "di", "concern", client_id="di-1", text="Keys")  # responded, decided
    assert [e["type"] for e in first.json()["events"]] == ["responded", "decided"]
    for _ in range(100):  # the notifier has told the decision: it sleeps while the schema changes
        told = (await circle.client.get("/api/notifications", headers=circle.people["bo"])).json()["items"]
        if any(n["kind"] == "decided" for n in told):
            break
        await asyncio.sleep(0.05)

    async def counted() -> list[tuple[int | None, bool]]:
        async with db_session(circle) as session:
            rows = await session.execute(text("SELECT * FROM event WHERE client_id = 'di-1'"))
            row = rows.mappings().one()
            data = json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]
            return row.get("action_events"), data.get("_count")

    config = db.alembic_config(circle.settings.database_url)
    await asyncio.to_thread(command.downgrade, config, "0003")
    assert await counted() == (None, 2)
    await asyncio.to_thread(command.upgrade, config, "head")
    assert await counted() == (2, None)
    again = await circle.act(proposal_id, "di", "concern", client_id="di-1", text="Keys")
    assert again.status_code == 200 and again.json() == first.json()


async def test_events_since_n_are_contiguous_and_in_order(circle: Circle) -> None:
    proposal_id = (await circle.propose())["id"]
    await to_consenting(circle, proposal_id)
    await circle.ok(proposal_id, "bo", "consent")
    assert [e["seq"] for e in await events(circle, proposal_id)] == [1, 2, 3, 4]
    later = await events(circle, proposal_id, since=2)
    assert [e["seq"] for e in later] == [3, 4]
    assert later[1]["actor"]["name"] == "Bo" and later[1]["data"]["kind"] == "consent"
    assert set(later[0]) == {"seq", "type", "at", "actor", "data"}
    for since in ("-1", str(2**63)):  # a seq is a 64-bit integer: beyond it, a clear 400, not a 500
        response = await circle.client.get(
            f"/api/proposals/{proposal_id}/events?since={since}", headers=circle.people["bo"]
        )
        assert "since" in assert_refused(response, 400, "invalid")


async def test_options_says_what_a_path_allows_and_asks_who_is_asking(circle: Circle) -> None:
    proposal_id = (await circle.propose())["id"]
    paths = ["/api/circles", "/api/decisions", "/api/decisions/feed", f"/api/proposals/{proposal_id}", "/circles"]
    for path in paths:
        allowed = await circle.client.options(path, headers=circle.people["bo"])
        assert allowed.status_code == 204 and "OPTIONS" in allowed.headers["allow"], (path, allowed.text)
        anonymous = await circle.client.options(path)
        assert anonymous.status_code == 401, (path, anonymous.text)  # was a 500 with an internal message


@pytest.mark.parametrize(
    ("setup", "who", "action", "data", "status", "code"),
    [
        ("draft", "bo", "advance", {}, 409, "wrong_phase"),
        ("draft", "bo", "start", {}, 403, "not_facilitator"),
        ("consenting", "bo", "object", {"text": "  "}, 409, "objection_needs_reason"),
        ("consenting", "bo", "withdraw_objection", {"objection_id": "o7"}, 422, "no_such_objection"),
        ("consenting", "cy", "amend", {"text": "mine now"}, 409, "wrong_phase"),
        ("consenting", "ada", "advance", {}, 409, "round_incomplete"),
        ("consenting", "bo", "vote", {}, 422, "unknown_action"),
        ("consenting", "bo", "consent", {"on_behalf_of": "not-a-member"}, 403, "not_facilitator"),
        ("clarifying", "bo", "answer", {"question_id": "q1", "text": "x"}, 403, "not_author"),
        ("clarifying", "bo", "question", {"text": 5}, 422, "invalid"),
    ],
)
async def test_every_refusal_is_answered_in_the_envelope_and_changes_nothing(
    circle: Circle, setup: str, who: str, action: str, data: dict, status: int, code: str
) -> None:
    proposal_id = (await circle.propose())["id"]
    if setup != "draft":
        await circle.ok(proposal_id, "ada", "start")
    if setup == "consenting":
        await circle.ok(proposal_id, "ada", "advance")
        await circle.ok(proposal_id, "ada", "advance")
    before = await circle.get(proposal_id)
    assert_refused(await circle.act(proposal_id, who, action, **data), status, code)
    assert await circle.get(proposal_id) == before


async def test_already_responded_and_not_your_turn(circle: Circle) -> None:
    proposal_id = (await circle.propose())["id"]
    await to_consenting(circle, proposal_id)
    await circle.ok(proposal_id, "bo", "consent")
    assert_refused(await circle.act(proposal_id, "bo", "concern", text="changed my mind"), 409, "already_responded")
    live_id = (await circle.propose(mode="live", closes_at=None))["id"]
    for name in ("ada", "bo", "cy"):
        await circle.ok(live_id, name, "present")
    await circle.ok(live_id, "ada", "start")
    state = await circle.get(live_id)
    assert state["round"]["turn"]["name"] == "Bo"  # Ada proposed it: in the clarifying round she answers
    assert_refused(await circle.act(live_id, "ada", "question", text="?"), 409, "author_answers")
    assert_refused(await circle.act(live_id, "cy", "pass"), 409, "not_your_turn")
    assert_refused(await circle.act(live_id, "di", "pass"), 409, "not_present")


async def test_outsiders_see_nothing_and_change_nothing(circle: Circle) -> None:
    proposal_id = (await circle.propose())["id"]
    zed = circle.people["zed"]
    assert_refused(await circle.client.get(f"/api/proposals/{proposal_id}", headers=zed), 404, "not_found")
    assert_refused(await circle.client.get(f"/api/proposals/{proposal_id}/events", headers=zed), 404, "not_found")
    assert_refused(await circle.act(proposal_id, "zed", "consent"), 404, "not_found")
    assert_refused(
        await circle.client.post(f"/api/circles/{circle.id}/proposals", json={}, headers=zed), 400, "invalid"
    )
    assert_refused(await circle.client.get(f"/api/proposals/{proposal_id}"), 401, "not_signed_in")
    assert (await circle.get(proposal_id))["seq"] == 0


@pytest.mark.parametrize(
    ("fields", "status", "code", "field"),
    [
        ({"title": "  "}, 422, "invalid", "title"),
        ({"text": ""}, 422, "invalid", "text"),
        ({"mode": "vote"}, 400, "invalid", "mode"),
        ({"closes_at": None}, 422, "invalid", "closes_at"),
        ({"closes_at": "2020-01-01T00:00:00Z"}, 422, "invalid", "closes_at"),
        ({"review_by": "2026-11-01"}, 422, "invalid", "review_by"),
        ({"domain_id": "00000000-0000-4000-8000-000000000000"}, 422, "domain_not_held", "domain_id"),
        ({"supersedes": "00000000-0000-4000-8000-000000000000"}, 422, "invalid", "supersedes"),
        ({"owner": "me"}, 400, "invalid", "owner"),
        ({"criteria": ["Less waste", "Less waste"]}, 422, "invalid", "criteria"),
        ({"criteria": ["Less waste", " "]}, 422, "invalid", "criteria"),
        ({"criteria": [f"Criterion {n}" for n in range(21)]}, 400, "invalid", "criteria"),
    ],
)
async def test_bad_proposals_are_refused_and_create_nothing(
    circle: Circle, fields: dict, status: int, code: str, field: str
) -> None:
    body = {
        "title": "T",
        "driver": "D",
        "text": "X",
        "domain_id": circle.domain_id,
        "mode": "async",
        "closes_at": "2026-12-01T00:00:00Z",
        **fields,
    }
    response = await circle.client.post(f"/api/circles/{circle.id}/proposals", json=body, headers=circle.people["bo"])
    assert_refused(response, status, code, field=field)
    async with db_session(circle) as session:
        assert await session.scalar(select(func.count()).select_from(Event)) == 0


async def test_the_deadline_decides_or_integrates_by_the_circles_rule(
    circle: Circle, clock: MovableClock, settings: Settings
) -> None:
    silent = (await circle.propose(title="Silent"))["id"]
    objected = (await circle.propose(title="Objected"))["id"]
    for proposal_id in (silent, objected):
        await to_consenting(circle, proposal_id)
        await circle.ok(proposal_id, "ada", "consent")
    await circle.ok(objected, "bo", "object", text="Not safe")
    engine = db.create_engine(settings.database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        assert await tick(sessions, clock) == 0  # not due yet
        clock.move(days=8)
        assert await tick(sessions, clock) == 2
        assert await tick(sessions, clock) == 0  # closed once only
    finally:
        await engine.dispose()
    # silence is not consent by default: taken into the next live meeting
    assert ((await circle.get(silent))["state"], (await circle.get(silent))["mode"]) == ("consenting", "live")
    assert (await circle.get(objected))["state"] == "integrating"
    assert (await events(circle, objected))[-2]["data"] == {"outcome": "integrating"}


async def test_several_processes_passing_the_deadline_at_once_decide_it_once(
    circle: Circle, clock: MovableClock, settings: Settings
) -> None:
    """Three processes' schedulers (three engines) on the same due proposals: each proposal is
    decided by one of them (on PostgreSQL under an advisory lock, the others passing over it)."""
    due = [(await circle.propose(title=f"Due {n}"))["id"] for n in range(4)]
    for proposal_id in due:
        await to_consenting(circle, proposal_id)
        await circle.ok(proposal_id, "bo", "object", text="Not safe")
    clock.move(days=8)
    engines = [db.create_engine(settings.database_url) for _ in range(3)]
    try:
        passes = [tick(async_sessionmaker(engine, expire_on_commit=False), clock) for engine in engines]
        assert sum(await asyncio.gather(*passes)) == len(due)
    finally:
        for engine in engines:
            await engine.dispose()
    for proposal_id in due:
        logged = [e["type"] for e in await events(circle, proposal_id)]
        assert logged.count("deadline_passed") == 1
        assert (await circle.get(proposal_id))["state"] == "integrating"


async def test_silence_counts_as_consent_where_the_circle_says_so(
    circle: Circle, clock: MovableClock, settings: Settings
) -> None:
    # one member taking part is enough for this circle (by default a majority: three of four)
    changed = await circle.client.patch(
        f"/api/circles/{circle.id}", json={"silence_is_consent": True, "quorum": 1}, headers=circle.people["ada"]
    )
    assert changed.status_code == 200 and changed.json()["quorum"] == 1
    proposal_id = (await circle.propose())["id"]
    await to_consenting(circle, proposal_id)
    await circle.ok(proposal_id, "bo", "concern", text="Watch the cost")
    clock.move(days=8)
    engine = db.create_engine(settings.database_url)
    try:
        assert await tick(async_sessionmaker(engine, expire_on_commit=False), clock) == 1
    finally:
        await engine.dispose()
    state = await circle.get(proposal_id)
    assert state["state"] == "decided"
    closing = (await events(circle, proposal_id))[-5:]
    assert [e["type"] for e in closing] == ["deadline_passed", "responded", "responded", "responded", "decided"]
    # the silent are recorded as silent, never as consenting, in the log and in the decision
    silent = {circle.ids[name] for name in ("ada", "cy", "di")}
    assert {e["data"]["member"] for e in closing[1:4]} == silent
    assert {e["data"]["kind"] for e in closing[1:4]} == {"silent"}
    decision = await circle.client.get(f"/api/decisions/{state['decision_id']}", headers=circle.people["ada"])
    kinds = {r["member"]["id"]: r["kind"] for r in decision.json()["responses"]}
    assert kinds == {**dict.fromkeys(silent, "silent"), circle.ids["bo"]: "concern"}
    page = await circle.client.get(f"/decisions/{state['decision_id']}", headers=circle.people["ada"])
    assert page.status_code == 200
    for name in ("Ada", "Cy", "Di"):  # the record, and the history, say so
        assert f"{name}: was silent until the deadline" in page.text


async def test_a_live_meeting_driven_by_api_calls_reaches_a_decision(circle: Circle) -> None:
    proposal_id = (await circle.propose(mode="live", closes_at=None, title="Tool library"))["id"]
    early = await circle.ok(proposal_id, "di", "object", text="I cannot come: the storeroom floods")
    assert early["event"]["data"]["early"] is True
    for name in ("ada", "bo", "cy"):
        await circle.ok(proposal_id, name, "present")
    await circle.ok(proposal_id, "ada", "start")
    for name in ("bo", "cy"):  # clarifying: each in turn, but Ada, the author, answers
        await circle.ok(proposal_id, name, "pass")
    await circle.ok(proposal_id, "ada", "advance")
    await circle.ok(proposal_id, "ada", "reaction", text="Yes please")
    await circle.ok(proposal_id, "bo", "pass")
    await circle.ok(proposal_id, "cy", "reaction", text="Who keeps the keys?")
    await circle.ok(proposal_id, "ada", "advance")
    for name in ("ada", "bo", "cy"):
        await circle.ok(proposal_id, name, "consent")
    moved = await circle.ok(proposal_id, "ada", "advance")
    assert moved["event"]["data"]["to"] == "integrating"  # Di's early objection is open in the meeting
    await circle.ok(proposal_id, "ada", "amend", text="We start a tool library on the first floor.")
    for name in ("ada", "bo"):
        await circle.ok(proposal_id, name, "consent")
    # Cy has no device today: the facilitator records Cy's response, on Cy's turn
    recorded = await circle.ok(proposal_id, "ada", "concern", on_behalf_of=circle.ids["cy"], text="Keys")
    assert recorded["event"]["data"]["recorded_by"] == circle.ids["ada"]
    decided = await circle.ok(proposal_id, "ada", "advance")
    assert decided["event"]["type"] == "decided"
    state = await circle.get(proposal_id)
    assert state["state"] == "decided" and state["objections"][0]["integrated_by"] == 2
    assert [e["seq"] for e in await events(circle, proposal_id)] == list(range(1, state["seq"] + 1))


async def test_the_amendment_form_sets_the_review_date_and_the_criteria(circle: Circle) -> None:
    proposal_id = (await circle.propose(criteria=["Less waste"]))["id"]
    page = await circle.client.get(f"/proposals/{proposal_id}", headers=circle.people["ada"])
    assert '<textarea id="a-amend-criteria" name="criteria" rows="3" data-lines>Less waste</textarea>' in page.text
    form = {"type": "amend", "client_id": "form-amend", "text": "Sundays.", "criteria": "Less waste\n\n Fewer trips "}
    refused = await circle.client.post(
        f"/proposals/{proposal_id}/actions", data={**form, "review_by": "2026-01-01"}, headers=circle.people["ada"]
    )
    assert refused.status_code == 422 and "The review date must be in the future." in refused.text
    assert "Fewer trips </textarea>" in refused.text  # kept as typed
    done = await circle.client.post(
        f"/proposals/{proposal_id}/actions", data={**form, "review_by": "2027-02-01"}, headers=circle.people["ada"]
    )
    assert done.status_code == 200, done.text
    state = await circle.get(proposal_id)
    assert (state["criteria"], state["review_by"], state["revision"]) == (
        ["Less waste", "Fewer trips"],
        "2027-02-01",
        2,
    )
    cleared = {**form, "client_id": "form-amend-2", "criteria": ""}  # an empty field clears them
    assert (
        await circle.client.post(f"/proposals/{proposal_id}/actions", data=cleared, headers=circle.people["ada"])
    ).status_code == 200
    assert (await circle.get(proposal_id))["criteria"] == []
    # other forms have no criteria field: they leave the criteria alone
    await circle.client.post(
        f"/proposals/{proposal_id}/actions",
        data={"type": "start", "client_id": "form-start"},
        headers=circle.people["ada"],
    )
    assert (await circle.get(proposal_id))["state"] == "clarifying"
