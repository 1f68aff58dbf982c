"""Scenarios (a) and (c) on PostgreSQL + Redis, with one and with two server processes, beside
the single SQLite process measured in the same run (`python -m bench --scale-out`, issue 15).

The bench starts its own throwaway PostgreSQL (initdb into a temporary directory, on a loopback
port, as .ci/test does) and redis-server, seeds the database as it seeds the SQLite file, gives
each setup its own copy of it (`CREATE DATABASE … TEMPLATE`, as each SQLite server gets a copy
of the file), and stops both at the end. Two processes are two `consent serve` on two ports:
each proposal's sockets are dealt out to both, so every event crosses Redis to reach half of
them, and the senders are split between them too."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Self

from bench import scenarios, servers
from bench.scenarios import Room, Row, Scale, Setup
from bench.seed import seed_database

PROCESSES = (1, 2)
BASELINE = "consent, SQLite, 1 process"


def setup_name(processes: int) -> str:
    return f"PostgreSQL + Redis, {processes} process{'es' if processes > 1 else ''}"


def postgresql_bin() -> Path:
    """Debian's newest PostgreSQL's programs."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise RuntimeError("PostgreSQL is missing: install Debian's postgresql package")
    return found[-1].parent


class Backing:
    """A throwaway PostgreSQL and redis-server on loopback ports, which keep what they hold in a
    temporary directory removed at the end. PostgreSQL commits as SQLite does in consent
    (`synchronous=NORMAL` in WAL mode): a commit survives the process, not a power cut, so
    `synchronous_commit=off` (the WAL is still written, and flushed within 0.2 s)."""

    def __init__(self) -> None:
        self.bin = postgresql_bin()
        redis = shutil.which("redis-server")
        if redis is None:
            raise RuntimeError("redis-server is missing: install Debian's redis-server package")
        self.redis_server = redis
        self.dir = Path(tempfile.mkdtemp(prefix="consent-bench-pg-"))
        # initdb refuses to run as root: as root, PostgreSQL runs as Debian's postgres user.
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        self.port, self.redis_port = servers.free_port(), servers.free_port()
        self.redis: subprocess.Popen[bytes] | None = None
        self.rooms: list[Room] = []

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        if self.as_postgres:
            os.chown(self.dir, pwd.getpwnam("postgres").pw_uid, -1)
        data = self.dir / "data"
        subprocess.run(
            [*self.as_postgres, self.bin / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c max_connections=300 -c synchronous_commit=off"
        subprocess.run(
            [*self.as_postgres, self.bin / "pg_ctl", "-D", data, "-l", self.dir / "log", "-w", "-o", options, "start"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.redis = subprocess.Popen(
            [
                self.redis_server,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.redis_port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.dir,
            stdout=(self.dir / "redis.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while self.redis_cli("PING") != "PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not answer within 10 s")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.redis is not None:
            servers.stop(self.redis)
        if (self.dir / "data" / "postmaster.pid").exists():
            subprocess.run(
                [*self.as_postgres, self.bin / "pg_ctl", "-D", self.dir / "data", "-m", "immediate", "stop"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        shutil.rmtree(self.dir, ignore_errors=True)

    def redis_cli(self, *command: str) -> str:
        run = subprocess.run(
            ["redis-cli", "-p", str(self.redis_port), *command], capture_output=True, text=True, check=False
        )
        return run.stdout.strip()

    def psql(self, sql: str) -> None:
        server = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        subprocess.run(
            [self.bin / "psql", *server, "-qX", "-v", "ON_ERROR_STOP=1", "-c", sql],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def seed(self, scale: Scale) -> None:
        """The template database, seeded as bench.seed seeds the SQLite file: (a)'s rooms."""
        self.psql("CREATE DATABASE seeded")
        self.rooms, _, _ = seed_database(self.url("seeded"), scale.rooms, scale.room_size)

    def setup(self, processes: int, work: Path) -> Setup:
        """`processes` servers on a copy of the seeded database and this Redis, emptied first."""

        @contextlib.contextmanager
        def setup(name: str) -> Iterator[list[servers.Server]]:
            database = f"{name}_{uuid.uuid4().hex[:6]}".replace("-", "_")
            self.psql(f'CREATE DATABASE "{database}" TEMPLATE seeded')
            self.redis_cli("FLUSHALL")  # the copies share the proposals' ids, so their channels
            with contextlib.ExitStack() as stack:
                running = []
                for n in range(processes):
                    data_dir = work / f"{name}-{n}-{database[-6:]}"
                    data_dir.mkdir()
                    running.append(stack.enter_context(servers.consent(data_dir, self.url(database), self.redis_url)))
                yield running
            self.psql(f'DROP DATABASE "{database}" WITH (FORCE)')

        return setup

    def cpu_seconds(self) -> float:
        """CPU time PostgreSQL (the postmaster, its live backends and those it has reaped) and
        redis-server have used so far."""
        postmaster = int((self.dir / "data" / "postmaster.pid").read_text().split()[0])
        total = servers.cpu_seconds(postmaster, reaped=True)
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError):  # gone meanwhile
                    if int(servers.stat(int(entry.name))[1]) == postmaster:
                        total += servers.cpu_seconds(int(entry.name))
        assert self.redis is not None
        return total + servers.cpu_seconds(self.redis.pid)


def beside(setup_rows: list[Row], sqlite_rows: list[Row], processes: int) -> list[Row]:
    """A setup's figures, each labelled by the setup, with the single SQLite process's as its
    baseline."""
    return [
        (f"{figure[:3]}{setup_name(processes)}: {figure[3:]}", ours, sqlite, BASELINE, "", None)
        for (figure, ours, *_), (_, sqlite, *_) in zip(setup_rows, sqlite_rows, strict=True)
    ]


def fan_out(scale: Scale, rooms: list[Room], template: Path, work: Path, backing: Backing) -> list[Row]:
    """(a) as today (the single SQLite process against the bare relay), then on each setup."""
    sqlite = scenarios.fan_out_figures(scale, rooms, scenarios.alone(servers.consent, template, work), "consent")
    bare = scenarios.fan_out_figures(scale, rooms, scenarios.alone(servers.relay, template, work), "bare")
    rows = scenarios.fan_out_rows(scale, sqlite, bare)
    for processes in PROCESSES:
        ours = scenarios.fan_out_figures(scale, backing.rooms, backing.setup(processes, work), f"pg{processes}")
        rows += beside(scenarios.fan_out_rows(scale, ours, bare), rows[:4], processes)
    return rows


def durable(scale: Scale, rooms: list[Room], template: Path, work: Path, backing: Backing) -> list[Row]:
    """(c) as today, then on each setup; there also the CPU of PostgreSQL and Redis, whose work
    the single process does itself (SQLite is a library)."""
    sqlite = scenarios.durable_figures(scale, rooms, scenarios.alone(servers.consent, template, work), "consent")
    raw = scenarios.raw_inserts(scenarios.fresh(template, work, "c-sqlite") / "raw.db", scale.seconds)
    rows = scenarios.durable_rows(rooms, sqlite, *raw)
    for processes in PROCESSES:
        setup = backing.setup(processes, work)
        ours = scenarios.durable_figures(scale, backing.rooms, setup, f"pg{processes}", backing.cpu_seconds)
        rows += beside(scenarios.durable_rows(backing.rooms, ours, *raw), rows[:2], processes)
        rows.append(
            (
                f"c) {setup_name(processes)}: CPU per accepted action of consent, PostgreSQL and Redis, ms",
                ours.cpu + ours.others_cpu,
                sqlite.cpu,
                BASELINE,
                "",
                None,
            )
        )
    return rows
