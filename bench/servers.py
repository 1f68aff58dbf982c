"""Server processes on loopback ports: consent itself (`consent serve`, as people run it) and
the baselines of bench.bare; how long each takes to answer, how much memory it holds and how
much CPU time it has used."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process: subprocess.Popen[bytes]) -> None:
    """Asks a server to stop, and makes it if it will not within 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the process's name: state, ppid, ..."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int, reaped: bool = False) -> float:
    """User and system CPU time the process has used so far, and with `reaped` that of its
    children that have exited and been waited for."""
    fields = stat(pid)
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    ready_seconds: float = 0.0  # from spawn to the first HTTP 200

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        stop(self.process)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start(args: list[str], log: Path, env: dict[str, str] | None = None) -> Server:
    """Spawns `python args... PORT` and waits until GET / answers 200 (polled every 5 ms)."""
    port = free_port()
    began = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, *args, str(port)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = Server(port, process, log)
    while time.monotonic() < began + 60:
        if process.poll() is not None:
            raise RuntimeError(f"{args} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                if response.status == 200:
                    server.ready_seconds = time.monotonic() - began
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.005)
    server.stop()
    raise RuntimeError(f"{args} did not answer within 60 s:\n{log.read_text()[-3000:]}")


def consent(data_dir: Path, database_url: str | None = None, redis_url: str | None = None, **settings: str) -> Server:
    """`consent serve` on the SQLite file `data_dir/consent.db`, or on `database_url` with
    `redis_url` carrying its events to the other processes (docs/deploy.md); `settings` are
    more CONSENT_ variables."""
    env = {
        "CONSENT_DATA_DIR": str(data_dir),
        "CONSENT_DATABASE_URL": database_url or f"sqlite+aiosqlite:///{data_dir / 'consent.db'}",
        "CONSENT_SECRET_KEY": "bench-secret-key",
        "CONSENT_TICK_SECONDS": "3600",
        **({"CONSENT_REDIS_URL": redis_url} if redis_url else {}),
        **settings,
    }
    return start(["-m", "consent.cli", "serve", "--host", "127.0.0.1", "--port"], data_dir / "server.log", env)


def relay(data_dir: Path) -> Server:
    return start(["-m", "bench.bare", "relay"], data_dir / "relay.log")


def minimal_litestar(data_dir: Path) -> Server:
    return start(["-m", "bench.bare", "litestar"], data_dir / "litestar.log")
