"""The proposal tests' circle and clock, on a server whose notifier looks every 0.1 s (deadlines
near, digests: what no action wakes it for), and the mail it writes to files."""

from __future__ import annotations

from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from consent.base.settings import Settings
from tests.rounds.conftest import circle, clock  # noqa: F401  (the same fixtures, on these settings)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, tick_seconds=0.1)


def mails(settings: Settings, invitations: bool = False) -> list[EmailMessage]:
    """The mail written to the data directory (no SMTP server configured), oldest first; not
    the invitations that made the circle, unless asked."""
    files = sorted(settings.mail_dir.glob("*.eml"), key=lambda f: f.stat().st_mtime_ns)
    found = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    return [m for m in found if invitations or " invites you to " not in str(m["Subject"])]  # type: ignore[misc]
