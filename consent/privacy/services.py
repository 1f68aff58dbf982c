"""A person's data: the export of everything they did, and the erasure of their account.

Erasure keeps the record true without the person: their account row goes, and what stays
(their responses, objections, the proposals they wrote, the invitations they sent) is moved
to a new account row that names "a former member", with a fresh random id and no email or
password. Nothing links it to the erased account: its id appears in no session, token or
link, and every JSON copy of the old id (events, proposals' machine snapshots, decisions'
and reviews' records) is rewritten to it, with the name beside it replaced."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from advanced_alchemy.base import orm_registry
from sqlalchemy import String, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from circles import rules as circle_rules
from circles.models import Circle, Invitation, Membership, Role
from circles.services import Departure
from consent.accounts import services as accounts
from consent.accounts.models import Account, ApiToken
from consent.base.errors import Refusal
from consent.base.i18n import gettext as _
from consent.base.outbox import Mail
from consent.privacy import rules
from rounds.meetings.models import Meeting, MeetingEvent
from rounds.models import ActionItem, ActionItemChange, Decision, Event, Proposal, Review

ERASED_DOMAIN = "erased.invalid"  # .invalid never resolves (RFC 2606): no mail can reach it
# The columns naming an account that are part of the circles' record: moved to the former member.
ON_THE_RECORD = frozenset(
    {
        Proposal.__table__.c.author_id,
        Event.__table__.c.actor_id,
        Review.__table__.c.account_id,
        Invitation.__table__.c.invited_by_id,
        ActionItem.__table__.c.owner_id,  # what a decision asked of them, and who did what
        ActionItemChange.__table__.c.actor_id,
        Meeting.__table__.c.called_by_id,  # a meeting and what was said in it stay the circle's
        MeetingEvent.__table__.c.actor_id,
    }
)


async def export(db: AsyncSession, account_id: uuid.UUID) -> dict[str, Any]:
    """Everything the person did, as one JSON document: their account, memberships and roles,
    the proposals they wrote, every event they took part in (responses, questions, reactions,
    objections, amendments…) with the proposal's title, the meetings' events they did or that
    name them (present, a check-in, a turn recorded for them), the invitations they sent and their
    tokens' labels. Others' names are left out, but for the circles' and proposals' titles."""
    account = await db.get(Account, account_id)
    if account is None:
        raise Refusal("not_found", _("This account no longer exists."), 404)
    me = str(account_id)
    memberships = (
        await db.execute(
            select(Membership, Circle)
            .join(Circle, Circle.id == Membership.circle_id)
            .where(Membership.account_id == account_id)
        )
    ).all()
    events = (
        await db.execute(
            select(Event, Proposal.title, Proposal.circle_id)
            .join(Proposal, Proposal.id == Event.proposal_id)
            .where(or_(Event.actor_id == account_id, cast(Event.data, String).contains(me)))
            .order_by(Event.at, Event.seq)
        )
    ).all()
    mine = [(e, title, circle) for e, title, circle in events if e.actor_id == account_id or rules.names(e.data, me)]
    in_meetings = (
        await db.execute(
            select(MeetingEvent, Meeting.circle_id, Meeting.starts_at)
            .join(Meeting, Meeting.id == MeetingEvent.meeting_id)
            .where(or_(MeetingEvent.actor_id == account_id, cast(MeetingEvent.data, String).contains(me)))
            .order_by(MeetingEvent.at, MeetingEvent.seq)
        )
    ).all()
    proposals = await db.scalars(select(Proposal).where(Proposal.author_id == account_id).order_by(Proposal.created_at))
    invitations = await db.execute(
        select(Invitation, Circle.name)
        .join(Circle, Circle.id == Invitation.circle_id)
        .where(Invitation.invited_by_id == account_id)
        .order_by(Invitation.created_at)
    )
    tokens = await db.scalars(select(ApiToken).where(ApiToken.account_id == account_id).order_by(ApiToken.created_at))
    return {
        "account": {
            "id": me,
            "name": account.name,
            "email": account.email,
            "language": account.language,
            "time_zone": account.time_zone,
            "created_at": account.created_at.isoformat(),
        },
        "memberships": [
            {
                "circle": {"id": str(circle.id), "name": circle.name, "private": circle.private},
                "since": membership.created_at.isoformat(),
                "roles": [
                    {"name": role.name, "term_ends_on": role.term_ends_on.isoformat() if role.term_ends_on else None}
                    for role in membership.roles
                ],
            }
            for membership, circle in memberships
        ],
        "proposals": [
            {
                "id": str(p.id),
                "circle_id": str(p.circle_id),
                "title": p.title,
                "state": p.state,
                "driver": p.driver,
                "text": p.text,
            }
            for p in proposals
        ],
        "activity": [
            {
                "proposal": {"id": str(e.proposal_id), "title": title, "circle_id": str(circle)},
                "seq": e.seq,
                "type": e.type,
                "at": e.at.isoformat(),
                "data": e.data,
            }
            for e, title, circle in mine
        ],
        # what they did in meetings, and what the facilitator recorded of them (present, a check-in…)
        "meeting_activity": [
            {
                "meeting": {"id": str(e.meeting_id), "circle_id": str(circle), "starts_at": starts.isoformat()},
                "seq": e.seq,
                "type": e.type,
                "at": e.at.isoformat(),
                "data": e.data,
            }
            for e, circle, starts in in_meetings
            if e.actor_id == account_id or rules.names(e.data, me)
        ],
        "invitations_sent": [
            {"circle": circle, "email": i.email, "status": i.status, "at": i.created_at.isoformat()}
            for i, circle in invitations.all()
        ],
        "tokens": [{"label": t.label, "created_at": t.created_at.isoformat()} for t in tokens],
    }


async def last_steward_of(db: AsyncSession, account_id: uuid.UUID, today: date) -> list[str]:
    """The circles the account is the only steward of while others are members: someone must
    take the role over before the account goes. A circle with no other member is not held to
    it: it keeps its record, with nobody in it."""
    rows = (
        await db.execute(
            select(Membership.circle_id, Membership.account_id, Role.name, Role.term_ends_on)
            .outerjoin(Role, Role.membership_id == Membership.id)
            .where(Membership.circle_id.in_(select(Membership.circle_id).where(Membership.account_id == account_id)))
        )
    ).all()
    held: dict[uuid.UUID, set[uuid.UUID]] = {}
    members: dict[uuid.UUID, set[uuid.UUID]] = {}
    for circle, account, role, ends in rows:
        members.setdefault(circle, set()).add(account)
        if role in circle_rules.STEWARD_ROLES and not circle_rules.expired(ends, today):
            held.setdefault(circle, set()).add(account)
    blocked = [c for c in members if held.get(c) == {account_id} and members[c] != {account_id}]
    return sorted(await db.scalars(select(Circle.name).where(Circle.id.in_(blocked)))) if blocked else []


async def erase(
    db: AsyncSession,
    account_id: uuid.UUID,
    password: str,
    now: datetime,
    member_left: Departure,
    mail_dir: Path | None,
) -> list[Callable[[], None]]:
    """Erases the account (see the module's docstring), in the caller's transaction: checked
    first, so a refusal changes nothing. Returns what to do once committed (the events of the
    proposals they left, to the live pages)."""
    account = await db.get(Account, account_id)
    if account is None:
        raise Refusal("not_found", _("This account no longer exists."), 404)
    if await accounts.authenticate(db, account.email, password) is None:
        raise Refusal("wrong_password", _("The password is wrong: nothing was erased."), 403, "password")
    blocked = await last_steward_of(db, account_id, now.date())
    if blocked:
        raise Refusal(
            "last_steward",
            _(
                "You are the last facilitator, secretary or leader of {circles}: give the role to another "
                "member first. Nothing was erased."
            ).format(circles=", ".join(blocked)),
            409,
        )
    name, email = account.name, account.email
    # Leaving each circle: their open objections lapse on the record, rounds stop waiting for them.
    published = []
    for membership in list(await db.scalars(select(Membership).where(Membership.account_id == account_id))):
        await db.delete(membership)
        await db.flush()
        published.append(await member_left(db, membership.circle_id, account_id, account_id, now))

    former = uuid.uuid4()
    db.add(Account(id=former, name=rules.FORMER_MEMBER, email=f"{former.hex}@{ERASED_DOMAIN}", password_hash="!erased"))
    await db.flush()
    # What refers to the account: the record moves to the former member; anything else is
    # theirs alone and goes (tokens, notifications, mail choices, the calendar link, and any
    # table added later, such as sessions, until it is listed in ON_THE_RECORD).
    for table in orm_registry.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name != Account.__tablename__ or table.name == Account.__tablename__:
                continue
            if fk.parent in ON_THE_RECORD:
                await db.execute(update(table).where(fk.parent == account_id).values({fk.parent.name: former}))
            else:
                await db.execute(delete(table).where(fk.parent == account_id))
    await db.execute(delete(Invitation).where(Invitation.email == email))  # to them, open or answered

    old, new = str(account_id), str(former)
    rewritten = (
        (Event, "data"),
        (Proposal, "machine"),
        (Decision, "record"),
        (Review, "record"),
        (MeetingEvent, "data"),  # member, recorded_by
        (Meeting, "machine"),  # who is present, who has spoken
    )
    for model, column in rewritten:
        attribute = getattr(model, column)
        for row in await db.scalars(select(model).where(cast(attribute, String).contains(old))):
            setattr(row, column, rules.replaced(getattr(row, column), old, new))

    await db.execute(delete(Mail).where(Mail.recipient == email))
    named = rules.name_in_text(name)
    for mail in await db.scalars(
        select(Mail).where(
            or_(*(func.lower(getattr(Mail, c)).contains(name.lower()) for c in ("subject", "text", "html")))
        )
    ):
        mail.subject, mail.text, mail.html = (
            named.sub(rules.FORMER_MEMBER, v) for v in (mail.subject, mail.text, mail.html)
        )
    await db.delete(account)
    await db.flush()
    if mail_dir is not None:
        published.append(lambda: _forget_mail_files(mail_dir, name, email))
    return published


def _forget_mail_files(mail_dir: Path, name: str, email: str) -> None:
    """Without a mail server, the mail files are the mailboxes this server keeps: the mails to
    the person go; in the others, their name becomes "a former member", as in the outbox."""
    if not mail_dir.is_dir():
        return
    named = rules.name_in_text(name.encode())
    for path in mail_dir.glob("*.eml"):
        mail = path.read_bytes()
        if email.lower().encode() in mail.lower():
            path.unlink(missing_ok=True)
        elif (changed := named.sub(rules.FORMER_MEMBER.encode(), mail)) != mail:
            temporary = path.with_name(f".{path.name}.tmp")  # as outbox.files writes: no half file
            temporary.write_bytes(changed)
            temporary.replace(path)
