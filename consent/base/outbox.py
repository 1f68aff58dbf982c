"""The outbox: a mail is a row written in the transaction that causes it, so a rolled-back
action sends nothing and a committed one loses nothing; a sender delivers the rows afterwards,
at least once, retrying with backoff. Each mail's Message-ID is fixed when the row is made, so
a mail sent again after a crash (between the server's 250 and our commit) is recognisably the
same mail. Once sent, its body is dropped: the outbox is not an archive of what people read."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import smtplib
import ssl
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import unquote, urlsplit

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Integer, String, Table, Text, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from consent.base.clock import Clock
from consent.base.work import Recurring

log = logging.getLogger("consent.mail")

PENDING, SENT, FAILED = "pending", "sent", "failed"
# Seconds before each retry: a mail server down for a day still gets its mail.
BACKOFF = (30, 120, 600, 3600, 6 * 3600, 24 * 3600)
SENDING = 7_170_002  # the advisory lock's key on PostgreSQL: one sender among the processes


class Mail(UUIDAuditBase):
    __tablename__ = "mail"

    # What the mail is about, so it is made once: note:<notification>, digest:<account>:<day>, …
    key: Mapped[str] = mapped_column(String(200), unique=True)
    message_id: Mapped[str] = mapped_column(String(200))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # Reply-To, List-Unsubscribe…
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    error: Mapped[str] = mapped_column(String(500), default="")


@dataclass(frozen=True)
class Letter:
    """A mail to queue: whom to, what it says (plain text and HTML), and its extra headers."""

    key: str
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]


def rows(letters: Sequence[Letter], mail_from: str, now: datetime) -> list[dict[str, Any]]:
    """The outbox rows of some letters, for one INSERT in the caller's transaction."""
    domain = mail_from.rpartition("@")[2] or "localhost"
    return [
        {
            "id": uuid.uuid4(),
            "key": letter.key,
            "message_id": make_msgid(domain=domain),
            "recipient": letter.to,
            "subject": letter.subject,
            "text": letter.text,
            "html": letter.html,
            "headers": letter.headers,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "error": "",
            "created_at": now,
            "updated_at": now,
        }
        for letter in letters
    ]


# Lines up to SMTP's limit: a header folded at 78 characters came out with a leading space.
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)


def message(row: Any, mail_from: str) -> EmailMessage:
    mail = EmailMessage(policy=MAIL_POLICY)
    mail["From"], mail["To"], mail["Subject"] = mail_from, row.recipient, row.subject
    mail["Message-ID"], mail["Date"] = row.message_id, format_datetime(row.created_at)
    mail["Auto-Submitted"] = "auto-generated"  # so auto-responders do not answer
    for name, value in (row.headers or {}).items():
        mail[name] = value
    mail.set_content(row.text)
    mail.add_alternative(row.html, subtype="html")
    return mail


class Transport(Protocol):
    def __call__(self, mail: EmailMessage) -> None: ...


class Permanent(Exception):
    """The mail server refused this mail for good (a 5xx): retrying would not help."""


def smtp(url: str) -> Transport:
    """`smtp://user:pass@host:port` (STARTTLS whenever the server offers it) or `smtps://`."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ValueError("CONSENT_SMTP_URL: smtp://user:password@host:port or smtps://…")
    secure, host = parts.scheme == "smtps", parts.hostname
    port = parts.port or (465 if secure else 25)
    user, password = unquote(parts.username or ""), unquote(parts.password or "")

    def send(mail: EmailMessage) -> None:
        client: smtplib.SMTP = (
            smtplib.SMTP_SSL(host, port, timeout=30, context=ssl.create_default_context())
            if secure
            else smtplib.SMTP(host, port, timeout=30)
        )
        with client:
            if not secure:
                client.ehlo()
                if client.has_extn("starttls"):
                    client.starttls(context=ssl.create_default_context())
            if user:
                client.login(user, password)
            try:
                client.send_message(mail)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                code = getattr(exc, "smtp_code", None) or 0
                if isinstance(exc, smtplib.SMTPRecipientsRefused):
                    code = min(c for c, _ in exc.recipients.values())
                if 500 <= code < 600:
                    raise Permanent(str(exc)) from exc
                raise

    return send


def files(directory: Path) -> Transport:
    """Without a mail server (the embedded default), each mail is a file to open with any mail
    program: written under a temporary name and renamed, so no half file is ever read."""

    def send(mail: EmailMessage) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        name = mail["Message-ID"].strip("<>").replace("/", "_")
        temporary = directory / f".{name}.tmp"
        temporary.write_bytes(bytes(mail))
        temporary.replace(directory / f"{name}.eml")

    return send


class MailSender(Recurring):
    """Sends the outbox, oldest first, one mail per commit: a crash resends at most the mail in
    flight. It reads what is due on a connection that only reads (`reader`) and takes the
    writing one (`engine`: SQLite's only one) just to mark each mail sent, so 2,000 mails going
    out hold up no action. With several processes, one holds the sender's lock for a pass and
    the others pass."""

    def __init__(
        self,
        engine: AsyncEngine,
        reader: AsyncEngine,
        transport: Transport,
        mail_from: str,
        clock: Clock,
        every_seconds: float,
    ) -> None:
        super().__init__(every_seconds, log)
        self.engine, self.reader, self.transport = engine, reader, transport
        self.mail_from, self.clock = mail_from, clock

    async def once(self) -> None:
        await self.send_due()

    async def send_due(self) -> int:
        """Sends every mail that is due; returns how many were delivered."""
        table = cast(Table, Mail.__table__)
        delivered = 0
        async with only_sender(self.engine) as sending:
            while sending and not self.stopping:
                async with self.reader.connect() as conn:  # no transaction stays open while a mail server answers
                    due = (
                        await conn.execute(
                            select(table)
                            .where(table.c.status == PENDING, table.c.next_attempt_at <= self.clock())
                            .order_by(table.c.next_attempt_at, table.c.created_at)
                            .limit(20)
                        )
                    ).all()
                if not due:
                    break
                for row in due:
                    if self.stopping:  # the rest is sent when the server is back
                        break
                    values = await self._deliver(row)
                    async with self.engine.begin() as conn:
                        await conn.execute(update(table).where(table.c.id == row.id).values(**values))
                    delivered += values["status"] == SENT
        return delivered

    async def _deliver(self, row: Any) -> dict[str, Any]:
        attempts = row.attempts + 1
        try:
            await asyncio.to_thread(self.transport, message(row, self.mail_from))
        except Exception as exc:
            final = isinstance(exc, Permanent) or attempts > len(BACKOFF)
            log.warning("mail %s to %s: attempt %d failed: %s", row.message_id, row.recipient, attempts, exc)
            delay = BACKOFF[min(attempts, len(BACKOFF)) - 1]
            return {
                "attempts": attempts,
                "status": FAILED if final else PENDING,
                "next_attempt_at": self.clock() + timedelta(seconds=delay),
                "error": str(exc)[:500],
            }
        # Sent: what it said is no longer kept (as little about people as possible).
        return {"attempts": attempts, "status": SENT, "sent_at": self.clock(), "text": "", "html": "", "error": ""}


@contextlib.asynccontextmanager
async def only_sender(engine: AsyncEngine) -> AsyncIterator[bool]:
    """Whether this process is the one sending, by a lock that ends with its holder (a process
    killed mid-batch lets another take over at once): on PostgreSQL an advisory lock on a
    connection held for the pass; on SQLite, whose processes share a machine, a lock on a file
    beside the database (its one writing connection is not held)."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            held = bool(await conn.scalar(select(func.pg_try_advisory_lock(SENDING))))
            await conn.commit()
            try:
                yield held
            finally:
                if held:
                    await conn.execute(select(func.pg_advisory_unlock(SENDING)))
                    await conn.commit()
        return
    lock = os.open(f"{engine.url.database}.sending", os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        yield False
        return
    try:
        yield True
    finally:
        os.close(lock)  # which releases the lock
