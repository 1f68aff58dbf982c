"""Alembic environment: runs the migrations on the async engine of the configured URL."""

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from consent.base.db import create_engine
from consent.decisions.models import is_mapped
from consent.models import metadata

config = context.config
MIGRATING = 7_170_001  # the advisory lock's key on PostgreSQL


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=False,  # SQLite reflects GUID columns as NUMERIC: type diffs would be noise
        include_name=is_mapped,  # the full-text index is built by hand in 0003, not from models
    )
    with context.begin_transaction():
        # Processes started at once on a new database take turns: the first migrates, the
        # others then find the schema at the head. (On SQLite, whose migrations Alembic commits
        # one by one, a lock on a file beside the database: consent.base.db.upgrade.)
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATING})
        context.run_migrations()


async def run_async() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None, "consent.base.db.alembic_config sets the database URL"
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("consent runs its migrations online only: use `consent db upgrade`")
asyncio.run(run_async())
