"""The decision API of API.md on a real database: a decision's record, every filter and their
combinations against an oracle, full-text search that finds the driver, text, concerns and
objections and nothing the viewer may not see, cursor pages, reviews and the supersede chain."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker

from consent.base import db
from consent.base.settings import Settings
from consent.decisions import rules
from rounds.models import Decision
from tests.consent.decisions.conftest import decide, reviewed
from tests.helpers import add_domain, add_member, assert_refused, create_circle
from tests.rounds.conftest import Circle, MovableClock


async def make_circle(circle: Circle, name: str, parent_id: str, domain: str, private: bool = False) -> tuple[str, str]:
    """A sub-circle that Ada leads (its only member) holding one domain: (circle id, domain id)."""
    ada = circle.people["ada"]
    circle_id = (await create_circle(circle.client, ada, name, parent_id=parent_id))["id"]
    await add_member(circle.client, ada, circle_id, "ada", ["leader"])
    if private:
        changed = await circle.client.patch(f"/api/circles/{circle_id}", json={"private": True}, headers=ada)
        assert changed.status_code == 200, changed.text
    return circle_id, (await add_domain(circle.client, ada, circle_id, domain))["id"]


@dataclass
class World:
    circle: Circle
    circles: dict[str, str] = field(default_factory=dict)
    domains: dict[str, str] = field(default_factory=dict)
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def find(self, who: str = "bo", **params: Any) -> dict[str, Any]:
        response = await self.circle.client.get("/api/decisions", params=params, headers=self.circle.people[who])
        assert response.status_code == 200, response.text
        return response.json()

    async def titles(self, who: str = "bo", **params: Any) -> set[str]:
        return {d["title"] for d in (await self.find(who, limit=100, **params))["items"]}


@pytest.fixture
async def world(circle: Circle, clock: MovableClock) -> World:
    """Riverside (domains Food, Money) with its sub-circle Kitchen, Kitchen's sub-circle Pantry,
    and Ada's private sub-circle Vault; decisions in force, due, overdue, retired, superseded."""
    w = World(circle, circles={"Riverside": circle.id}, domains={"Food": circle.domain_id})
    w.domains["Money"] = (await add_domain(circle.client, circle.people["ada"], circle.id, "Money"))["id"]
    w.circles["Kitchen"], w.domains["Cooking"] = await make_circle(circle, "Kitchen", circle.id, "Cooking")
    w.circles["Pantry"], w.domains["Shelves"] = await make_circle(circle, "Pantry", w.circles["Kitchen"], "Shelves")
    w.circles["Vault"], w.domains["Savings"] = await make_circle(circle, "Vault", circle.id, "Savings", private=True)
    made = [
        (
            "Bread on Sundays",
            {
                "objection": "The market stall is closed in winter.",
                "concern": "The freezer is small.",
                "driver": "Loaves from the bakery go to waste.",
            },
        ),
        (
            "Van for deliveries",
            {
                "domain_id": w.domains["Money"],
                "review_by": "2026-12-10",
                "text": "We rent an electric van on Tuesdays.",
            },
        ),
        ("Compost bins", {"review_by": "2026-12-01", "text": "Two compost bins behind the hall."}),
        ("Old cleaning rota", {"text": "Cleaning by rota, weekly."}),
        ("Tool shelf", {"text": "One shelf for tools."}),
        (
            "Kitchen hygiene rota",
            {
                "circle_id": w.circles["Kitchen"],
                "domain_id": w.domains["Cooking"],
                "members": ("ada",),
                "text": "A hygiene rota by the sink.",
            },
        ),
        (
            "Pantry labels",
            {
                "circle_id": w.circles["Pantry"],
                "domain_id": w.domains["Shelves"],
                "members": ("ada",),
                "text": "Every shelf labelled, with dates.",
                "review_by": "2026-12-20",
            },
        ),
        (
            "Savings rule",
            {
                "circle_id": w.circles["Vault"],
                "domain_id": w.domains["Savings"],
                "members": ("ada",),
                "text": "The confidential savings stay in the winter account.",
            },
        ),
    ]
    for title, fields in made:
        w.decisions[title] = await decide(circle, title, **fields)
        clock.move(minutes=1)  # the log is newest first
    # Reviews by consent: the circle retires one decision and amends another.
    await reviewed(circle, w.decisions["Old cleaning rota"]["id"], outcome="retire", text="Everyone cleans up now.")
    await reviewed(
        circle,
        w.decisions["Tool shelf"]["id"],
        outcome="amend",
        text="Two shelves for tools.",
        title="Tool shelves",
        driver="One is full.",
    )
    clock.move(days=10)  # today 2026-12-03: compost overdue; van and pantry due soon
    return w


async def test_a_decision_holds_its_whole_record(world: World) -> None:
    d = world.decisions["Bread on Sundays"]
    assert (d["title"], d["driver"], d["text"]) == (
        "Bread on Sundays",
        "Loaves from the bakery go to waste.",
        "We collect on Fridays and share on Sundays.",
    )
    assert d["circle"] == {"id": world.circles["Riverside"], "name": "Riverside"}
    assert d["domain"] == {"id": world.domains["Food"], "name": "Food"}
    assert (d["decided_at"], d["review_by"], d["status"]) == ("2026-11-23T09:00:00+00:00", "2027-05-23", "active")
    assert {r["member"]["name"]: r["kind"] for r in d["responses"]} == {
        "Ada": "consent",
        "Bo": "consent",
        "Cy": "concern",
        "Di": "consent",
    }
    assert [(c["name"], c["text"]) for c in d["concerns"]] == [("Cy", "The freezer is small.")]
    [objection] = d["objections"]
    assert (objection["name"], objection["text"], objection["status"], objection["integrated_by"]) == (
        "Bo",
        "The market stall is closed in winter.",
        "integrated",
        2,
    )
    assert [r["number"] for r in d["revisions"]] == [1, 2]
    assert d["revisions"][0]["text"] == "We collect on Fridays and share on Saturdays."
    assert [e["type"] for e in d["timeline"]][-1] == "decided" and d["timeline"][0]["seq"] == 1
    assert (d["supersedes"], d["superseded_by"], d["reviews"]) == (None, None, [])
    assert (d["criteria"], d["evaluation"]) == ([], "")


def oracle(
    world: World,
    who_sees: set[str],
    *,
    circle: str | None = None,
    subcircles: bool = False,
    domain: str | None = None,
    statuses: tuple[str, ...] = (),
    window: tuple[str, str] = ("", ""),
    q: str = "",
    now: dict[str, dict[str, Any]],
) -> set[str]:
    """The titles a search should find, worked out in Python from the decisions themselves."""
    parents = {name: None for name in world.circles} | {
        "Kitchen": "Riverside",
        "Pantry": "Kitchen",
        "Vault": "Riverside",
    }

    def under(name: str | None, root: str) -> bool:
        return name == root or (subcircles and name is not None and under(parents[name], root))

    found = set()
    for title, d in now.items():
        words = re.findall(
            r"[^\W_]+",
            " ".join(
                [d["title"], d["driver"], d["text"]] + [x["text"] for x in d["concerns"] + d["objections"]]
            ).lower(),
        )
        if d["circle"]["name"] not in who_sees:
            continue
        if circle and not under(d["circle"]["name"], circle):
            continue
        if domain and d["domain"]["name"] != domain:
            continue
        if statuses and d["status"] not in statuses:
            continue
        if (window[0] and d["review_by"] < window[0]) or (window[1] and d["review_by"] > window[1]):
            continue
        if not all(any(w.startswith(t) for w in words) for t in rules.search_terms(q)):
            continue
        found.add(title)
    return found


async def test_every_filter_and_their_combinations(world: World) -> None:
    everything = (await world.find("ada", limit=100))["items"]
    now = {d["title"]: d for d in everything}
    assert {d["status"] for d in everything} == {"active", "due", "overdue", "retired", "superseded"}
    assert now["Compost bins"]["status"] == "overdue" and now["Van for deliveries"]["status"] == "due"
    assert now["Tool shelf"]["status"] == "superseded" and now["Old cleaning rota"]["status"] == "retired"
    bo_sees = {"Riverside", "Kitchen", "Pantry"}  # not Vault: private, and Bo is not in it
    circles = [(None, False), ("Riverside", False), ("Riverside", True), ("Kitchen", True), ("Pantry", False)]
    domains = [None, "Food", "Money", "Shelves"]
    statuses = [(), ("active",), ("due",), ("overdue",), ("retired",), ("superseded",), ("due", "overdue")]
    windows = [("", ""), ("2026-12-05", ""), ("", "2026-12-15"), ("2026-12-05", "2026-12-31")]
    searches = ["", "winter", "rota", "freez", "waste friday", "sundays", "bakery"]
    combinations = [
        *((c, None, (), ("", ""), "") for c in circles),
        *((circles[0], d, (), ("", ""), "") for d in domains),
        *((circles[0], None, s, ("", ""), "") for s in statuses),
        *((circles[0], None, (), w, "") for w in windows),
        *((circles[0], None, (), ("", ""), q) for q in searches),
        *itertools.product(circles[1:4], [None, "Food"], statuses[:4:2], windows[:3:2], searches[:3]),
    ]
    checked = set()
    for (circle, subcircles), domain, wanted, window, q in combinations:
        params = {
            "circle_id": world.circles[circle] if circle else "",
            "subcircles": "1" if subcircles else "",
            "domain_id": world.domains[domain] if domain else "",
            "status": list(wanted),
            "review_after": window[0],
            "review_before": window[1],
            "q": q,
        }
        expected = oracle(
            world,
            bo_sees,
            circle=circle,
            subcircles=subcircles,
            domain=domain,
            statuses=wanted,
            window=window,
            q=q,
            now=now,
        )
        assert await world.titles(**params) == expected, params
        checked.add(frozenset(expected))
    assert len(checked) > 15  # the combinations do tell the decisions apart


async def test_search_finds_the_text_driver_concerns_and_objections(world: World) -> None:
    assert await world.titles(q="winter") == {"Bread on Sundays"}  # only in Bo's objection
    assert await world.titles(q="loaves bakery") == {"Bread on Sundays"}  # the driver, any order
    assert await world.titles(q="FREEZER") == {"Bread on Sundays"}  # Cy's concern
    assert await world.titles(q="electric") == {"Van for deliveries"}  # the text
    assert await world.titles(q="hygiene") == {"Kitchen hygiene rota"}  # the title
    assert await world.titles(q="winter dragons") == set()  # every word must be there
    assert await world.titles(q="(*") == await world.titles()  # no words: no search


async def test_search_never_finds_what_the_viewer_may_not_see(world: World) -> None:
    assert await world.titles("ada", q="winter") == {"Bread on Sundays", "Savings rule"}  # Ada is in Vault
    assert await world.titles("bo", q="confidential") == set()  # Bo is not
    assert await world.titles("zed", q="winter") == set()  # Zed is in no circle of Riverside's
    response = await world.circle.client.get(
        "/api/decisions", params={"circle_id": world.circles["Vault"]}, headers=world.circle.people["bo"]
    )
    assert_refused(response, 404, "not_found")
    hidden = world.decisions["Savings rule"]["id"]
    for path in (f"/api/decisions/{hidden}", f"/decisions/{hidden}/minutes.md"):
        assert (await world.circle.client.get(path, headers=world.circle.people["bo"])).status_code == 404
    csv_export = await world.circle.client.get(
        "/decisions.csv", params={"q": "winter"}, headers=world.circle.people["bo"]
    )
    assert "confidential" not in csv_export.text and "Bread on Sundays" in csv_export.text


async def test_cursor_pages_walk_the_whole_log_once(world: World) -> None:
    seen, cursor, pages = [], None, 0
    while True:
        page = await world.find("ada", limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [d["id"] for d in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    everything = (await world.find("ada", limit=100))["items"]
    assert seen == [d["id"] for d in everything] and len(seen) == 9 and pages == 3
    assert [d["decided_at"] for d in everything] == sorted((d["decided_at"] for d in everything), reverse=True)
    filtered = await world.find("bo", limit=1, q="rota")
    second = await world.find("bo", limit=1, q="rota", cursor=filtered["next_cursor"])
    assert {filtered["items"][0]["title"], second["items"][0]["title"]} == {"Old cleaning rota", "Kitchen hygiene rota"}
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"status": "soon"},
        {"circle_id": "nope"},
        {"review_before": "2027-02-30"},
        {"cursor": "bm9wZQ"},
        {"limit": "1000"},
        {"q": "x" * 300},
    ],
)
async def test_bad_filters_are_refused(circle: Circle, params: dict[str, str]) -> None:
    response = await circle.client.get("/api/decisions", params=params, headers=circle.people["ada"])
    assert_refused(response, 422, "invalid", field=next(iter(params)))


async def test_only_members_of_the_circle_review_a_decision_in_force(world: World) -> None:
    people = world.circle.people
    kitchen = world.decisions["Kitchen hygiene rota"]["id"]
    response = await world.circle.client.post(
        f"/api/decisions/{kitchen}/reviews", json={"outcome": "retire"}, headers=people["bo"]
    )
    assert_refused(response, 403, "not_a_member")  # Bo sees Kitchen, but is not in it
    response = await world.circle.client.post(
        f"/api/decisions/{kitchen}/reviews", json={"outcome": "retire"}, headers=people["zed"]
    )
    assert_refused(response, 404, "not_found")
    retired = world.decisions["Old cleaning rota"]["id"]
    response = await world.circle.client.post(
        f"/api/decisions/{retired}/reviews", json={"outcome": "reaffirm"}, headers=people["ada"]
    )
    assert_refused(response, 409, "not_in_force")
    assert (await world.find("ada", q="hygiene"))["items"][0]["status"] == "active"


async def test_the_supersede_chain_is_shown_both_ways(world: World) -> None:
    old = world.decisions["Tool shelf"]["id"]
    ada = world.circle.people["ada"]
    before = (await world.circle.client.get(f"/api/decisions/{old}", headers=ada)).json()
    assert before["status"] == "superseded" and before["superseded_by"]
    [review] = before["reviews"]
    assert (review["outcome"], review["state"], review["review_by"]) == ("amend", "consented", "2027-05-23")
    assert (
        review["proposal_id"]
        == (await world.circle.client.get(f"/api/decisions/{before['superseded_by']}", headers=ada)).json()[
            "proposal_id"
        ]
    )
    after = (await world.circle.client.get(f"/api/decisions/{before['superseded_by']}", headers=ada)).json()
    assert (after["supersedes"], after["text"], after["status"]) == (old, "Two shelves for tools.", "active")
    page = await world.circle.client.get(f"/decisions/{old}", headers=ada)
    assert f'href="/decisions/{after["id"]}"' in page.text and "Superseded by" in page.text
    page = await world.circle.client.get(f"/decisions/{after['id']}", headers=ada)
    assert f'href="/decisions/{old}"' in page.text and "Supersedes" in page.text


async def test_the_search_index_changes_with_the_decision_in_the_same_transaction(
    world: World, settings: Settings
) -> None:
    bread = world.decisions["Bread on Sundays"]
    engine = db.create_engine(settings.database_url)
    try:
        async with async_sessionmaker(engine)() as session:
            record = {**bread, "objections": [{**bread["objections"][0], "text": "Nobody comes in summer."}]}
            await session.execute(
                update(Decision)
                .where(Decision.title == "Bread on Sundays")
                .values(
                    text="We share rye loaves.", record={k: record[k] for k in ("responses", "concerns", "objections")}
                )
            )
            await session.rollback()  # undone: the index too
            assert await world.titles(q="winter") == {"Bread on Sundays"}
            await session.execute(
                update(Decision)
                .where(Decision.title == "Bread on Sundays")
                .values(
                    text="We share rye loaves.", record={k: record[k] for k in ("responses", "concerns", "objections")}
                )
            )
            await session.commit()
    finally:
        await engine.dispose()
    assert await world.titles(q="winter") == set()
    assert await world.titles(q="summer rye") == {"Bread on Sundays"}
    assert await world.titles(q="freezer") == {"Bread on Sundays"}  # the concern is still on record
