"""Making notifications and their mails, listing them, and each member's choices.

The proposals' event log is the source: an accepted action's events are committed in its own
transaction, and `notify` (the notifier's pass, after every commit and every few seconds)
makes what they tell, with its mails in the outbox, in one transaction that also moves each
proposal's cursor (`ToldUpTo`). A crash before that commit leaves the cursor where it was, so
the next pass makes them; a pass that runs twice makes nothing twice (each notification's key
is unique). The action itself writes nothing more than its events: a proposal opened in a
circle of 2,000 costs its author what it costs in a circle of 10 (docs/performance.md)."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from circles.models import Circle, Membership, Role, person
from consent.accounts.models import Account
from consent.base import outbox
from consent.base.errors import Refusal
from consent.base.i18n import gettext as _
from consent.base.outbox import Letter, Mail
from consent.base.times import choose_zone
from consent.notifications import rules
from consent.notifications.mails import About, Postman, Recipient, about
from consent.notifications.models import MailChoices, MeetingToldUpTo, Notification, ToldUpTo
from rounds import machine
from rounds.meetings.models import AgendaItem, Meeting, MeetingEvent
from rounds.models import ActionItem, Decision, Event, Proposal


@dataclass(frozen=True)
class Member:
    id: uuid.UUID
    name: str
    email: str
    choices: dict[str, str] | None
    time_zone: str  # their mails' times: the account's zone, else the circle's
    language: str | None = None  # of their mails (None: English)


@dataclass(frozen=True)
class Log:
    """An event log the notifier follows: its owners' rows (proposals, meetings), their
    events, and the cursor table that says up to which seq each owner's are told."""

    owner: Any  # Proposal or Meeting: has id, circle_id and seq (its last event's)
    events: Any  # Event or MeetingEvent
    cursor: Any  # ToldUpTo or MeetingToldUpTo
    key: str  # the column naming the owner, in the events and the cursor


PROPOSALS = Log(Proposal, Event, ToldUpTo, "proposal_id")
MEETINGS = Log(Meeting, MeetingEvent, MeetingToldUpTo, "meeting_id")

NOTIFICATIONS, MAILS = cast(Table, Notification.__table__), cast(Table, Mail.__table__)  # for Core inserts
WRITTEN_AT_ONCE = 50  # mails written before the server's other work goes on: a few milliseconds
MAILS_AT_ONCE = 200  # mails stored per transaction: SQLite's one writer is never held long
UNMAILED_AFTER = timedelta(minutes=1)  # a notification still without its mail: its pass died


class Batch:
    """The notifications of one pass, then their mails. The notifications are stored in one
    transaction with the cursors that say what they told (`save`); the mails after, a few
    hundred per transaction, each marking its notifications mailed (`store_mails`). A crash
    between leaves notifications unmailed, which a later pass mails (`_unmailed`)."""

    def __init__(self, postman: Postman, now: datetime) -> None:
        self.postman, self.now = postman, now
        self.notes: list[dict[str, Any]] = []
        # Each notification's mails to write: what it says, and to whom (key, person, id).
        self.mails: dict[int, tuple[About, list[tuple[str, Recipient, uuid.UUID, str | None]]]] = {}
        self.letters: list[tuple[uuid.UUID, Letter]] = []  # written, with the notification each carries
        self.digests: list[Letter] = []
        self.digested: list[uuid.UUID] = []  # the notifications the digests carry
        self.cursors: list[tuple[Log, uuid.UUID, int, int]] = []  # (log, owner, told up to, now told up to)

    def add(self, key: str, member: Member, circle_id: uuid.UUID, told: About, **about: Any) -> None:
        choice = rules.delivery(member.choices, told.kind)
        note_id = uuid.uuid4()
        self.notes.append(
            {
                "id": note_id,
                "key": key,
                "account_id": member.id,
                "kind": told.kind,
                "circle_id": circle_id,
                "proposal_id": about.get("proposal_id"),
                "decision_id": about.get("decision_id"),
                "meeting_id": about.get("meeting_id"),
                "seq": about.get("seq"),
                "at": self.now,
                "delivery": choice,
                "mailed": False,
                "created_at": self.now,
                "updated_at": self.now,
            }
        )
        if choice == rules.NOW:
            self.mail(note_id, (member.id, member.name, member.email, member.time_zone), told, member.language)

    def mail(self, note_id: uuid.UUID, to: Recipient, told: About, language: str | None) -> None:
        self.mails.setdefault(id(told), (told, []))[1].append((f"note:{note_id}", to, note_id, language))

    async def write(self) -> None:
        for told, recipients in self.mails.values():
            letters = self.postman.notifications(told, recipients)
            for n, (recipient, letter) in enumerate(zip(recipients, letters), 1):
                self.letters.append((recipient[2], letter))
                if n % WRITTEN_AT_ONCE == 0:  # 2,000 at once would hold up every action for a second
                    await asyncio.sleep(0)
        self.mails = {}

    async def save(self, db: AsyncSession) -> None:
        """Stores the notifications, if nothing overtook this pass since it read (another
        process's pass): each cursor moves from where it was read, and every key is new; else
        `Overtaken`. Core inserts: the ORM's took four times as long for 2,000 rows."""
        for log, owner_id, since, seq in self.cursors:
            told = getattr(log.cursor, log.key)
            if since:
                moved = await db.execute(
                    update(log.cursor).where(told == owner_id, log.cursor.seq == since).values(seq=seq)
                )
                if moved.rowcount != 1:  # type: ignore[attr-defined]
                    raise Overtaken
            else:  # a second pass adding it too breaks its unique owner: IntegrityError, dropped
                db.add(log.cursor(**{log.key: owner_id, "seq": seq}))
        await _mark_mailed(db, self.digested)
        if self.notes:
            await db.execute(insert(NOTIFICATIONS), self.notes)
        if self.digests:
            await db.execute(insert(MAILS), outbox.rows(self.digests, self.postman.mail_from, self.now))
        await db.flush()

    async def store_mails(self, write: Callable[[], AsyncSession]) -> None:
        """The mails, a few hundred per transaction; those another pass stored first are left."""
        for start in range(0, len(self.letters), MAILS_AT_ONCE):
            chunk = self.letters[start : start + MAILS_AT_ONCE]
            async with write() as db:
                try:
                    await _mark_mailed(db, [note_id for note_id, _ in chunk])
                except Overtaken:
                    await db.rollback()
                    continue
                letters = [letter for _, letter in chunk]
                await db.execute(insert(MAILS), outbox.rows(letters, self.postman.mail_from, self.now))
                await db.commit()


async def _mark_mailed(db: AsyncSession, note_ids: list[uuid.UUID]) -> None:
    """Marks the notifications mailed, all or none (`Overtaken`: another pass mailed some)."""
    if not note_ids:
        return
    marked = await db.execute(
        update(Notification).where(Notification.id.in_(note_ids), Notification.mailed.is_(False)).values(mailed=True)
    )
    if marked.rowcount != len(note_ids):  # type: ignore[attr-defined]
        raise Overtaken


class Overtaken(Exception):
    """Another pass made these notifications first: this one's are dropped, none twice."""


async def members_of(db: AsyncSession, circle_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[Member]]:
    """Each circle's members, with their mail choices and time zones, in one query."""
    zone = func.coalesce(Account.time_zone, Circle.time_zone)
    rows = await db.execute(
        select(
            Membership.circle_id, Account.id, Account.name, Account.email, MailChoices.choices, zone, Account.language
        )
        .join(Account, Account.id == Membership.account_id)
        .join(Circle, Circle.id == Membership.circle_id)
        .outerjoin(MailChoices, MailChoices.account_id == Membership.account_id)
        .where(Membership.circle_id.in_(circle_ids))
    )
    members: dict[uuid.UUID, list[Member]] = defaultdict(list)
    for circle_id, account_id, name, email, choices, time_zone, language in rows.all():
        members[circle_id].append(Member(account_id, name, email, choices, time_zone, language))
    return members


async def notify(
    read: Callable[[], AsyncSession],
    write: Callable[[], AsyncSession],
    postman: Postman,
    now: datetime,
    digest_hour: int,
) -> int:
    """One pass of the notifier: what proposals' new events tell, reminders before deadlines,
    reviews that fell due, and the digests of the day. Returns the notifications made. It reads
    and writes the mails on a connection of its own (`read`), then stores them in one short
    transaction (`write`), so a large circle's 2,000 mails do not hold up the actions. Two
    passes at once (two processes) store one of them: the other is `Overtaken`, and stores
    nothing."""
    batch = Batch(postman, now)
    async with read() as db:
        await _tell_events(db, batch)
        await _tell_meetings(db, batch)
        await _remind(db, batch)
        await _reviews_due(db, batch)
        await _terms_ending(db, batch)
        await _digests(db, batch, digest_hour)
        await _unmailed(db, batch)
    if not (batch.notes or batch.cursors or batch.digested or batch.mails):
        return 0
    async with write() as db:
        try:
            await batch.save(db)
        except (Overtaken, IntegrityError):
            await db.rollback()
            return 0
        await db.commit()
    await batch.write()
    await batch.store_mails(write)
    return len(batch.notes)


async def _new_events(db: AsyncSession, log: Log) -> list[tuple[Any, str, int, list[rules.Logged]]]:
    """Each owner with events not yet told: the owner, its circle's name, the seq told up to,
    and its new events. Up to the seq read with the owner, which the cursor moves to: an action
    committed since (PostgreSQL reads each statement afresh) is the next pass's. Told here too,
    the next pass would make its notifications again, be refused, and never move on."""
    told_seq = func.coalesce(log.cursor.seq, 0)
    rows = (
        await db.execute(
            select(log.owner, Circle.name, told_seq)
            .join(Circle, Circle.id == log.owner.circle_id)
            .outerjoin(log.cursor, getattr(log.cursor, log.key) == log.owner.id)
            .where(log.owner.seq > told_seq)
        )
    ).all()
    found = []
    for owner, circle_name, since in rows:
        events = await db.execute(
            select(log.events.seq, log.events.type, log.events.data, log.events.actor_id)
            .where(getattr(log.events, log.key) == owner.id, log.events.seq > since, log.events.seq <= owner.seq)
            .order_by(log.events.seq)
        )
        found.append((owner, circle_name, since, [cast(rules.Logged, tuple(row)) for row in events.all()]))
    return found


async def _tell_events(db: AsyncSession, batch: Batch) -> None:
    rows = await _new_events(db, PROPOSALS)
    if not rows:
        return
    members = await members_of(db, {proposal.circle_id for proposal, _, _, _ in rows})
    for proposal, circle_name, since, logged in rows:
        circle_members = {m.id: m for m in members[proposal.circle_id]}
        by_seq = {seq: (data, actor) for seq, _, data, actor in logged}
        decided = any(kind == "decided" for _, kind, _, _ in logged)
        asked = await _asked(db, proposal.id) if decided else {}
        for tell in rules.tells(logged, proposal.author_id, proposal.mode, frozenset(asked)):
            data, actor = by_seq[tell.seq]
            decision = (
                await _decision_of(db, proposal.id)
                if tell.kind == rules.DECIDED
                else await db.get(Decision, next(iter(asked.values())))
                if tell.kind == rules.ACTION_ITEM
                else None
            )
            named = circle_members[actor].name if actor in circle_members else None
            told = _about(tell.kind, circle_name, proposal, data, named, decision)
            to = circle_members.keys() if tell.to is None else tell.to & circle_members.keys()
            for account_id in sorted(to - tell.not_to):
                key = f"{tell.kind}:{proposal.id}:{tell.seq}:{account_id}"
                batch.add(
                    key,
                    circle_members[account_id],
                    proposal.circle_id,
                    told,
                    proposal_id=proposal.id,
                    decision_id=decision.id if decision else None,
                    seq=tell.seq,
                )
        batch.cursors.append((PROPOSALS, proposal.id, since, proposal.seq))


async def _tell_meetings(db: AsyncSession, batch: Batch) -> None:
    """What the circles' meetings' new events tell (rules.meeting_tells), as `_tell_events`
    does for proposals."""
    rows = await _new_events(db, MEETINGS)
    if not rows:
        return
    members = await members_of(db, {meeting.circle_id for meeting, _, _, _ in rows})
    for meeting, circle_name, since, logged in rows:
        circle_members = {m.id: m for m in members[meeting.circle_id]}
        tells = rules.meeting_tells(logged)
        agenda = await _agenda_titles(db, meeting.id) if tells else []
        for tell in tells:
            told = _meeting_about(tell.kind, circle_name, meeting, agenda)
            for account_id in sorted(circle_members.keys() - tell.not_to):
                key = f"{tell.kind}:meeting:{meeting.id}:{tell.seq}:{account_id}"
                batch.add(key, circle_members[account_id], meeting.circle_id, told, meeting_id=meeting.id, seq=tell.seq)
        batch.cursors.append((MEETINGS, meeting.id, since, meeting.seq))


async def _agenda_titles(db: AsyncSession, meeting_id: uuid.UUID) -> list[str]:
    return list(
        await db.scalars(
            select(AgendaItem.title).where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position)
        )
    )


def _meeting_about(kind: str, circle: str, meeting: Meeting, agenda: list[str]) -> About:
    """What a notification of a meeting says: when it starts (in each reader's zone, as a
    deadline is), where, and its agenda; it links to the meeting's page."""
    detail = {"meeting": True, "place": meeting.place, "agenda": agenda}
    title = _("Meeting of {circle}").format(circle=circle)
    return about(kind, circle, title, f"/meetings/{meeting.id}", meeting.starts_at, detail)


async def _meetings_told(db: AsyncSession, notes: list[tuple[Notification, str]]) -> dict[uuid.UUID, About]:
    """What the listed notifications of meetings say, each meeting and its agenda read once."""
    ids = {note.meeting_id for note, _ in notes if note.meeting_id}
    found = {m.id: m for m in await db.scalars(select(Meeting).where(Meeting.id.in_(ids)))} if ids else {}
    agendas = {meeting_id: await _agenda_titles(db, meeting_id) for meeting_id in found}
    return {
        note.id: _meeting_about(note.kind, circle, found[note.meeting_id], agendas[note.meeting_id])
        for note, circle in notes
        if note.meeting_id in found
    }


async def _asked(db: AsyncSession, proposal_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID]:
    """Whom the decided proposal's action items ask to do something, and the decision they
    belong to (the proposal's own, or for a review that reaffirms or retires, the reviewed one)."""
    rows = await db.execute(
        select(ActionItem.owner_id, ActionItem.decision_id).where(
            ActionItem.proposal_id == proposal_id, ActionItem.decision_id.is_not(None)
        )
    )
    return {owner: decision for owner, decision in rows.all() if decision is not None}


async def _decision_of(db: AsyncSession, proposal_id: uuid.UUID) -> Decision | None:
    return await db.scalar(select(Decision).where(Decision.proposal_id == proposal_id))


def _about(
    kind: str,
    circle: str,
    proposal: Proposal | None,
    event: dict[str, Any] | None,
    actor: str | None,
    decision: Decision | None,
) -> About:
    """What a notification says, from what it is about: the proposal, the event that told it
    (and who acted), the decision. The page and the mail say the same."""
    detail: dict[str, Any] = {"phase": (event or {}).get("to", "")}
    if kind == rules.OBJECTION:
        detail |= {"by": actor or "", "text": (event or {}).get("text", "")}
    if decision is not None:
        detail["review_by"] = decision.review_by.isoformat()
        if kind == rules.DECIDED:
            detail["record"] = decision.record
        return about(kind, circle, decision.title, f"/decisions/{decision.id}", None, detail)
    assert proposal is not None  # a notification is about a proposal or a decision
    return about(kind, circle, proposal.title, f"/proposals/{proposal.id}", proposal.closes_at, detail)


async def _remind(db: AsyncSession, batch: Batch) -> None:
    """A member an async proposal waits for is reminded in each of the circle's windows before
    its deadline (24 and 2 hours by default), once per deadline: an amended proposal's new
    deadline reminds again."""
    longest = max((h for hours in await db.scalars(select(Circle.reminder_hours)) for h in hours), default=0)
    if not longest:
        return
    rows = (
        await db.execute(
            select(Proposal, Circle.name, Circle.reminder_hours)
            .join(Circle, Circle.id == Proposal.circle_id)
            .where(
                Proposal.mode == "async",
                Proposal.state.in_(machine.OPEN_PHASES - {machine.DRAFT}),
                Proposal.closes_at > batch.now,
                Proposal.closes_at <= batch.now + timedelta(hours=longest),
            )
        )
    ).all()
    due = [
        (p, name, window) for p, name, hours in rows if (window := rules.reminder_due(p.closes_at, batch.now, hours))
    ]
    if not due:
        return
    members = await members_of(db, {p.circle_id for p, _, _ in due})
    sent = set(
        await db.scalars(
            select(Notification.key).where(
                Notification.kind == rules.REMINDER, Notification.proposal_id.in_([p.id for p, _, _ in due])
            )
        )
    )
    for proposal, circle_name, window in due:
        circle_members = members[proposal.circle_id]
        state = machine.restore(
            proposal.machine, proposal.author_id, frozenset(m.id for m in circle_members), frozenset()
        )
        told = _about(rules.REMINDER, circle_name, proposal, None, None, None)
        deadline = proposal.closes_at.strftime("%Y%m%dT%H%M") if proposal.closes_at else ""
        for member in circle_members:
            key = f"{rules.REMINDER}:{proposal.id}:{deadline}:{window}h:{member.id}"
            if key not in sent and machine.expects(state, member.id) in {machine.RESPOND, machine.CONSENT_AGAIN}:
                batch.add(key, member, proposal.circle_id, told, proposal_id=proposal.id)


async def _reviews_due(db: AsyncSession, batch: Batch) -> None:
    """Each member of a circle is told once when one of its decisions falls due for review."""
    due = (
        await db.execute(
            select(Decision, Circle.name)
            .join(Circle, Circle.id == Decision.circle_id)
            .where(Decision.status == "active", Decision.review_by <= batch.now.date())
        )
    ).all()
    if not due:
        return
    sent = set(
        await db.scalars(
            select(Notification.key).where(
                Notification.kind == rules.REVIEW_DUE, Notification.decision_id.in_([d.id for d, _ in due])
            )
        )
    )
    members = await members_of(db, {d.circle_id for d, _ in due})
    for decision, circle_name in due:
        told = _about(rules.REVIEW_DUE, circle_name, None, None, None, decision)
        for member in members[decision.circle_id]:
            key = f"{rules.REVIEW_DUE}:{decision.id}:{decision.review_by.isoformat()}:{member.id}"
            if key not in sent:
                batch.add(key, member, decision.circle_id, told, decision_id=decision.id)


async def _terms_ending(db: AsyncSession, batch: Batch) -> None:
    """Each member of a circle is told once per role and term when a role's term in it ends
    within TERM_NOTICE_DAYS: the circle may select someone for it (docs/selection.md)."""
    today = batch.now.date()
    ending = (
        await db.execute(
            select(Role, Membership.circle_id, Circle.name, person.c.name)
            .join(Membership, Membership.id == Role.membership_id)
            .join(Circle, Circle.id == Membership.circle_id)
            .join(person, person.c.id == Membership.account_id)
            .where(Role.term_ends_on >= today, Role.term_ends_on <= today + timedelta(days=rules.TERM_NOTICE_DAYS))
        )
    ).all()
    if not ending:
        return
    circle_ids = {circle_id for _, circle_id, _, _ in ending}
    sent = set(
        await db.scalars(
            select(Notification.key).where(
                Notification.kind == rules.TERM_ENDING, Notification.circle_id.in_(circle_ids)
            )
        )
    )
    members = await members_of(db, circle_ids)
    for role, circle_id, circle_name, holder in ending:
        assert role.term_ends_on is not None  # the query asks for those that end
        term = role.term_ends_on.isoformat()
        told = _term_about(circle_name, circle_id, holder, role.name, term)
        for member in members[circle_id]:
            key = f"{rules.TERM_ENDING}:{role.id}:{term}:{member.id}"
            if key not in sent:
                batch.add(key, member, circle_id, told)


def _term_about(circle: str, circle_id: uuid.UUID, holder: str, role: str, term: str) -> About:
    return about(
        rules.TERM_ENDING, circle, f"{holder}'s term as {role}", f"/circles/{circle_id}", None, {"review_by": term}
    )


async def _terms_told(db: AsyncSession, notes: list[tuple[Notification, str]]) -> dict[uuid.UUID, About]:
    """What term_ending notifications (with their circle's name) say: their key names the role
    and the term (a role removed since is named as such)."""
    said = {note.id: note.key.split(":") for note, _ in notes}
    role_ids = {uuid.UUID(parts[1]) for parts in said.values()}
    roles = {
        role_id: (name, holder)
        for role_id, name, holder in await db.execute(
            select(Role.id, Role.name, person.c.name)
            .join(Membership, Membership.id == Role.membership_id)
            .join(person, person.c.id == Membership.account_id)
            .where(Role.id.in_(role_ids))
        )
    }
    told = {}
    for note, circle in notes:
        _kind, role_id, term, _member = said[note.id]
        name, holder = roles.get(uuid.UUID(role_id), ("a role", "A member"))
        told[note.id] = _term_about(circle, note.circle_id, holder, name, term)
    return told


async def _digests(db: AsyncSession, batch: Batch, hour: int) -> None:
    """Once the day's digest hour has passed, each member with notifications chosen for the
    digest gets one mail of them all (one a day: its key names the day)."""
    day = rules.digest_day(batch.now, hour)
    if day is None:
        return
    waiting = await db.execute(
        select(Notification.id, Notification.account_id)
        .where(Notification.delivery == rules.DIGEST, Notification.mailed.is_(False))
        .order_by(Notification.account_id, Notification.at)
    )
    by_account: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for note_id, account_id in waiting.all():
        by_account[account_id].append(note_id)
    if not by_account:
        return
    done = set(await db.scalars(select(Mail.key).where(Mail.key.in_([f"digest:{a}:{day}" for a in by_account]))))
    for account_id, note_ids in by_account.items():
        key = f"digest:{account_id}:{day}"
        if key in done:
            continue  # today's is sent: the rest waits for tomorrow's
        account = await db.get_one(Account, account_id)
        items = [entry.about for entry in await listed(db, account_id, note_ids)]
        batch.digests.append(batch.postman.digest(key, account.email, account.name, items, account.language))
        batch.digested += note_ids


async def _unmailed(db: AsyncSession, batch: Batch) -> None:
    """Notifications to mail at once that still have no mail a minute on: the pass that made
    them stopped between storing them and storing their mails (a crash, a restart)."""
    rows = await db.execute(
        select(Notification.id, Account.id, Account.name, Account.email, Account.language)
        .join(Account, Account.id == Notification.account_id)
        .where(
            Notification.delivery == rules.NOW,
            Notification.mailed.is_(False),
            Notification.at <= batch.now - UNMAILED_AFTER,
        )
        .limit(MAILS_AT_ONCE * 10)
    )
    for note_id, account_id, name, email, language in rows.all():
        [listed_note] = await listed(db, account_id, [note_id])  # told in their zone
        batch.mail(note_id, (account_id, name, email, "UTC"), listed_note.about, language)


@dataclass(frozen=True)
class Listed:
    id: uuid.UUID
    kind: str
    proposal_id: uuid.UUID | None
    decision_id: uuid.UUID | None
    meeting_id: uuid.UUID | None
    at: datetime
    read: bool
    about: About


async def listed(
    db: AsyncSession,
    account_id: uuid.UUID,
    ids: Sequence[uuid.UUID] | None = None,
    limit: int = 100,
    browser_zone: str | None = None,
) -> list[Listed]:
    """The account's notifications, newest first (or those of `ids`), with what they are about,
    its deadlines in the account's zone, else the browser's, else the circle's."""
    chosen = await db.scalar(select(Account.time_zone).where(Account.id == account_id))
    actor = aliased(Account)
    query = (
        select(Notification, Circle.name, Circle.time_zone, Proposal, Decision, Event.data, actor.name)
        .join(Circle, Circle.id == Notification.circle_id)
        .outerjoin(Proposal, Proposal.id == Notification.proposal_id)
        .outerjoin(Decision, Decision.id == Notification.decision_id)
        .outerjoin(Event, (Event.proposal_id == Notification.proposal_id) & (Event.seq == Notification.seq))
        .outerjoin(actor, actor.id == Event.actor_id)
        .where(Notification.account_id == account_id)
        .order_by(Notification.at.desc(), Notification.key)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    rows = (await db.execute(query)).all()
    terms = await _terms_told(db, [(row[0], row[1]) for row in rows if row[0].kind == rules.TERM_ENDING])
    terms |= await _meetings_told(db, [(row[0], row[1]) for row in rows if row[0].meeting_id])
    found = []
    for note, circle, circle_zone, proposal, decision, data, actor_name in rows:
        zone = choose_zone(chosen, browser_zone, circle_zone)
        told = (terms.get(note.id) or _about(note.kind, circle, proposal, data, actor_name, decision)).told(zone)
        found.append(
            Listed(
                note.id,
                note.kind,
                note.proposal_id,
                note.decision_id,
                note.meeting_id,
                note.at,
                note.read_at is not None,
                told,
            )
        )
    return found


async def mark_read(db: AsyncSession, account_id: uuid.UUID, note_id: uuid.UUID | None, now: datetime) -> None:
    """Marks one notification (or, with None, all of them) read; another's is not found."""
    query = update(Notification).where(Notification.account_id == account_id, Notification.read_at.is_(None))
    if note_id is not None:
        owner = await db.scalar(select(Notification.account_id).where(Notification.id == note_id))
        if owner != account_id:
            raise Refusal("not_found", _("No such notification."), 404)
        query = query.where(Notification.id == note_id)
    await db.execute(query.values(read_at=now))


async def unread_count(db: AsyncSession, account_id: uuid.UUID) -> int:
    return (
        await db.scalar(
            select(func.count()).where(Notification.account_id == account_id, Notification.read_at.is_(None))
        )
        or 0
    )


async def choices_of(db: AsyncSession, account_id: uuid.UUID) -> dict[str, str]:
    """What the account gets by mail, for every kind (the defaults where it chose nothing)."""
    chosen = await db.scalar(select(MailChoices.choices).where(MailChoices.account_id == account_id))
    return {kind: rules.delivery(chosen, kind) for kind in rules.KINDS}


async def choose(db: AsyncSession, account_id: uuid.UUID, changes: dict[str, str]) -> dict[str, str]:
    """Changes some of the account's choices; an unknown kind or delivery changes nothing."""
    for kind, choice in changes.items():
        if kind not in rules.KINDS:
            raise Refusal("invalid", _("There is no kind of notification called “{kind}”.").format(kind=kind))
        if choice not in rules.DELIVERIES:
            raise Refusal(
                "invalid", _("Mail for “{kind}” is sent now, in the daily digest, or never.").format(kind=kind)
            )
    row = await db.scalar(select(MailChoices).where(MailChoices.account_id == account_id))
    if row is None:
        row = MailChoices(account_id=account_id, choices={})
        db.add(row)
    row.choices = {**row.choices, **changes}
    await db.flush()
    return await choices_of(db, account_id)


async def mail_invitation(
    db: AsyncSession,
    postman: Postman,
    now: datetime,
    invitation_id: uuid.UUID,
    email: str,
    circle: str,
    inviter: str,
    link: str,
) -> None:
    """The invitation's mail, in the transaction that makes (or renews) the invitation: its
    link carries the secret that exists only now. Renewing sends the new link."""
    key = f"invitation:{invitation_id}:{uuid.uuid4()}"
    letter = postman.invitation(key, email, circle, inviter, link)
    await db.execute(insert(Mail), outbox.rows([letter], postman.mail_from, now))
