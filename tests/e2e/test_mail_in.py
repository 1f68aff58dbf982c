"""Answering by mail, against real processes: a `consent serve` sending its mail to an SMTP
server of the test's own (aiosmtpd, on the loopback), and taking replies over LMTP inside the
server (CONSENT_MAIL_IN) or over SMTP in a `consent mail-in` process of its own."""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from email.utils import make_msgid
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import update

from bench.servers import free_port, stop
from consent.base import db
from consent.base.settings import Settings
from consent.notifications.models import Notification
from tests.e2e.org import Org, Servers, organisation
from tests.helpers import email_of

MAIL_FROM = "consent@riverside.example"
TITLE = "Weekly food runs"


class Inbox:
    """The SMTP server the consent server sends its mail to: keeps every mail it is given."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.mails.append(BytesParser(policy=default).parsebytes(envelope.original_content or b""))
        return "250 OK"

    def to(self, name: str, subject: str = "") -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.mails if m["To"] == email_of(name) and subject in str(m["Subject"])]

    async def wait(self, name: str, subject: str, count: int = 1) -> list[EmailMessage]:
        """The mails to `name` whose subject has `subject`, once there are `count` of them."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if len(found := self.to(name, subject)) >= count:
                return found
            await asyncio.sleep(0.1)
        raise AssertionError(f"{name} got no {count} mail(s) “{subject}”: {[m['Subject'] for m in self.to(name)]}")


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """An SMTP server on a loopback port that every server the test starts sends its mail to."""
    received = Inbox()
    controller = Controller(received, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setenv("CONSENT_SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
    monkeypatch.setenv("CONSENT_MAIL_FROM", MAIL_FROM)
    yield received
    controller.stop()


def text(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def reply(to: EmailMessage, name: str, body: str) -> EmailMessage:
    """A member's reply to a mail, as a mail program makes it: to its Reply-To, quoting it."""
    mail = EmailMessage()
    mail["From"], mail["To"] = email_of(name), str(to["Reply-To"])
    mail["Subject"] = f"Re: {to['Subject']}"
    mail["Message-ID"], mail["In-Reply-To"] = make_msgid(domain="example.org"), str(to["Message-ID"])
    quoted = "\n".join(f"> {line}" for line in text(to).splitlines())
    mail.set_content(f"{body}\n\nOn Thu, 3 Dec 2026 at 09:10, consent <{MAIL_FROM}> wrote:\n{quoted}\n")
    return mail


def deliver(port: int, mail: EmailMessage, lmtp: bool = True) -> dict[str, tuple[int, bytes]]:
    """Hands the mail over as a mail server would; returns the recipients refused."""
    client = smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP("127.0.0.1", port)
    with client:
        return client.send_message(mail)


def refused(port: int, mail: EmailMessage) -> tuple[int, str]:
    """The answer to a mail whose only recipient is refused."""
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refusal:
        deliver(port, mail)
    [(code, message)] = refusal.value.recipients.values()
    return code, message.decode()


async def aged(settings: Settings, org: Org, name: str, proposal_id: str, days: int) -> None:
    """`name`'s notifications of the proposal, made `days` ago, as if time had passed."""
    engine = db.create_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(Notification)
                .where(
                    Notification.account_id == uuid.UUID(org.ids[name]),
                    Notification.proposal_id == uuid.UUID(proposal_id),
                )
                .values(at=datetime.now(UTC) - timedelta(days=days))
            )
    finally:
        await engine.dispose()


async def test_a_member_objects_by_replying_to_the_mail_and_the_objection_is_on_the_record(
    servers: Servers, http: httpx.AsyncClient, inbox: Inbox, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("CONSENT_MAIL_IN", f"127.0.0.1:{port}")
    org = await organisation(http, servers.start().url, members=4)  # a circle of five
    others = ["m01", "m02", "m03", "m04"]
    proposal_id = (await org.propose())["id"]
    await org.ok(proposal_id, "ada", "start")

    # Everyone but the author is asked, each with a reply address of their own.
    asked = {name: (await inbox.wait(name, "your response is asked"))[0] for name in others}
    assert inbox.to("ada", "your response is asked") == []
    addresses = {str(mail["Reply-To"]) for mail in asked.values()}
    assert len(addresses) == 4 and all(
        a.startswith("consent+r") and a.endswith("@riverside.example") for a in addresses
    )
    assert "start your reply with one word" in text(asked["m01"]).lower()

    # "consent" while the proposal is in its clarifying round: an error mail, nothing recorded.
    before = await org.events(proposal_id)
    early = reply(asked["m02"], "m02", "consent")
    assert await asyncio.to_thread(deliver, port, early) == {}
    [error] = await inbox.wait("m02", "Not recorded")
    assert "clarifying round" in text(error) and "ask a question" in text(error)
    assert error["In-Reply-To"] == early["Message-ID"]
    assert await org.events(proposal_id) == before

    await org.ok(proposal_id, "ada", "advance")
    await org.ok(proposal_id, "ada", "advance")
    consent_round = {name: (await inbox.wait(name, "your response is asked", 3))[-1] for name in others}
    assert "consent round" in text(consent_round["m01"])

    # m01 objects by mail: on the record as theirs, confirmed to them, told to the author.
    objection = reply(consent_round["m01"], "m01", "object the ladder needs a safety check")
    assert await asyncio.to_thread(deliver, port, objection) == {}
    [confirmation] = await inbox.wait("m01", "On the record")
    assert confirmation["In-Reply-To"] == objection["Message-ID"]
    assert f"Your objection to “{TITLE}” is on the record: the ladder needs a safety check" in text(confirmation)
    state = await org.state(proposal_id)
    [on_record] = state["objections"]
    assert on_record["member"]["id"] == org.ids["m01"] and on_record["text"] == "the ladder needs a safety check"
    await inbox.wait("ada", "An objection to your proposal")
    after_objection = await org.events(proposal_id)
    assert after_objection[-1]["type"] == "responded" and after_objection[-1]["actor"]["id"] == org.ids["m01"]

    # The same mail delivered again changes nothing, and is not answered again.
    assert await asyncio.to_thread(deliver, port, objection) == {}
    assert await org.events(proposal_id) == after_objection

    # An objection without a reason: an error mail, nothing recorded.
    bare = reply(consent_round["m03"], "m03", "Object")
    assert await asyncio.to_thread(deliver, port, bare) == {}
    [no_reason] = await inbox.wait("m03", "Not recorded")
    assert "An objection needs a reason" in text(no_reason)
    # Replying to the answer is trying again, with the same reply address.
    assert no_reason["Reply-To"] == consent_round["m03"]["Reply-To"]
    concern = reply(no_reason, "m03", "concern: the ladder is old")
    assert await asyncio.to_thread(deliver, port, concern) == {}
    [recorded] = await inbox.wait("m03", "On the record")
    assert f"Your consent to “{TITLE}” with a concern is on the record: the ladder is old" in text(recorded)
    # Answers go out in the order they were queued: a second confirmation would be out by now.
    assert len(inbox.to("m01", "On the record")) == 1
    after_concern = await org.events(proposal_id)
    assert after_concern[:-1] == after_objection and after_concern[-1]["data"]["kind"] == "concern"

    # Not understood: the answer says the four words.
    muddled = reply(consent_round["m02"], "m02", "I think so, yes")
    assert await asyncio.to_thread(deliver, port, muddled) == {}
    [not_understood] = (await inbox.wait("m02", "Not recorded", 2))[1:]
    assert "consent, concern, object or stand aside" in text(not_understood)

    # An out-of-office note is taken, and neither applied nor answered (checked at the end).
    away = reply(consent_round["m04"], "m04", "Consent is what I give when I am back on Monday.")
    away["Auto-Submitted"] = "auto-replied"
    assert await asyncio.to_thread(deliver, port, away) == {}
    assert await org.events(proposal_id) == after_concern

    # A forged reply address, and mail to the plain address: refused, nothing changes.
    forged = reply(consent_round["m04"], "m04", "consent")
    local, _, domain = str(forged["To"]).partition("@")
    middle = len(local) // 2  # (the last character carries bits that decoding ignores)
    changed = "a" if local[middle] != "a" else "b"
    forged.replace_header("To", f"{local[:middle]}{changed}{local[middle + 1 :]}@{domain}")
    code, message = await asyncio.to_thread(refused, port, forged)
    assert code == 550 and "Not a reply address" in message
    plain = reply(consent_round["m04"], "m04", "consent")
    plain.replace_header("To", MAIL_FROM)
    assert (await asyncio.to_thread(refused, port, plain))[0] == 550

    # A reply address over 30 days old: refused, nothing changes.
    await aged(settings, org, "m04", proposal_id, days=31)
    late = reply(consent_round["m04"], "m04", "consent")
    code, message = await asyncio.to_thread(refused, port, late)
    assert code == 550 and "expired" in message
    assert await org.events(proposal_id) == after_concern

    # A proposal withdrawn: its reply addresses expire with it.
    other_id = (await org.propose(title="Tool library"))["id"]
    await org.ok(other_id, "ada", "start")
    [asked_other] = await inbox.wait("m04", "Tool library: your response is asked")
    await org.ok(other_id, "ada", "withdraw", reason="Not now")
    withdrawn = await org.events(other_id)
    code, message = await asyncio.to_thread(refused, port, reply(asked_other, "m04", "consent"))
    assert code == 550 and "expired" in message
    assert await org.events(other_id) == withdrawn
    assert inbox.to("m04", "Not recorded") == [] and inbox.to("m04", "On the record") == []


def start_mail_in(env: dict[str, str], port: int, log_path: Any) -> subprocess.Popen[bytes]:
    """`consent mail-in --smtp` on a loopback port, once it takes connections."""
    process = subprocess.Popen(
        [sys.executable, "-m", "consent.cli", "mail-in", "--host", "127.0.0.1", "--port", str(port), "--smtp"],
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"consent mail-in exited with {process.returncode}:\n{log_path.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return process
        time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"consent mail-in did not listen within 30 s:\n{log_path.read_text()}")


async def test_consent_mail_in_as_a_process_of_its_own_takes_replies_over_smtp(
    servers: Servers, http: httpx.AsyncClient, inbox: Inbox, settings: Settings
) -> None:
    server = servers.start()
    org = await organisation(http, server.url, members=2)
    proposal_id = (await org.propose())["id"]
    for step in ("start", "advance", "advance"):
        await org.ok(proposal_id, "ada", step)
    [asked] = (await inbox.wait("m01", "your response is asked", 3))[-1:]

    port = free_port()
    process = start_mail_in(server.env, port, settings.data_dir / "mail-in.log")
    try:
        stand_aside = reply(asked, "m01", "Stand aside: I am away that month")
        assert await asyncio.to_thread(deliver, port, stand_aside, False) == {}
        [confirmation] = await inbox.wait("m01", "On the record")  # sent by the server's sender
        assert f"Your stand-aside on “{TITLE}” is on the record: I am away that month" in text(confirmation)
        [response] = [p for p in (await org.state(proposal_id))["participants"] if p["id"] == org.ids["m01"]]
        assert response["response"] == "stand_aside"
    finally:
        stop(process)
