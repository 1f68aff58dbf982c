"""Fixtures shared by every test: a real database (a SQLite file, or PostgreSQL when
CONSENT_TEST_DATABASE_URL names a server), the app in-process, a real server process on a
loopback port, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os

# Before the app is imported, and inherited by every server process the tests start: the
# cheapest Argon2 parameters, since the suite signs up and signs in hundreds of times
# (consent.accounts.services; a server started without it hashes as in production).
os.environ["CONSENT_FAST_PASSWORD_HASHES"] = "1"

import asyncio
import contextlib
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from bench.servers import free_port, stop
from consent.app import create_app
from consent.base import db
from consent.base.settings import Settings

PG_URL = os.environ.get("CONSENT_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("CONSENT_TEST_REDIS_URL", "")


def in_thread(fn, *args):  # type: ignore[no-untyped-def]
    """Runs `fn` in a thread of its own: Playwright's sync API keeps an event loop running in
    the main thread, where asyncio.run (used by Alembic's env and by these helpers) refuses."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


def pg_execute(*statements: str) -> None:
    in_thread(asyncio.run, _pg_execute(*statements))


def pg_admin_url(database: str = "postgres") -> str:
    return PG_URL.rsplit("/", 1)[0] + "/" + database


async def _pg_execute(*statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(pg_admin_url().replace("postgresql+asyncpg", "postgresql"))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated once per test run; each test gets a copy of it."""
    if PG_URL:
        name = f"consent_template_{uuid.uuid4().hex[:8]}"
        pg_execute(f'CREATE DATABASE "{name}"')
        in_thread(db.upgrade, pg_admin_url(name))
        return name
    path = tmp_path_factory.mktemp("template") / "consent.db"
    in_thread(db.upgrade, f"sqlite+aiosqlite:///{path}")
    return str(path)


@contextlib.contextmanager
def copy_of(template_database: str, directory: Path) -> Iterator[str]:
    """A fresh database copied from the migrated template (its file goes in `directory`)."""
    if PG_URL:
        name = f"consent_test_{uuid.uuid4().hex[:12]}"
        pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        yield pg_admin_url(name)
        pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = directory / "consent.db"
        shutil.copy(template_database, path)
        yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    with copy_of(template_database, tmp_path) as url:
        yield url


class RedisServer:
    """A throwaway `redis-server` on a loopback port, that keeps nothing on disk; a test may
    stop it and start it again on the same port (a Redis restart)."""

    def __init__(self, directory: Path) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.fail("redis-server is missing: install Debian's redis-server package (.ci/test does, as root)")
        self.executable, self.directory, self.port = executable, directory, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.executable, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not listen within 10 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """CONSENT_TEST_REDIS_URL (.ci/test starts one), else a redis-server of the run's own."""
    if REDIS_URL:
        yield REDIS_URL
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


def settings_for(database_url: str, directory: Path) -> Settings:
    data_dir = directory / "data"
    data_dir.mkdir()
    # The suite signs up hundreds of accounts from one address; tests/consent/test_limits.py
    # checks the limits at their production values.
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=uuid.uuid4().hex,
        sign_ups_per_address=10**6,
        base_url="http://127.0.0.1",  # the test client's: links are built from it
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return settings_for(database_url, tmp_path)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings), base_url="http://127.0.0.1") as test_client:
        yield test_client


@dataclass
class Server:
    """A `consent serve` process on a loopback port."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str]

    def stop(self) -> None:
        stop(self.process)


def start_server(settings: Settings, *args: str, executable: str | None = None, cwd: Path | None = None) -> Server:
    port = free_port()
    env = dict(os.environ)
    env.update(
        CONSENT_DATA_DIR=str(settings.data_dir),
        CONSENT_DATABASE_URL=settings.database_url,
        CONSENT_SECRET_KEY=settings.secret_key,
        CONSENT_SIGN_UPS_PER_ADDRESS=str(settings.sign_ups_per_address),
    )
    log = settings.data_dir / f"server-{port}.log"
    command = [executable or sys.executable, *([] if executable else ["-m", "consent.cli"])]
    process = subprocess.Popen(
        [*command, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
        env=env,
        cwd=cwd or settings.data_dir,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log=log, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"consent serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(server.url + "/", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"consent serve did not answer within 30 s:\n{log.read_text()}")


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    running = start_server(settings)
    yield running
    running.stop()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Per module: Playwright's sync API keeps an event loop running in the main thread while
    it is open, and async tests in the modules after it need that thread free."""
    from playwright.sync_api import expect, sync_playwright

    # How long a page may take to show what a step expects: not a speed test, and a shared CI
    # machine under load can take longer than Playwright's 5 s default.
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    yield context.new_page()
    context.close()
