"""Notifications through the real app on a real database: who is told what by the proposal's
events, reminders before the deadline, the record of a decision, members' mail choices, the
digest, invitations by mail, unsubscribing, and the notifications page. Mail goes to files in
the data directory (no SMTP server configured); tests/e2e/test_mail.py sends it over SMTP."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from email.message import EmailMessage
from typing import Any

from sqlalchemy import delete, insert, select, update

from consent.base import db
from consent.base.outbox import Mail
from consent.base.settings import Settings
from consent.notifications.models import Notification
from rounds.models import Event, Proposal
from tests.helpers import assert_refused
from tests.notifications.conftest import mails
from tests.rounds.conftest import Circle, MovableClock

MEMBERS = ("ada", "bo", "cy", "di")


async def notifications(circle: Circle, who: str, count: int | None = None) -> dict[str, Any]:
    """`who`'s notifications, once there are `count` (the notifier works after the commit)."""
    for _ in range(100):
        response = await circle.client.get("/api/notifications", headers=circle.people[who])
        assert response.status_code == 200, response.text
        found = response.json()
        if count is None or len(found["items"]) >= count:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{who} has {found['items']}, not {count} notifications")


async def mails_to(settings: Settings, count: int, invitations: bool = False) -> list[EmailMessage]:
    for _ in range(100):
        found = mails(settings, invitations)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{len(found)} mails, not {count}: {[m['Subject'] for m in found]}")


def addressed(found: list[EmailMessage]) -> Counter[str]:
    return Counter(str(m["To"]).split("@")[0].split("+")[0] for m in found)


def body(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    return part.get_content()  # type: ignore[no-any-return, attr-defined]


async def test_an_opened_proposal_tells_every_member_but_its_author_by_page_and_mail(circle: Circle) -> None:
    proposal_id = (await circle.propose(title="Ladder safety"))["id"]
    await circle.ok(proposal_id, "ada", "start")
    for name in ("bo", "cy", "di"):
        [note] = (await notifications(circle, name, 1))["items"]
        assert note["kind"] == "opened" and note["proposal_id"] == proposal_id and note["read"] is False
        assert note["url"] == f"/proposals/{proposal_id}" and note["circle"] == "Riverside"
        assert "Ladder safety" in note["text"] and "Respond by Nov 30, 2026, 9:00\u202fAM UTC" in note["text"]
    assert (await notifications(circle, "ada"))["items"] == []  # the author opened it
    assert (await notifications(circle, "zed"))["items"] == []  # not a member

    sent = await mails_to(circle.settings, 3)
    assert addressed(sent) == {"bo": 1, "cy": 1, "di": 1}
    mail = next(m for m in sent if str(m["To"]).startswith("bo@"))
    assert mail["Subject"] == "[Riverside] Ladder safety: your response is asked"
    assert re.fullmatch(r"consent\+r[a-z2-7]{42}@localhost", str(mail["Reply-To"]))
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert str(mail["List-Unsubscribe"]).strip().startswith("<http://127.0.0.1/unsubscribe/")
    assert f"http://127.0.0.1/proposals/{proposal_id}" in body(mail)
    html = mail.get_body(("html",))
    assert html is not None and "Ladder safety" in html.get_content()  # type: ignore[attr-defined]
    assert len({m["Message-ID"] for m in sent}) == 3


async def test_an_objection_is_told_to_the_author_who_marks_it_read(circle: Circle) -> None:
    proposal_id = (await circle.propose(title="Ladder safety"))["id"]
    for step in ("start", "advance", "advance"):
        await circle.ok(proposal_id, "ada", step)
    await circle.ok(proposal_id, "bo", "object", text="The ladder needs a safety check")
    found = await notifications(circle, "ada", 1)
    [objection] = [n for n in found["items"] if n["kind"] == "objection"]
    assert objection["text"] == "Bo objected to your proposal “Ladder safety”: The ladder needs a safety check"
    assert found["unread"] == 1

    assert_refused(
        await circle.client.post(f"/api/notifications/{objection['id']}/read", headers=circle.people["bo"]),
        404,
        "not_found",
    )  # not bo's to mark
    read = await circle.client.post(f"/api/notifications/{objection['id']}/read", headers=circle.people["ada"])
    assert read.status_code == 200 and read.json()["read"] is True
    assert (await notifications(circle, "ada"))["unread"] == 0


async def test_those_who_have_not_responded_are_reminded_a_day_and_two_hours_before_once(
    circle: Circle, clock: MovableClock
) -> None:
    proposal_id = (await circle.propose(title="Ladder safety"))["id"]  # closes 2026-11-30 09:00
    await circle.ok(proposal_id, "ada", "start")
    await circle.ok(proposal_id, "bo", "pass")
    await mails_to(circle.settings, 3)

    clock.move(days=6, hours=1)  # 23 hours before
    reminded = await mails_to(circle.settings, 5)
    assert addressed(reminded[3:]) == {"cy": 1, "di": 1}  # not the author, not bo, who spoke
    assert reminded[3]["Subject"] == "[Riverside] Reminder: Ladder safety closes soon, and waits for your response"
    assert reminded[3]["Reply-To"] is not None

    await circle.ok(proposal_id, "cy", "question", text="Who checks it?")
    clock.move(hours=22)  # an hour before: the 2-hour reminder, to di only now
    reminded = await mails_to(circle.settings, 6)
    await asyncio.sleep(0.5)  # passes of the notifier that must make no more
    assert addressed(mails(circle.settings)[5:]) == {"di": 1}
    kinds = Counter(n["kind"] for n in (await notifications(circle, "di"))["items"])
    assert kinds == {"opened": 1, "reminder": 2}


async def test_a_decision_tells_everyone_with_the_record(circle: Circle) -> None:
    proposal_id = (await circle.propose(title="Ladder safety", review_by="2027-03-01"))["id"]
    for step in ("start", "advance", "advance"):
        await circle.ok(proposal_id, "ada", step)
    for name in ("ada", "bo", "cy"):
        await circle.ok(proposal_id, name, "consent")
    await circle.ok(proposal_id, "di", "stand_aside", text="Away in March")
    sent = await mails_to(circle.settings, 3 + 3 + 3 + 4)
    decided = [m for m in sent if str(m["Subject"]).startswith("[Riverside] Decided")]
    assert addressed(decided) == dict.fromkeys(MEMBERS, 1)
    text = body(decided[0])
    assert "Riverside decided “Ladder safety”. Review by Mar 1, 2027." in text
    for line in ("- Ada consented", "- Bo consented", "- Cy consented", "- Di stood aside"):
        assert line in text
    [note] = [n for n in (await notifications(circle, "bo"))["items"] if n["kind"] == "decided"]
    assert note["decision_id"] and note["url"] == f"/decisions/{note['decision_id']}"


async def test_each_member_chooses_per_kind_now_digest_or_never(circle: Circle, clock: MovableClock) -> None:
    bo = circle.people["bo"]
    defaults = (await circle.client.get("/api/accounts/me/preferences", headers=bo)).json()
    assert defaults == {
        "mail": {
            "opened": "now",
            "meeting": "now",
            "reminder": "now",
            "objection": "now",
            "consent_again": "now",
            "decided": "now",
            "review_due": "digest",
            "action_item": "now",
            "term_ending": "digest",
            "meeting_called": "now",
        }
    }
    message = assert_refused(
        await circle.client.patch("/api/accounts/me/preferences", json={"mail": {"opened": "hourly"}}, headers=bo),
        422,
        "invalid",
    )
    assert message == "Mail for “opened” is sent now, in the daily digest, or never."
    assert_refused(
        await circle.client.patch("/api/accounts/me/preferences", json={"mail": {"gossip": "now"}}, headers=bo),
        422,
        "invalid",
    )
    changed = await circle.client.patch("/api/accounts/me/preferences", json={"mail": {"opened": "never"}}, headers=bo)
    assert changed.status_code == 200 and changed.json()["mail"]["opened"] == "never"
    cy_digest = {"mail": {"opened": "digest"}}
    assert (
        await circle.client.patch("/api/accounts/me/preferences", json=cy_digest, headers=circle.people["cy"])
    ).status_code == 200

    clock.move(hours=-3)  # 06:00, before the digest hour (7 UTC)
    proposal_id = (await circle.propose(title="Ladder safety"))["id"]
    await circle.ok(proposal_id, "ada", "start")
    assert addressed(await mails_to(circle.settings, 1)) == {"di": 1}
    await notifications(circle, "bo", 1)  # on the page all the same
    await notifications(circle, "cy", 1)
    await asyncio.sleep(0.3)
    assert len(mails(circle.settings)) == 1  # cy's waits for the digest

    clock.move(hours=1, minutes=1)  # the digest hour passed
    digest = (await mails_to(circle.settings, 2))[1]
    assert str(digest["To"]).startswith("cy@") and digest["Subject"] == "What happened in your circles: 1 notification"
    assert "[Riverside] “Ladder safety” is open in Riverside" in body(digest)
    await asyncio.sleep(0.3)
    assert len(mails(circle.settings)) == 2  # one digest a day


async def test_an_invitation_is_mailed_with_a_link_from_the_base_url_whatever_the_host(circle: Circle) -> None:
    headers = {**circle.people["ada"], "Host": "evil.example"}
    response = await circle.client.post(
        f"/api/circles/{circle.id}/members", json={"email": "eve@example.org"}, headers=headers
    )
    assert response.status_code == 202, response.text
    link = response.json()["invitation"]["link"]
    assert link.startswith("http://127.0.0.1/invitations/")
    mail = (await mails_to(circle.settings, 4, invitations=True))[3]  # after those of bo, cy and di
    assert mail["To"] == "eve@example.org" and mail["Subject"] == "Ada invites you to Riverside"
    assert link in body(mail) and "evil" not in body(mail)


async def test_the_unsubscribe_link_stops_that_kind_of_mail_in_one_click(circle: Circle) -> None:
    proposal_id = (await circle.propose())["id"]
    await circle.ok(proposal_id, "ada", "start")
    mail = next(m for m in await mails_to(circle.settings, 3) if str(m["To"]).startswith("bo@"))
    link = str(mail["List-Unsubscribe"]).strip().strip("<>").removeprefix("http://127.0.0.1")
    asked = await circle.client.get(link)  # a mail scanner following the link changes nothing
    assert asked.status_code == 200 and "Stop these mails" in asked.text
    bo = circle.people["bo"]
    assert (await circle.client.get("/api/accounts/me/preferences", headers=bo)).json()["mail"]["opened"] == "now"
    done = await circle.client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "no more mails" in done.text
    assert (await circle.client.get("/api/accounts/me/preferences", headers=bo)).json()["mail"]["opened"] == "never"
    forged = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    assert (await circle.client.post(forged)).status_code == 404


async def test_the_notifications_page_lists_them_and_saves_mail_choices(circle: Circle) -> None:
    proposal_id = (await circle.propose(title="Ladder safety"))["id"]
    await circle.ok(proposal_id, "ada", "start")
    [note] = (await notifications(circle, "bo", 1))["items"]
    bo = circle.people["bo"]
    page = await circle.client.get("/notifications", headers=bo)
    assert (
        page.status_code == 200 and "“Ladder safety” is open in Riverside" in page.text and "new</strong>" in page.text
    )
    opened = await circle.client.post(f"/notifications/{note['id']}/open", headers=bo, follow_redirects=False)
    assert opened.status_code in {302, 303} and opened.headers["location"] == f"/proposals/{proposal_id}"
    assert (await notifications(circle, "bo"))["unread"] == 0
    other = await circle.client.post(f"/notifications/{note['id']}/open", headers=circle.people["cy"])
    assert other.status_code == 404


async def test_nothing_is_told_twice_when_the_notifier_runs_again(circle: Circle, settings: Settings) -> None:
    proposal_id = (await circle.propose())["id"]
    await circle.ok(proposal_id, "ada", "start")
    await mails_to(circle.settings, 3)
    invited = await circle.client.post(
        f"/api/circles/{circle.id}/members", json={"email": "eve@example.org"}, headers=circle.people["ada"]
    )
    assert invited.status_code == 202  # an invitation: one more mail
    await asyncio.sleep(0.5)  # five passes
    assert len(mails(settings)) == 3 and len(mails(settings, invitations=True)) == 3 + 4
    assert [len((await notifications(circle, n))["items"]) for n in MEMBERS] == [0, 1, 1, 1]


async def test_an_action_committed_while_the_notifier_reads_is_told_by_its_next_pass(
    circle: Circle, clock: MovableClock
) -> None:
    """The notifier reads a proposal's seq, then its events: on PostgreSQL an action committed
    between the two shows in the second. Staged here as events beyond the proposal's seq: a
    pass that told them moved its cursor short of them, and every later pass was refused."""
    proposal_id = (await circle.propose(title="Ladder safety"))["id"]
    await circle.ok(proposal_id, "ada", "start")
    await notifications(circle, "bo", 1)
    ada, pid = uuid.UUID(circle.ids["ada"]), uuid.UUID(proposal_id)
    staged = {
        2: ("phase_changed", {"from": "clarifying", "to": "reacting"}),
        3: ("phase_changed", {"from": "reacting", "to": "consenting"}),
        4: ("amended", {"revision": 2}),
    }
    engine = db.create_engine(circle.settings.database_url)
    for seq, written in ((2, (2, 3)), (3, ()), (4, (4,))):  # each committed a little after its events
        async with engine.begin() as conn:
            for event in written:
                kind, data = staged[event]
                row = {"proposal_id": pid, "seq": event, "type": kind, "actor_id": ada, "data": data}
                await conn.execute(insert(Event).values(id=uuid.uuid4(), at=clock(), **row))
            await conn.execute(update(Proposal).where(Proposal.id == pid).values(seq=seq))
        await notifications(circle, "bo", seq)
    async with engine.connect() as conn:
        bo = uuid.UUID(circle.ids["bo"])
        assert sorted(await conn.scalars(select(Notification.seq).where(Notification.account_id == bo))) == [1, 2, 3, 4]
    await engine.dispose()


async def test_a_circle_chooses_when_reminders_go_on_its_page_and_by_the_api(circle: Circle) -> None:
    ada = circle.people["ada"]
    circle_url = f"/api/circles/{circle.id}"
    assert (await circle.client.get(circle_url, headers=ada)).json()["reminder_hours"] == [24, 2]
    message = assert_refused(
        await circle.client.patch(circle_url, json={"reminder_hours": [0]}, headers=ada), 422, "invalid"
    )
    assert message == "Reminders: up to three, each between 1 and 336 hours before the deadline."
    changed = await circle.client.patch(circle_url, json={"reminder_hours": [2, 48, 2]}, headers=ada)
    assert changed.status_code == 200 and changed.json()["reminder_hours"] == [48, 2]
    assert_refused(
        await circle.client.patch(circle_url, json={"reminder_hours": [1]}, headers=circle.people["bo"]),
        403,
        "not_allowed",
    )

    form = {"name": "Riverside", "default_review_months": "6", "default_async_days": "7", "reminder_hours": "12, 1"}
    saved = await circle.client.post(f"/circles/{circle.id}/settings", data=form, headers=ada)
    assert saved.status_code in {200, 303}, saved.text
    assert (await circle.client.get(circle_url, headers=ada)).json()["reminder_hours"] == [12, 1]
    page = await circle.client.post(
        f"/circles/{circle.id}/settings", data={**form, "reminder_hours": "soon"}, headers=ada
    )
    assert (
        page.status_code == 422 and "whole numbers of hours, such as 24, 2" in page.text and 'value="soon"' in page.text
    )
    assert (await circle.client.get(circle_url, headers=ada)).json()["reminder_hours"] == [12, 1]


async def test_notifications_whose_mails_were_never_stored_are_mailed_by_a_later_pass(
    circle: Circle, clock: MovableClock
) -> None:
    """As if the pass that made them had stopped between storing them and storing their mails."""
    proposal_id = (await circle.propose(title="Ladder safety"))["id"]
    await circle.ok(proposal_id, "ada", "start")
    await mails_to(circle.settings, 3)
    engine = db.create_engine(circle.settings.database_url)
    async with engine.begin() as conn:
        bo = uuid.UUID(circle.ids["bo"])
        note_id = await conn.scalar(select(Notification.id).where(Notification.account_id == bo))
        await conn.execute(delete(Mail).where(Mail.key == f"note:{note_id}"))
        await conn.execute(update(Notification).where(Notification.id == note_id).values(mailed=False))
    await asyncio.sleep(0.3)
    assert len(mails(circle.settings)) == 3  # within a minute, its own pass may still be storing it
    clock.move(minutes=2)
    again = await mails_to(circle.settings, 4)
    assert str(again[3]["To"]).startswith("bo@") and "Ladder safety" in str(again[3]["Subject"])
    async with engine.connect() as conn:
        assert await conn.scalar(select(Notification.mailed).where(Notification.id == note_id)) is True
    await asyncio.sleep(0.3)
    assert len(mails(circle.settings)) == 4  # once
    await engine.dispose()
