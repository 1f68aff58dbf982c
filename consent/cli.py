"""The `consent` command: serve, demo, tick, mail-in, db upgrade, backup."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import sqlite3
import sys
import uuid
from pathlib import Path
from typing import Any

from consent.base import db, i18n
from consent.base.settings import Settings


def serve(settings: Settings, host: str, port: int, demo: bool, workers: int = 1) -> None:
    import uvicorn

    from consent.app import configure_logging, create_app

    # Where it listens is where links point, unless CONSENT_BASE_URL says otherwise; the
    # workers read their settings from the environment.
    settings = dataclasses.replace(settings, host=host, port=port)
    os.environ["CONSENT_HOST"], os.environ["CONSENT_PORT"] = host, str(port)
    if workers > 1 and settings.mail_in is not None:
        sys.exit(
            "CONSENT_MAIL_IN is for one process: with --workers, run `consent mail-in` once, beside them "
            "(docs/email.md)."
        )
    if workers > 1 and settings.redis_url is None:
        sys.exit(
            "--workers needs CONSENT_REDIS_URL: a meeting's sockets on different processes hear each other "
            "only through Redis (docs/deploy.md)."
        )
    configure_logging()
    from consent.accounts.services import FAST_HASHES

    if FAST_HASHES:
        logging.getLogger("consent").warning(
            "CONSENT_FAST_PASSWORD_HASHES=1: passwords are hashed for the test suite, cheap to crack. "
            "Never serve people with it."
        )
    if demo:
        seed_demo(settings)
    if workers > 1:
        db.upgrade(settings.database_url)  # once, before the workers start at the same time
    print(f"consent is serving on http://{host}:{port}/ with {workers} process(es)", flush=True)
    # uvicorn pings every meeting socket (heartbeat) and closes one that does not answer, so
    # presence stays true; it refuses oversized messages with 1009. No per-message deflate:
    # it would compress each event again for every socket, where now it is encoded once.
    # Workers are started by uvicorn, each making its own app from the same environment.
    uvicorn.run(
        create_app(settings) if workers == 1 else "consent.app:worker_app",
        factory=workers > 1,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=False,
        ws_ping_interval=settings.heartbeat_seconds,
        ws_ping_timeout=settings.heartbeat_seconds,
        ws_max_size=settings.max_message_bytes,
        ws_per_message_deflate=False,
    )


def seed_demo(settings: Settings) -> None:
    from consent.demo import seed

    db.upgrade(settings.database_url)
    passwords = asyncio.run(seed(settings.database_url))
    if passwords:
        print("Demo network created. Sign in with any of these (shown once):")
        for email, password in passwords.items():
            print(f"  {email:28} {password}")
    else:
        print("The demo network is already there; its passwords were printed when it was created.")


async def close_due_once(settings: Settings) -> int:
    """One pass of the deadline scheduler. With Redis, what it decides goes to the open
    meetings on every server process (without the page's view: the pages load what changed);
    without, one server's sockets hear of it with the next event or when they reconnect."""
    from functools import partial

    from litestar.channels import ChannelsPlugin
    from sqlalchemy.ext.asyncio import async_sessionmaker

    import consent.models  # noqa: F401  (every table: the events' foreign keys name accounts)
    from consent.base import pubsub
    from consent.base.clock import system_clock
    from rounds import live
    from rounds.scheduler import tick

    engine = db.create_engine(settings.database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        if settings.redis_url is None:
            return await tick(sessions, system_clock)
        backend = pubsub.backend(settings.redis_url)
        async with ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True) as channels:
            return await tick(sessions, system_clock, partial(live.publish, channels))
    finally:
        await engine.dispose()


async def receive_mail(settings: Settings, host: str, port: int, lmtp: bool) -> None:
    """`consent mail-in`: the mail-in listener as a process of its own, with its own action
    writer. With Redis, what it applies reaches the live pages of every server process; without,
    their pages show it when loaded again (CONSENT_MAIL_IN runs it inside the server instead)."""
    import signal

    from litestar.channels import ChannelsPlugin
    from litestar.plugins.jinja import JinjaTemplateEngine
    from sqlalchemy.ext.asyncio import async_sessionmaker

    import consent.models  # noqa: F401  (every table: the events' foreign keys name accounts)
    from consent.app import TEMPLATE_DIR
    from consent.base import pubsub
    from consent.base.clock import system_clock
    from consent.notifications.mail_in import Listener, Replies
    from consent.notifications.mails import Postman
    from rounds import live
    from rounds.services import After
    from rounds.writer import ActionWriter

    if settings.redis_url is None:
        logging.getLogger("consent").warning(
            "no CONSENT_REDIS_URL: responses by mail reach the live pages only when they are loaded again"
        )
    engine = db.create_engine(settings.database_url)
    reader = db.create_reader(settings.database_url, engine)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    readers = async_sessionmaker(reader, expire_on_commit=False)
    templates = JinjaTemplateEngine(directory=TEMPLATE_DIR).engine
    i18n.install(templates)
    postman = Postman(templates, settings.site, settings.mail_from, settings.secret_key)
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stopping.set)
    try:
        async with ChannelsPlugin(
            backend=pubsub.backend(settings.redis_url), arbitrary_channels_allowed=True
        ) as channels:

            async def publish(proposal_id: uuid.UUID, events: list[dict[str, Any]], _: After | None) -> None:
                live.publish(channels, proposal_id, events)

            writer = ActionWriter(sessions, publish)
            await writer.start()
            # The server's sender sends the answers from the outbox (within MAIL_SECONDS).
            listener = Listener(
                Replies(readers, sessions, writer.submit, postman, system_clock, lambda: None), host, port, lmtp
            )
            await listener.start()
            print(f"consent mail-in is taking replies by {'LMTP' if lmtp else 'SMTP'} on {host}:{port}", flush=True)
            try:
                await stopping.wait()
            finally:
                await listener.stop()
                await writer.stop()
    finally:
        await engine.dispose()
        await reader.dispose()


def backup(settings: Settings, target: Path) -> None:
    """An online copy through SQLite's backup API: consistent even while the server writes."""
    if not settings.is_sqlite:
        sys.exit("consent backup copies the SQLite database; for PostgreSQL use pg_dump.")
    source_path = settings.database_url.split("///", 1)[1]
    if target.exists():
        sys.exit(f"{target} exists already; choose a new file name.")
    with sqlite3.connect(source_path) as source, sqlite3.connect(target) as copy:
        source.backup(copy, pages=1024)
    print(f"Backed up {source_path} to {target}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="consent", description="Consent decision-making for sociocratic circles.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="start the web server (migrates the database first)")
    serve_cmd.add_argument("--host", default=None)
    serve_cmd.add_argument("--port", type=int, default=None)
    serve_cmd.add_argument("--demo", action="store_true", help="seed the demo network before serving")
    serve_cmd.add_argument(
        "--workers", type=int, default=1, help="server processes on the one port (needs CONSENT_REDIS_URL)"
    )
    commands.add_parser("demo", help="seed the demo network (idempotent)")
    commands.add_parser("tick", help="close the async proposals whose deadline has passed (for cron)")
    mail_in_cmd = commands.add_parser("mail-in", help="take replies to mails from a mail server (docs/email.md)")
    mail_in_cmd.add_argument("--host", default="127.0.0.1")
    mail_in_cmd.add_argument("--port", type=int, default=8025)
    mail_in_cmd.add_argument("--smtp", action="store_true", help="speak SMTP rather than LMTP")
    db_cmd = commands.add_parser("db", help="database tasks")
    db_cmd.add_argument("task", choices=["upgrade"])
    backup_cmd = commands.add_parser("backup", help="online backup of the SQLite database")
    backup_cmd.add_argument("path", type=Path)
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    if args.command == "serve":
        serve(settings, args.host or settings.host, args.port or settings.port, args.demo, args.workers)
    elif args.command == "demo":
        seed_demo(settings)
    elif args.command == "db":
        db.upgrade(settings.database_url)
        print("The database schema is up to date.")
    elif args.command == "tick":
        db.upgrade(settings.database_url)
        print(f"Closed {asyncio.run(close_due_once(settings))} proposal(s) whose deadline had passed.")
    elif args.command == "mail-in":
        from consent.app import configure_logging

        configure_logging()
        db.upgrade(settings.database_url)
        asyncio.run(receive_mail(settings, args.host, args.port, lmtp=not args.smtp))
    elif args.command == "backup":
        backup(settings, args.path)


if __name__ == "__main__":
    main(sys.argv[1:])
