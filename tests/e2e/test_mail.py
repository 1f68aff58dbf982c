"""Mail over real SMTP: a `consent serve` process sends to an SMTP server of the test's own
(aiosmtpd on a loopback port). An async proposal in a circle of five tells everyone, reminds
those who have not responded, and mails the decision to all; a sender killed mid-batch and
started again delivers every mail, none lost, and a mail sent twice is the same mail."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bench.servers import free_port
from consent.base import db
from consent.base.outbox import Mail
from consent.base.settings import Settings
from tests.conftest import start_server
from tests.helpers import Headers, proposal_body, riverside, signed_in


class Inbox:
    """An SMTP server's mailbox; with `delay`, it takes that long to accept each mail (after it
    has it: a sender killed then has sent a mail it never heard accepted)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.mails: list[EmailMessage] = []
        self.logs: list[Path] = []  # the servers' logs, said when a mail does not come

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 OK"

    def wait_for(self, check: Callable[[list[EmailMessage]], bool], seconds: float = 60) -> list[EmailMessage]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if check(list(self.mails)):
                return list(self.mails)
            time.sleep(0.05)
        said = "\n".join(line for log in self.logs for line in log.read_text().splitlines() if "INFO" not in line)
        raise AssertionError(
            f"the inbox has {[(str(m['To']), str(m['Subject'])) for m in self.mails]}\nthe servers said:\n{said[-6000:]}"
        )


def smtp_server(inbox: Inbox) -> Iterator[Controller]:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    found = Inbox()
    for controller in smtp_server(found):
        monkeypatch.setenv("CONSENT_SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
        monkeypatch.setenv("CONSENT_MAIL_FROM", "consent@riverside.example")
        monkeypatch.setenv("CONSENT_TICK_SECONDS", "0.5")  # the notifier's look for reminders
        yield found


def to(mails: list[EmailMessage], subject: str) -> Counter[str]:
    return Counter(str(m["To"]).split("@")[0] for m in mails if subject in str(m["Subject"]))


async def act(http: httpx.AsyncClient, url: str, who: Headers, proposal_id: str, type_: str, **data: Any) -> None:
    body = {"type": type_, "client_id": f"{type_}-{time.monotonic_ns()}", **data}
    response = await http.post(f"{url}/api/proposals/{proposal_id}/actions", json=body, headers=who)
    assert response.status_code == 200, response.text


async def test_an_async_proposal_in_a_circle_of_five_by_mail(
    settings: Settings, inbox: Inbox, http: httpx.AsyncClient
) -> None:
    server = start_server(settings)
    inbox.logs.append(server.log)
    try:
        url = server.url
        names = ("ada", "bo", "cy", "di", "eve")
        people = {name: (await signed_in(http, name, url=url))[0] for name in names}
        circle_id, domain_id = await riverside(http, people["ada"], names[1:], url=url)
        invited = inbox.wait_for(lambda mails: len(mails) == 4)
        assert to(invited, "Ada invites you to Riverside") == dict.fromkeys(names[1:], 1)

        # Closes in a day and a few seconds: the 24-hour reminder falls due while the test runs,
        # after Bo and Cy have answered even on a busy machine.
        closes_at = (datetime.now(UTC) + timedelta(hours=24, seconds=12)).isoformat()
        body = proposal_body(domain_id, closes_at, title="Ladder safety", review_by="2027-06-01")
        response = await http.post(f"{url}/api/circles/{circle_id}/proposals", json=body, headers=people["ada"])
        proposal_id = response.json()["id"]
        for step in ("start", "advance", "advance"):  # into the consent round at once
            await act(http, url, people["ada"], proposal_id, step)
        told = inbox.wait_for(lambda mails: set(to(mails, "Ladder safety: your response")) >= set(names[1:]))
        assert "ada" not in to(told, "Ladder safety: your response")
        await act(http, url, people["bo"], proposal_id, "consent")
        await act(http, url, people["cy"], proposal_id, "concern", text="Who keeps the key?")

        reminded = inbox.wait_for(lambda mails: len(to(mails, "Reminder: Ladder safety")) == 3)
        assert to(reminded, "Reminder: Ladder safety") == {"ada": 1, "di": 1, "eve": 1}  # not bo or cy
        reminder = next(m for m in reminded if "Reminder" in str(m["Subject"]) and str(m["To"]).startswith("di@"))
        assert str(reminder["Reply-To"]).startswith("consent+r") and reminder["Message-ID"]

        for name in ("ada", "di", "eve"):
            await act(http, url, people[name], proposal_id, "consent")
        decided = inbox.wait_for(lambda mails: len(to(mails, "Decided: Ladder safety")) == 5)
        assert to(decided, "Decided: Ladder safety") == dict.fromkeys(names, 1)
        record = next(m for m in decided if "Decided" in str(m["Subject"])).get_body(("plain",))
        assert record is not None and "- Cy consented with a concern" in record.get_content()  # type: ignore[attr-defined]
        await asyncio.sleep(1.5)  # three more passes of the notifier: nothing is sent twice
        assert len({m["Message-ID"] for m in inbox.mails}) == len(inbox.mails)
    finally:
        server.stop()


async def test_the_sender_killed_mid_batch_and_started_again_loses_no_mail(
    settings: Settings, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = Inbox(delay=0.3)
    for controller in smtp_server(slow):
        monkeypatch.setenv("CONSENT_SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
        server = start_server(settings)
        slow.logs.append(server.log)
        try:
            ada, _ = await signed_in(http, "ada", url=server.url)
            circle = (await http.post(f"{server.url}/api/circles", json={"name": "Hall"}, headers=ada)).json()
            for n in range(12):  # twelve invitations, each a mail the slow server takes 0.3 s to accept
                invited = {"email": f"member{n}@example.org"}
                response = await http.post(
                    f"{server.url}/api/circles/{circle['id']}/members", json=invited, headers=ada
                )
                assert response.status_code == 202, response.text
            slow.wait_for(lambda mails: len(mails) >= 4)
            server.process.kill()  # kill -9, mid-batch
            server.process.wait()
            before = len(slow.mails)
            assert before < 12

            server = start_server(settings)
            slow.logs.append(server.log)
            slow.wait_for(lambda mails: len({m["Message-ID"] for m in mails}) == 12)
            await asyncio.sleep(1)  # the sender's next passes send nothing again
        finally:
            server.stop()
        engine = db.create_engine(settings.database_url)
        async with engine.connect() as conn:
            rows = (await conn.execute(select(Mail.message_id, Mail.status))).all()
        await engine.dispose()
        assert {status for _, status in rows} == {"sent"} and len(rows) == 12
        received = Counter(str(m["Message-ID"]) for m in slow.mails)
        assert set(received) == {message_id for message_id, _ in rows}  # every mail arrived
        # At most the one in flight when the process died came twice, as the same mail.
        assert sum(received.values()) - len(received) <= 1


async def test_two_server_processes_send_each_mail_once(
    settings: Settings, inbox: Inbox, http: httpx.AsyncClient
) -> None:
    first, second = start_server(settings), start_server(settings)
    inbox.logs += [first.log, second.log]
    try:
        names = ("ada", "bo", "cy", "di", "eve", "fay")
        people = {name: (await signed_in(http, name, url=first.url))[0] for name in names}
        circle_id, domain_id = await riverside(http, people["ada"], names[1:], url=second.url)
        body = proposal_body(domain_id, (datetime.now(UTC) + timedelta(days=3)).isoformat(), title="Rota")
        for url in (first.url, second.url):  # one proposal opened through each process
            response = await http.post(f"{url}/api/circles/{circle_id}/proposals", json=body, headers=people["ada"])
            await act(http, url, people["ada"], response.json()["id"], "start")
        inbox.wait_for(lambda mails: sum(to(mails, "Rota: your response").values()) == 10)
        await asyncio.sleep(2)  # four more passes of each process's notifier and sender
        assert to(inbox.mails, "Rota: your response") == dict.fromkeys(names[1:], 2)
        assert to(inbox.mails, "invites you") == dict.fromkeys(names[1:], 1)
        assert len({m["Message-ID"] for m in inbox.mails}) == len(inbox.mails) == 15
    finally:
        first.stop()
        second.stop()
