"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL,
and SQLite runs with WAL, a busy timeout and foreign keys."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid

import pytest
import sqlalchemy.exc
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from litestar import get
from litestar.testing import create_test_client
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from consent.base import db
from consent.base.errors import handle_exception
from consent.base.settings import Settings
from consent.decisions.models import is_mapped
from consent.models import metadata


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": False, "include_name": is_mapped}), metadata
                )
            )
        assert diff == []
    finally:
        await engine.dispose()


async def test_sqlite_pragmas_and_foreign_keys(settings: Settings) -> None:
    engine = db.create_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            if settings.is_sqlite:
                assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
                assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
                assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 30000
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO api_token (id, account_id, token_hash, label, created_at, updated_at) "
                        "VALUES (:id, :account, 'h', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {
                        "id": uuid.uuid4().hex if settings.is_sqlite else uuid.uuid4(),
                        "account": uuid.uuid4().hex if settings.is_sqlite else uuid.uuid4(),
                    },
                )
    finally:
        await engine.dispose()


def test_every_migration_goes_down_and_up_again(database_url: str) -> None:
    from alembic import command

    from tests.conftest import in_thread

    config = db.alembic_config(database_url)
    in_thread(command.downgrade, config, "base")
    in_thread(command.upgrade, config, "head")


def test_the_head_revision_is_read_as_alembic_reads_it() -> None:
    from alembic.script import ScriptDirectory

    assert db.head_revision() == ScriptDirectory.from_config(db.alembic_config("sqlite://")).get_current_head()


def test_a_start_on_a_database_at_the_head_does_not_load_alembic(database_url: str) -> None:
    # A process of its own: this one has loaded Alembic already. The test database is at the head.
    check = (
        "import sys; from consent.base import db; db.upgrade(sys.argv[1]); "
        "assert 'alembic' not in sys.modules, 'Alembic was loaded'"
    )
    subprocess.run([sys.executable, "-c", check, database_url], check=True, timeout=60)


async def test_reads_on_sqlite_do_not_wait_for_the_writer_and_cannot_write(settings: Settings) -> None:
    engine = db.create_engine(settings.database_url)
    reader = db.create_reader(settings.database_url, engine)
    try:
        if not settings.is_sqlite:
            assert reader is engine  # PostgreSQL's pool serves both
            return
        async with engine.begin() as writing:  # BEGIN IMMEDIATE: holds the write lock
            await writing.execute(text("UPDATE account SET name = name"))
            async with reader.connect() as reading:  # would wait 30 s for the lock if it took it
                assert (await reading.execute(text("SELECT count(*) FROM account"))).scalar() == 0
                with pytest.raises(OperationalError, match="readonly"):
                    await reading.execute(text("DELETE FROM account"))
    finally:
        await reader.dispose()
        await engine.dispose()


def test_a_request_that_waits_too_long_for_the_database_is_told_to_come_back() -> None:
    @get("/api/busy")
    async def busy() -> None:
        raise sqlalchemy.exc.TimeoutError("QueuePool limit of size 4 overflow 0 reached")

    with create_test_client([busy], exception_handlers={Exception: handle_exception}) as client:
        answer = client.get("/api/busy")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert answer.json() == {
        "error": {"code": "busy", "message": "The server is too busy to answer now; try again in a moment."}
    }


def test_processes_migrating_a_new_database_at_once_take_turns(database_url: str) -> None:
    from alembic import command

    from tests.conftest import in_thread

    in_thread(command.downgrade, db.alembic_config(database_url), "base")
    migrate = "import sys; from consent.base import db; db.upgrade(sys.argv[1])"
    starts = [
        subprocess.Popen([sys.executable, "-c", migrate, database_url], stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    for start in starts:
        _, errors = start.communicate(timeout=120)
        assert start.returncode == 0, errors
    assert in_thread(asyncio.run, db._at(database_url, db.head_revision()))
