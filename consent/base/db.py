"""The database engine, SQLite's pragmas, and running the Alembic migrations."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import fcntl
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, LargeBinary, event, make_url, type_coerce
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent.parent / "migrations"
IDS_KEPT = 100_000  # ids `as_uuid` remembers: every account and circle of a large installation
READERS = 4  # SQLite connections that only read: reads run in aiosqlite's threads, beside the writer


def create_engine(database_url: str) -> AsyncEngine:
    if database_url.startswith("sqlite"):
        # One connection: SQLite runs one transaction at a time anyway (each begins
        # IMMEDIATE, below), and waiting for it in the pool's queue is served in order the
        # moment it is free, where SQLite's busy handler sleeps up to 100 ms between tries:
        # with a dozen concurrent actions that cut throughput to ~30 actions/s (docs/performance.md).
        engine = create_async_engine(
            database_url, connect_args={"timeout": 30}, pool_size=1, max_overflow=0, pool_timeout=30
        )
        configure_sqlite(engine.sync_engine)
        return engine
    return create_async_engine(database_url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def create_reader(database_url: str, engine: AsyncEngine) -> AsyncEngine:
    """The engine for work that only reads (pages, a meeting's welcome, the live updates):
    on SQLite, connections of their own that begin a plain (deferred) transaction, so a read
    never waits for the one writing connection nor it for them (WAL gives each read its
    snapshot), and may not write (query_only). `engine` itself on PostgreSQL, whose pool
    already serves both."""
    if not database_url.startswith("sqlite"):
        return engine
    reader = create_async_engine(
        database_url, connect_args={"timeout": 30}, pool_size=READERS, max_overflow=0, pool_timeout=30
    )
    configure_sqlite(reader.sync_engine, read_only=True)
    return reader


def configure_sqlite(engine: Engine, read_only: bool = False) -> None:
    """WAL so readers never wait for the writer, a busy timeout so writers queue instead of
    failing, foreign keys enforced, and BEGIN IMMEDIATE so that a transaction which reads and
    then writes cannot deadlock with another one doing the same (a reader's BEGIN takes no lock)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to call on every start. A database already at the
    head is left as it is without loading Alembic, a sixth of the server's start
    (docs/performance.md)."""
    with _migrating(database_url):
        if revision != "head" or not asyncio.run(_at(database_url, head_revision())):
            from alembic import command

            command.upgrade(alembic_config(database_url), revision)
    if database_url.startswith("sqlite"):
        asyncio.run(_analyze(database_url))


@contextlib.contextmanager
def _migrating(database_url: str) -> Iterator[None]:
    """On SQLite, one process migrates at a time, by a lock on a file beside the database:
    Alembic commits each migration on its own there, so another process starting at once
    could run one between the first one's steps. (PostgreSQL's migrations take an advisory
    lock in one transaction: consent/migrations/env.py.)"""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        yield
        return
    with open(f"{url.database}.migrating", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # waits for the other; released when closed, or the process ends
        yield


def head_revision() -> str | None:
    """The newest migration, from the `revision` and `down_revision` that each file in
    migrations/versions sets, as Alembic reads them; None unless that is one revision (then
    Alembic decides)."""
    revisions: set[object] = set()
    downs: set[object] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = {
            node.target.id: node.value.value
            for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(node.value, ast.Constant)
        }
        revisions.add(found.get("revision"))
        downs.add(found.get("down_revision"))
    heads = revisions - downs
    head = heads.pop() if len(heads) == 1 else None
    return head if isinstance(head, str) else None


async def _at(database_url: str, head: str | None) -> bool:
    """Whether the database's schema is at `head` (a new database has no version)."""
    if head is None:
        return False
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            versions = list((await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).scalars())
    except DBAPIError:  # no alembic_version table: nothing migrated yet
        return False
    finally:
        await engine.dispose()
    return versions == [head]


async def _analyze(database_url: str) -> None:
    """Fresh statistics for SQLite's query planner (PostgreSQL keeps its own): without them it
    reads the decision log by circle and sorts every row, not newest first along the index.
    analysis_limit keeps it to milliseconds on a large database."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            await conn.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()


def raw_id(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """An id column as SQLite stores it (16 bytes), for `as_uuid`. Making a UUID of each value
    was most of the cost of loading a circle of 2,000 members, twice in every action on it."""
    return type_coerce(column, LargeBinary) if dialect == "sqlite" else column


_ids: dict[bytes, uuid.UUID] = {}


def as_uuid(value: bytes | uuid.UUID) -> uuid.UUID:
    """The UUID of a `raw_id` value, made once per process (PostgreSQL's driver gives UUIDs)."""
    if isinstance(value, uuid.UUID):
        return value
    found = _ids.get(value)
    if found is None:
        if len(_ids) >= IDS_KEPT:
            _ids.clear()
        found = _ids[value] = uuid.UUID(bytes=value)
    return found
