"""The mail-in listener: replies to the mails that ask for a response, handed over by a mail
server over LMTP (or SMTP), applied as the member's response through the one action writer.

At RCPT a recipient is refused (550), and nothing changes, unless it is a reply address this
server signed (Postman.reply_address) whose notification is at most 30 days old and whose
proposal is still open. At DATA the reply is read (consent.notifications.replies) and applied
as that member's action, with a client_id from its Message-ID, so a mail delivered twice is
applied once; then an answer mail is queued in the outbox: a confirmation, or what went wrong.
The mail itself is accepted (250) whatever the answer says: the member reads the answer, not a
bounce. A failure of ours (the database away) is a 451, so the mail server delivers it again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from circles.models import Circle, Membership
from consent.accounts.models import Account
from consent.base import i18n, outbox
from consent.base.clock import Clock
from consent.base.errors import Refusal
from consent.base.i18n import gettext as _
from consent.base.outbox import Mail
from consent.notifications import replies
from consent.notifications.mails import Postman
from consent.notifications.models import Notification
from rounds import actions
from rounds.models import Proposal
from rounds.services import Attempt, Outcome

log = logging.getLogger("consent.mail_in")

Submit = Callable[[Attempt], Awaitable[Outcome]]  # the action writer's: every action goes through it
MAX_MAIL_BYTES = 10 * 2**20  # a reply with a photo attached fits; more is refused (552)
FORGED = "550 5.1.1 Not a reply address of this server: answer on the proposal's page"
EXPIRED = "550 5.1.1 This reply address has expired (its proposal is closed, or the mail is over 30 days old)"
ACCEPTED = "250 2.0.0 Received"


@dataclass(frozen=True)
class Replied:
    """Whose reply to which proposal a reply address stands for."""

    notification_id: uuid.UUID
    at: datetime  # when the notification, and its mail, was made
    account_id: uuid.UUID
    name: str
    email: str
    proposal_id: uuid.UUID
    title: str
    state: str
    circle_id: uuid.UUID
    circle: str
    language: str | None  # the member's: the answer is in it


class Replies:
    """aiosmtpd's handler: its hooks are called by the listener for each command."""

    def __init__(
        self,
        read: Callable[[], AsyncSession],
        write: Callable[[], AsyncSession],
        submit: Submit,
        postman: Postman,
        clock: Clock,
        queued: Callable[[], None],
    ) -> None:
        # Lookups on a reading connection (`read`): on SQLite the writing one is every action's.
        # `queued`: an answer waits in the outbox (the server's sender looks at once).
        self.read, self.write, self.submit, self.postman = read, write, submit, postman
        self.clock, self.queued = clock, queued

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            replied = await self.replied(address)
        except Exception:
            log.exception("looking up the reply address %s failed", address)
            return "451 4.3.0 Try again later"
        if replied is None:
            return FORGED
        i18n.use(replied.language or i18n.DEFAULT)  # the answer's words, in this delivery's task
        if replies.expired(replied.at, replied.state, self.clock()):
            return EXPIRED
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = BytesParser(policy=default).parsebytes(content)
        statuses = []
        for address in envelope.rcpt_tos:
            try:
                statuses.append(await self.receive(address, message, content, envelope.mail_from))
            except Exception:
                log.exception("a reply to %s failed", address)
                statuses.append("451 4.3.0 Try again later")
        if isinstance(server, LMTP):  # LMTP answers DATA once for each recipient
            return "\r\n".join(statuses)
        return next((status for status in statuses if not status.startswith("250")), ACCEPTED)

    async def replied(self, address: str) -> Replied | None:
        """What a reply address stands for; None for an address that is not one of ours
        (forged, mistyped) or names nothing any more."""
        notification_id = self.postman.notification_of(address)
        if notification_id is None:
            return None
        async with self.read() as db:
            row = (
                await db.execute(
                    select(Notification.at, Account.id, Account.name, Account.email, Proposal.id, Proposal.title)
                    .add_columns(Proposal.state, Circle.id, Circle.name, Account.language)
                    .join(Account, Account.id == Notification.account_id)
                    .join(Proposal, Proposal.id == Notification.proposal_id)
                    .join(Circle, Circle.id == Proposal.circle_id)
                    .where(Notification.id == notification_id)
                )
            ).first()
        return None if row is None else Replied(notification_id, *row)

    async def receive(self, address: str, message: EmailMessage, content: bytes, sender: str | None) -> str:
        """Applies one reply and queues its answer; the status for this recipient."""
        replied = await self.replied(address)
        if replied is None:
            return FORGED
        if replies.automatic(message, sender):
            log.info("an automatic mail to %s, neither applied nor answered", address)
            return ACCEPTED
        message_id = str(message.get("Message-ID", ""))
        client_id = replies.client_id_of(message_id, content)
        reply = replies.read(replies.text_of(message))
        if not await self.is_member(replied):
            lines, recorded = replies.no_longer_member(replied.title, replied.circle), False
        elif reply.kind is None:
            lines, recorded = replies.not_understood(replied.title), False
        else:
            try:
                action = actions.decode({"type": reply.kind, "client_id": client_id, "text": reply.text})
                outcome = await self.submit(Attempt(replied.account_id, replied.proposal_id, action, self.clock()))
            except Refusal as refusal:
                lines, recorded = await self.refusal_lines(replied, reply.kind, refusal), False
            else:
                lines, recorded = replies.confirmation(reply.kind, replied.title, reply.text), True
                if outcome.repeated:
                    return ACCEPTED  # delivered again: answered the first time
        # The answer is threaded under the reply, unless its Message-ID is no header to repeat.
        in_reply_to = message_id if message_id.isascii() and message_id.isprintable() and len(message_id) <= 250 else ""
        await self.answer(replied, address, client_id, recorded, lines, in_reply_to)
        return ACCEPTED

    async def is_member(self, replied: Replied) -> bool:
        async with self.read() as db:
            membership = await db.scalar(
                select(Membership.id).where(
                    Membership.circle_id == replied.circle_id, Membership.account_id == replied.account_id
                )
            )
        return membership is not None

    async def refusal_lines(self, replied: Replied, kind: str, refusal: Refusal) -> list[str]:
        if refusal.code == "wrong_phase":
            async with self.read() as db:
                state = await db.scalar(select(Proposal.state).where(Proposal.id == replied.proposal_id))
            return replies.wrong_phase(kind, replied.title, state or replied.state)
        if refusal.code == "objection_needs_reason":
            return replies.needs_reason(replied.title)
        if refusal.code == "already_responded":
            return replies.already_responded(replied.title)
        if refusal.code == "not_a_participant":
            return replies.no_longer_member(replied.title, replied.circle)
        return replies.refused(replied.title, refusal.message)

    async def answer(
        self, replied: Replied, address: str, client_id: str, recorded: bool, lines: list[str], in_reply_to: str
    ) -> None:
        """Queues the answer mail, once for each reply (its key: a reply delivered again is
        answered once), to the member's own address whoever sent the reply. When nothing was
        recorded, replying to the answer is trying again."""
        key = f"reply:{replied.notification_id}:{client_id}"
        with i18n.using(replied.language):
            subject = (_("On the record: {title}") if recorded else _("Not recorded: {title}")).format(
                title=replied.title
            )
            link = self.postman.link(f"/proposals/{replied.proposal_id}")
            letter = self.postman.answer(key, replied.email, subject, lines, link, in_reply_to)
        if not recorded:
            letter = replace(letter, headers={**letter.headers, "Reply-To": address})
        async with self.write() as db:
            if await db.scalar(select(Mail.id).where(Mail.key == key)) is not None:
                return
            await db.execute(insert(Mail), outbox.rows([letter], self.postman.mail_from, self.clock()))
            await db.commit()
        self.queued()


class Listener:
    """The LMTP (or SMTP) server on the running event loop: inside `consent serve` it uses the
    server's own writer; `consent mail-in` runs it as a process of its own."""

    def __init__(self, handler: Replies, host: str, port: int, lmtp: bool = True) -> None:
        self.handler, self.host, self.port, self.lmtp = handler, host, port, lmtp
        self.server: asyncio.Server | None = None

    def protocol(self) -> SMTP:
        kind = LMTP if self.lmtp else SMTP
        # The host name it greets with, given: aiosmtpd would otherwise look it up in the DNS.
        hostname = self.handler.postman.mail_from.rpartition("@")[2] or "localhost"
        return kind(
            self.handler,
            data_size_limit=MAX_MAIL_BYTES,
            enable_SMTPUTF8=True,
            hostname=hostname,
            ident="consent mail-in",
        )

    async def start(self) -> None:
        self.server = await asyncio.get_running_loop().create_server(self.protocol, self.host, self.port)
        log.info("taking replies to mails by %s on %s:%d", "LMTP" if self.lmtp else "SMTP", self.host, self.port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(TimeoutError):  # a mail server's connection left open
                await asyncio.wait_for(self.server.wait_closed(), 5)
