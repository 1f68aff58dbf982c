"""Settings, read once from environment variables.

| variable | default |
| --- | --- |
| CONSENT_DATA_DIR | ./consent-data (SQLite file, session files, generated secret key) |
| CONSENT_DATABASE_URL | sqlite+aiosqlite:///<data dir>/consent.db |
| CONSENT_REDIS_URL | none: one process, events and presence in memory; `redis://host:6379/0` (Redis or Valkey) carries them between processes (docs/deploy.md) |
| CONSENT_SECRET_KEY | generated on first start and stored in <data dir>/secret_key |
| CONSENT_HOST / CONSENT_PORT | 127.0.0.1 / 8000 |
| CONSENT_SECURE_COOKIES | off (turn on behind HTTPS) |
| CONSENT_TICK_SECONDS | 15 (how often async deadlines are checked) |
| CONSENT_HEARTBEAT_SECONDS | 20 (websocket ping interval; a socket silent for twice that is closed) |
| CONSENT_SOCKET_BACKLOG | 1000 (events a meeting socket may fall behind before it is closed, 4008) |
| CONSENT_MAX_MESSAGE_BYTES | 65536 (larger websocket messages are refused, 1009) |
| CONSENT_BASE_URL | http://<host>:<port>: the address people reach the server at; every link in mail and feeds starts with it, never with a request's Host |
| CONSENT_SMTP_URL | none: mail is written to files in <data dir>/mail; `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465` (docs/email.md) |
| CONSENT_MAIL_FROM | consent@localhost: the sender of every mail; replies come back to its mailbox, `+r…` added |
| CONSENT_DIGEST_HOUR | 7 (the hour, UTC, of the daily digest) |
| CONSENT_MAIL_IN | none; `127.0.0.1:8025`: `consent serve` also takes replies to its mails there, over LMTP, with the server's own writer (docs/email.md; several processes run `consent mail-in` instead) |
| CONSENT_SIGN_UPS_PER_ADDRESS | 30 (sign-ups from one client address in 10 minutes, then 429) |
| CONSENT_SIGN_IN_FAILURES_PER_ACCOUNT | 5 (failed sign-ins to one account in 15 minutes, then its sign-in is locked 5 minutes) |
| CONSENT_SIGN_IN_FAILURES_PER_ADDRESS | 100 (failed sign-ins from one client address in 15 minutes, then 429) |
| CONSENT_FAST_PASSWORD_HASHES | off; the test suite's "1" makes password hashes cheap (and cheap to crack): never for a server |
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    secure_cookies: bool = False
    # Generous per address: a hall of people behind one router signs up and in at once.
    sign_ups_per_address: int = 30
    sign_in_failures_per_account: int = 5
    sign_in_failures_per_address: int = 100
    tick_seconds: float = 15.0  # how often async deadlines are checked
    heartbeat_seconds: float = 20.0
    socket_backlog: int = 1000
    max_message_bytes: int = 65536
    base_url: str = ""  # "" until from_env: http://host:port
    smtp_url: str | None = None
    mail_from: str = "consent@localhost"
    digest_hour: int = 7
    mail_in: str | None = None  # host:port of the LMTP listener inside `consent serve`

    @property
    def site(self) -> str:
        """The base URL, without a trailing slash; links are this plus a path."""
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def mail_in_address(self) -> tuple[str, int] | None:
        if self.mail_in is None:
            return None
        host, _, port = self.mail_in.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"CONSENT_MAIL_IN: host:port, like 127.0.0.1:8025 (not {self.mail_in!r})")
        return host.strip("[]"), int(port)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("CONSENT_DATA_DIR", "consent-data")).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        database_url = env.get("CONSENT_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'consent.db'}"
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            secret_key=env.get("CONSENT_SECRET_KEY") or _stored_secret_key(data_dir),
            redis_url=env.get("CONSENT_REDIS_URL") or None,
            host=env.get("CONSENT_HOST", "127.0.0.1"),
            port=int(env.get("CONSENT_PORT", "8000")),
            secure_cookies=env.get("CONSENT_SECURE_COOKIES", "").lower() in {"1", "true", "yes", "on"},
            sign_ups_per_address=int(env.get("CONSENT_SIGN_UPS_PER_ADDRESS", "30")),
            sign_in_failures_per_account=int(env.get("CONSENT_SIGN_IN_FAILURES_PER_ACCOUNT", "5")),
            sign_in_failures_per_address=int(env.get("CONSENT_SIGN_IN_FAILURES_PER_ADDRESS", "100")),
            tick_seconds=float(env.get("CONSENT_TICK_SECONDS", "15")),
            heartbeat_seconds=float(env.get("CONSENT_HEARTBEAT_SECONDS", "20")),
            socket_backlog=int(env.get("CONSENT_SOCKET_BACKLOG", "1000")),
            max_message_bytes=int(env.get("CONSENT_MAX_MESSAGE_BYTES", "65536")),
            base_url=env.get("CONSENT_BASE_URL", ""),
            smtp_url=env.get("CONSENT_SMTP_URL") or None,
            mail_from=env.get("CONSENT_MAIL_FROM") or "consent@localhost",
            digest_hour=int(env.get("CONSENT_DIGEST_HOUR", "7")),
            mail_in=env.get("CONSENT_MAIL_IN") or None,
        )


def _stored_secret_key(data_dir: Path) -> str:
    """A key made once per installation, so that no secret ever lives in the code."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key
