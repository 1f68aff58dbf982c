"""Reviews by consent through the API on a real database: a review runs as a proposal of kind
"review", and its outcome (reaffirm with the next review date, retire, amend) changes the
decision only when the circle consents; not adopted or withdrawn, it changes nothing. One review
or amendment of a decision at a time, none of a decision no longer in force, an assessment for
each criterion, and the review date chosen in the consent round."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from consent.base import db
from consent.base.settings import Settings
from rounds.models import Decision
from rounds.scheduler import tick
from tests.consent.decisions.conftest import decide, open_review, reviewed, to_consent_round
from tests.helpers import assert_refused
from tests.rounds.conftest import Circle, MovableClock

CRITERIA = ["Less food in the bins", "Everyone gets a share"]
ASSESSED = [
    {"criterion": "Less food in the bins", "assessment": "Half of what it was."},
    {"criterion": "Everyone gets a share", "assessment": "The late shift misses out."},
]


async def read(circle: Circle, decision_id: str) -> dict[str, Any]:
    response = await circle.client.get(f"/api/decisions/{decision_id}", headers=circle.people["bo"])
    assert response.status_code == 200, response.text
    return response.json()


async def consent_but_one(circle: Circle, proposal_id: str) -> None:
    """Everyone but Di consents: the review is not decided yet."""
    for who in ("ada", "bo", "cy"):
        await circle.ok(proposal_id, who, "consent")
    assert (await circle.get(proposal_id))["state"] == "consenting"


async def test_a_reaffirmation_applies_only_when_consented(circle: Circle) -> None:
    d = await decide(circle, "Compost bins", review_by="2026-12-01", criteria=CRITERIA)
    assert (d["criteria"], d["evaluation"]) == (CRITERIA, "\n".join(CRITERIA))
    opened = await open_review(
        circle,
        d["id"],
        "bo",
        outcome="reaffirm",
        review_by="2027-06-01",
        text="The bins are full every week.",
        assessments=list(reversed(ASSESSED)),  # any order: kept in the decision's
    )
    assert set(opened) == {"review_id", "proposal_id"}
    proposal = await circle.get(opened["proposal_id"])
    assert (proposal["kind"], proposal["state"], proposal["author"]["name"]) == ("review", "draft", "Bo")
    assert proposal["review"] == {
        "id": opened["review_id"],
        "decision": {"id": d["id"], "name": "Compost bins"},
        "outcome": "reaffirm",
        "state": "open",
        "assessments": ASSESSED,
    }
    assert (proposal["title"], proposal["text"], proposal["review_by"]) == (
        "Review: Compost bins",
        "The bins are full every week.",
        "2027-06-01",
    )
    assert proposal["driver"].startswith("Its review date is 2026-12-01")
    [review] = (await read(circle, d["id"]))["reviews"]
    assert review == {
        "id": opened["review_id"],
        "decision_id": d["id"],
        "outcome": "reaffirm",
        "state": "open",
        "text": "The bins are full every week.",
        "by": {"id": circle.ids["bo"], "name": "Bo"},
        "at": "2026-11-23T09:00:00+00:00",
        "closed_at": None,
        "previous_review_by": "2026-12-01",
        "review_by": None,
        "assessments": ASSESSED,
        "proposal_id": opened["proposal_id"],
        "record": None,
    }

    await to_consent_round(circle, opened["proposal_id"])
    await consent_but_one(circle, opened["proposal_id"])
    assert (await read(circle, d["id"]))["review_by"] == "2026-12-01"  # not yet
    last = await circle.ok(opened["proposal_id"], "di", "concern", text="Check again in summer")
    assert [e["type"] for e in last["events"]] == ["responded", "decided"]

    after = await read(circle, d["id"])
    assert (after["review_by"], after["status"], after["text"]) == ("2027-06-01", "active", d["text"])
    [review] = after["reviews"]
    assert (review["state"], review["review_by"], review["closed_at"]) == (
        "consented",
        "2027-06-01",
        "2026-11-23T09:00:00+00:00",
    )
    assert {r["member"]["name"]: r["kind"] for r in review["record"]["responses"]} == {
        "Ada": "consent",
        "Bo": "consent",
        "Cy": "consent",
        "Di": "concern",
    }
    assert review["record"]["concerns"][0]["text"] == "Check again in summer"
    assert after["timeline"] == d["timeline"]  # the decision's own history is its proposal's
    reviewed_proposal = await circle.get(opened["proposal_id"])
    assert (reviewed_proposal["decision_id"], reviewed_proposal["review"]["state"]) == (None, "consented")


async def test_a_retirement_applies_only_when_consented_and_a_retired_decision_stays_retired(circle: Circle) -> None:
    d = await decide(circle, "Old cleaning rota")
    opened = await open_review(circle, d["id"], outcome="retire", text="Everyone cleans up now.")
    await circle.ok(opened["proposal_id"], "ada", "start")
    skipped = await circle.ok(opened["proposal_id"], "ada", "advance", to="consenting")
    assert "review_by" not in skipped["event"]["data"]  # a retirement has no review date
    await consent_but_one(circle, opened["proposal_id"])
    assert (await read(circle, d["id"]))["status"] == "active"
    await circle.ok(opened["proposal_id"], "di", "consent")
    after = await read(circle, d["id"])
    assert (after["status"], after["review_by"]) == ("retired", d["review_by"])
    assert (after["reviews"][0]["state"], after["reviews"][0]["review_by"]) == ("consented", None)

    # Retired, it is reviewed and amended no more.
    refused = await circle.client.post(
        f"/api/decisions/{d['id']}/reviews", json={"outcome": "reaffirm"}, headers=circle.people["ada"]
    )
    assert_refused(refused, 409, "not_in_force")
    amendment = await circle.client.post(
        f"/api/circles/{circle.id}/proposals",
        json={"title": "Rota", "driver": "D", "text": "T", "domain_id": circle.domain_id, "mode": "live"}
        | {"supersedes": d["id"]},
        headers=circle.people["ada"],
    )
    assert_refused(amendment, 409, "not_in_force")
    assert (await read(circle, d["id"]))["status"] == "retired"


async def test_an_amendment_supersedes_the_decision_only_when_consented(circle: Circle) -> None:
    d = await decide(circle, "Tool shelf", text="One shelf for tools.", criteria=["Tools are found"])
    opened = await open_review(
        circle,
        d["id"],
        outcome="amend",
        text="Two shelves for tools.",
        driver="One is full.",
        review_by="2027-03-01",
        criteria=["Tools are found", "Nothing on the floor"],
        assessments=[{"criterion": "Tools are found", "assessment": "When the shelf is not full."}],
    )
    proposal = await circle.get(opened["proposal_id"])
    assert (proposal["title"], proposal["driver"], proposal["supersedes"]) == ("Tool shelf", "One is full.", d["id"])
    assert proposal["criteria"] == ["Tools are found", "Nothing on the floor"]
    await to_consent_round(circle, opened["proposal_id"])
    await consent_but_one(circle, opened["proposal_id"])
    assert (await read(circle, d["id"]))["status"] == "active"
    await circle.ok(opened["proposal_id"], "di", "consent")

    old = await read(circle, d["id"])
    assert old["status"] == "superseded" and old["reviews"][0]["state"] == "consented"
    new = await read(circle, old["superseded_by"])
    assert (new["text"], new["review_by"], new["supersedes"], new["status"]) == (
        "Two shelves for tools.",
        "2027-03-01",
        d["id"],
        "active",
    )
    assert new["criteria"] == ["Tools are found", "Nothing on the floor"]
    assert old["reviews"][0]["record"] == {k: new[k] for k in ("responses", "concerns", "objections")}
    assert (await circle.get(opened["proposal_id"]))["decision_id"] == new["id"]


async def test_not_adopted_or_withdrawn_a_review_leaves_the_decision_as_it_was(circle: Circle) -> None:
    d = await decide(circle, "Compost bins", review_by="2026-12-01")
    opened = await open_review(circle, d["id"], outcome="retire")
    await to_consent_round(circle, opened["proposal_id"])
    await circle.ok(opened["proposal_id"], "bo", "object", text="We still need the bins")
    for who in ("ada", "cy", "di"):
        await circle.ok(opened["proposal_id"], who, "consent")
    await circle.ok(opened["proposal_id"], "ada", "advance")
    await circle.ok(opened["proposal_id"], "ada", "not_adopted", reason="The circle keeps the bins.")
    after = await read(circle, d["id"])
    assert (after["status"], after["review_by"]) == ("due", "2026-12-01")  # as it was
    [review] = after["reviews"]
    assert (review["state"], review["record"], review["closed_at"]) == (
        "not_adopted",
        None,
        "2026-11-23T09:00:00+00:00",
    )

    # Closed, it no longer holds the decision: another review may start, and be withdrawn.
    second = await open_review(circle, d["id"], "cy", outcome="reaffirm")
    await circle.ok(second["proposal_id"], "cy", "withdraw", reason="Wrong decision")
    after = await read(circle, d["id"])
    assert [r["state"] for r in after["reviews"]] == ["not_adopted", "withdrawn"]
    assert (after["status"], after["review_by"]) == ("due", "2026-12-01")  # as it was


async def test_one_open_review_or_amendment_of_a_decision_at_a_time(circle: Circle) -> None:
    d = await decide(circle, "Compost bins")
    reviews = f"/api/decisions/{d['id']}/reviews"
    first = await open_review(circle, d["id"], outcome="reaffirm")
    for body in ({"outcome": "retire"}, {"outcome": "amend", "text": "Three bins."}):
        assert_refused(await circle.client.post(reviews, json=body, headers=circle.people["bo"]), 409, "amendment_open")
    amendment = {"title": "Three bins", "driver": "D", "text": "Three bins.", "domain_id": circle.domain_id}
    made = await circle.client.post(
        f"/api/circles/{circle.id}/proposals",
        json={**amendment, "mode": "live", "supersedes": d["id"]},
        headers=circle.people["ada"],
    )
    assert_refused(made, 409, "amendment_open")
    assert len((await read(circle, d["id"]))["reviews"]) == 1  # nothing was made

    await circle.ok(first["proposal_id"], "ada", "withdraw")
    made = await circle.client.post(
        f"/api/circles/{circle.id}/proposals",
        json={**amendment, "mode": "live", "supersedes": d["id"]},
        headers=circle.people["ada"],
    )
    assert made.status_code == 201, made.text
    # an amendment proposal is open: no review meanwhile
    assert_refused(
        await circle.client.post(reviews, json={"outcome": "retire"}, headers=circle.people["bo"]),
        409,
        "amendment_open",
    )


async def test_a_decision_retired_meanwhile_stays_retired(circle: Circle, settings: Settings) -> None:
    d = await decide(circle, "Compost bins")
    opened = await open_review(circle, d["id"], outcome="amend", text="Two compost bins.")
    await to_consent_round(circle, opened["proposal_id"])
    # Retired by other means while the amendment runs (a review recorded at once before
    # reviews went by consent, say): deciding the amendment does not make it "superseded".
    engine = db.create_engine(settings.database_url)
    try:
        async with async_sessionmaker(engine)() as session:
            await session.execute(update(Decision).where(Decision.title == "Compost bins").values(status="retired"))
            await session.commit()
    finally:
        await engine.dispose()
    for who in ("ada", "bo", "cy", "di"):
        await circle.ok(opened["proposal_id"], who, "consent")
    old = await read(circle, d["id"])
    assert old["status"] == "retired" and old["reviews"][0]["state"] == "consented"


@pytest.mark.parametrize(
    ("assessments", "says"),
    [
        ([], "'Less food in the bins' has no assessment"),
        (ASSESSED[:1], "'Everyone gets a share' has no assessment"),
        ([*ASSESSED, {"criterion": "Cheaper", "assessment": "Yes"}], "'Cheaper' is not a criterion"),
        ([*ASSESSED, ASSESSED[0]], "assessed twice"),
        ([ASSESSED[0], {**ASSESSED[1], "assessment": "  "}], "'Everyone gets a share' has no assessment"),
        ([{"criterion": "Less food in the bins"}], "assessment"),
        ("Fine", "assessments"),
    ],
)
async def test_a_review_assesses_each_criterion_once_or_nothing_is_made(
    circle: Circle, assessments: Any, says: str
) -> None:
    d = await decide(circle, "Compost bins", criteria=CRITERIA)
    response = await circle.client.post(
        f"/api/decisions/{d['id']}/reviews",
        json={"outcome": "reaffirm", "assessments": assessments},
        headers=circle.people["bo"],
    )
    assert says in assert_refused(response, 422, "invalid", field="assessments")
    assert (await read(circle, d["id"]))["reviews"] == []
    page = await circle.client.get(f"/circles/{circle.id}", headers=circle.people["bo"])
    assert "No open proposals." in page.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "postpone"}, "outcome"),
        ({"outcome": "reaffirm", "review_by": "2026-11-23"}, "review_by"),  # today: not in the future
        ({"outcome": "reaffirm", "review_by": "someday"}, "review_by"),
        ({"outcome": "reaffirm", "review_by": "9999-12-31"}, "review_by"),  # no review (and broke the .ics)
        ({"outcome": "reaffirm", "review_by": "2036-11-24"}, "review_by"),  # more than 10 years ahead
        ({"outcome": "retire", "review_by": "2027-06-01"}, "review_by"),
        ({"outcome": "amend"}, "text"),
        ({"outcome": "reaffirm", "criteria": ["New"]}, "criteria"),
        ({"outcome": "amend", "text": "T", "criteria": ["A", "A"]}, "criteria"),
        ({"outcome": "reaffirm", "mode": "async"}, "closes_at"),
        ({"outcome": "reaffirm", "mode": "async", "closes_at": "2026-11-01T00:00:00Z"}, "closes_at"),
        ({"outcome": "reaffirm", "note": "The field before text"}, "note"),
        ({"outcome": "reaffirm", "text": "x" * 20_001}, "text"),
    ],
)
async def test_a_bad_review_is_refused_and_changes_nothing(circle: Circle, body: dict[str, Any], field: str) -> None:
    d = await decide(circle, "Compost bins")
    response = await circle.client.post(f"/api/decisions/{d['id']}/reviews", json=body, headers=circle.people["bo"])
    assert_refused(response, 422, "invalid", field=field)
    assert await read(circle, d["id"]) == d


async def test_the_review_date_is_chosen_in_the_consent_round(circle: Circle, clock: MovableClock) -> None:
    d = await decide(circle, "Compost bins", review_by="2026-12-01")
    opened = await open_review(circle, d["id"], outcome="reaffirm", closes_at="2026-12-31T09:00:00Z")
    proposal_id = opened["proposal_id"]
    assert (await circle.get(proposal_id))["review_by"] is None  # none proposed yet
    await circle.ok(proposal_id, "ada", "start")
    clock.move(days=7)  # 2026-11-30: the circle's six months run from the consent round's opening
    skipped = await circle.ok(proposal_id, "ada", "advance", to="consenting")
    assert skipped["event"]["data"]["review_by"] == "2027-05-30"
    await circle.ok(proposal_id, "cy", "object", text="Six months is too soon: it works well")
    for who in ("ada", "bo", "di"):
        await circle.ok(proposal_id, who, "consent")
    await circle.ok(proposal_id, "ada", "advance")  # integrating
    # Only an amendment of the decision changes criteria; the date must be in the future.
    for change, field in (({"criteria": ["New"]}, "criteria"), ({"review_by": "2026-11-30"}, "review_by")):
        refused = await circle.act(proposal_id, "ada", "amend", text="We keep it for a year.", **change)
        assert_refused(refused, 422, "invalid", field=field)
    amended = await circle.ok(proposal_id, "ada", "amend", text="We keep it for a year.", review_by="2027-11-30")
    assert amended["events"][1]["data"]["review_by"] == "2027-11-30"
    assert [o["status"] for o in (await circle.get(proposal_id))["objections"]] == ["integrated"]
    for who in ("ada", "bo", "cy", "di"):
        await circle.ok(proposal_id, who, "consent")
    after = await read(circle, d["id"])
    assert (after["review_by"], after["reviews"][0]["review_by"]) == ("2027-11-30", "2027-11-30")
    assert after["reviews"][0]["text"] == "We keep it for a year."  # the review's final revision


async def test_a_retirement_takes_no_review_date_in_its_amendments(circle: Circle) -> None:
    d = await decide(circle, "Compost bins")
    opened = await open_review(circle, d["id"], outcome="retire")
    refused = await circle.act(opened["proposal_id"], "ada", "amend", text="Retire it.", review_by="2027-01-01")
    assert assert_refused(refused, 422, "invalid", field="review_by") == "The review date: a retired decision has none."
    assert (await circle.get(opened["proposal_id"]))["revision"] == 1


async def test_a_review_is_decided_at_its_deadline(circle: Circle, clock: MovableClock, settings: Settings) -> None:
    changed = await circle.client.patch(
        f"/api/circles/{circle.id}", json={"silence_is_consent": True}, headers=circle.people["ada"]
    )
    assert changed.status_code == 200, changed.text
    d = await decide(circle, "Compost bins", review_by="2026-12-01")
    opened = await open_review(circle, d["id"], "di", outcome="reaffirm", review_by="2027-09-01")
    await to_consent_round(circle, opened["proposal_id"])
    for who in ("bo", "cy", "di"):  # a majority: the circle's quorum
        await circle.ok(opened["proposal_id"], who, "consent")
    clock.move(days=8)  # past DEADLINE: Ada was silent, which this circle lets pass
    engine = db.create_engine(settings.database_url)
    try:
        assert await tick(async_sessionmaker(engine, expire_on_commit=False), clock) == 1
    finally:
        await engine.dispose()
    after = await read(circle, d["id"])
    assert after["review_by"] == "2027-09-01"
    responses = {r["member"]["name"]: r["kind"] for r in after["reviews"][0]["record"]["responses"]}
    assert responses == {"Ada": "silent", "Bo": "consent", "Cy": "consent", "Di": "consent"}


async def test_only_members_of_the_circle_open_a_review(circle: Circle) -> None:
    d = await decide(circle, "Compost bins")
    outsider = await circle.client.post(
        f"/api/decisions/{d['id']}/reviews", json={"outcome": "retire"}, headers=circle.people["zed"]
    )
    assert_refused(outsider, 404, "not_found")
    await reviewed(circle, d["id"], who="cy", outcome="reaffirm")  # any member, not only the facilitator


def migrate(settings: Settings, revision: str) -> None:
    from alembic import command

    from tests.conftest import in_thread

    config = db.alembic_config(settings.database_url)
    in_thread(command.downgrade if revision != "head" else command.upgrade, config, revision)


async def test_migration_0006_keeps_each_evaluation_as_the_one_criterion_and_the_history_of_reviews(
    circle: Circle, settings: Settings
) -> None:
    d = await decide(circle, "Tool shelf", criteria=["Tools are found"])
    opened = await open_review(
        circle,
        d["id"],
        outcome="amend",
        text="Two shelves.",
        assessments=[{"criterion": "Tools are found", "assessment": "Mostly."}],
    )
    await to_consent_round(circle, opened["proposal_id"])
    for who in ("ada", "bo", "cy", "di"):
        await circle.ok(opened["proposal_id"], who, "consent")
    before = await read(circle, d["id"])
    migrate(settings, "0004")  # before reviews by consent: an evaluation, and an amendment's proposal
    engine = db.create_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            evaluations = (await conn.execute(text("SELECT evaluation FROM decision"))).scalars().all()
    finally:
        await engine.dispose()
    assert evaluations == ["Tools are found", "Tools are found"]
    migrate(settings, "head")
    after = await read(circle, d["id"])
    assert after["criteria"] == ["Tools are found"]
    [review] = after["reviews"]
    # What 0004 kept of the review comes back; the assessments were not kept before 0006.
    assert {k: review[k] for k in ("outcome", "state", "review_by", "record", "proposal_id")} == {
        k: before["reviews"][0][k] for k in ("outcome", "state", "review_by", "record", "proposal_id")
    }
    assert (await circle.get(opened["proposal_id"]))["kind"] == "review"
    new = await read(circle, after["superseded_by"])
    assert new["criteria"] == ["Tools are found"] and new["text"] == "Two shelves."
