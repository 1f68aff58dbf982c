"""The database engine, SQLite's pragmas, and running the Alembic migrations."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS = Path(__file__).parent.parent / "migrations"


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


def configure_sqlite(engine: Engine) -> None:
    """WAL so readers never wait for the writer, a busy timeout so writers queue instead of
    failing, foreign keys enforced, and BEGIN IMMEDIATE so that a transaction which reads and
    then writes cannot deadlock with another one doing the same."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to call on every start."""
    command.upgrade(alembic_config(database_url), revision)
    if database_url.startswith("sqlite"):
        asyncio.run(_analyze(database_url))


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
