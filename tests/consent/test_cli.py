"""The `consent` command as a newcomer uses it: serve, demo, db upgrade, backup."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from consent.base.settings import Settings
from tests.conftest import Server, start_server
from tests.helpers import create_account


def run_cli(server_env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "consent.cli", *args],
        env=server_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def demo_passwords(output: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(\S+@demo\.example)\s+(\S+)$", output, flags=re.M))


def test_serve_answers_the_home_page_with_its_stylesheet(server: Server) -> None:
    home = httpx.get(server.url + "/")
    assert home.status_code == 200
    assert "Decide together, by consent" in home.text
    assert '<meta name="viewport"' in home.text
    css = httpx.get(server.url + "/static/consent.css")
    assert css.status_code == 200 and "@media" in css.text


def test_demo_is_seeded_once_and_its_accounts_sign_in(server: Server, settings: Settings) -> None:
    first = run_cli(server.env, "demo", cwd=settings.data_dir)
    assert first.returncode == 0, first.stderr
    passwords = demo_passwords(first.stdout)
    assert len(passwords) == 6

    second = run_cli(server.env, "demo", cwd=settings.data_dir)
    assert second.returncode == 0, second.stderr
    assert demo_passwords(second.stdout) == {}
    assert "already there" in second.stdout

    for email, password in passwords.items():
        response = httpx.post(server.url + "/api/sessions", json={"email": email, "password": password})
        assert response.status_code == 200, (email, response.text, server.log.read_text()[-3000:])
    token = response.json()["token"]
    circles_page = httpx.get(server.url + "/", cookies=response.cookies)
    assert "Riverside Mutual Aid" in circles_page.text
    assert token.startswith("cst_")
    ada = {"Authorization": f"Bearer {login(server, passwords, 'ada@demo.example')}"}
    general = next(c for c in httpx.get(server.url + "/api/circles", headers=ada).json()["items"] if not c["parent_id"])
    [meeting] = httpx.get(server.url + f"/api/circles/{general['id']}/meetings", headers=ada).json()["items"]
    assert [(i["kind"], i["title"]) for i in meeting["agenda"]] == [
        ("proposal", "A shared tool library"),
        ("free", "Food Share: pantry stock report"),
        ("review", "Donations go through the shared account"),  # overdue: it joined of itself
    ]


def login(server: Server, passwords: dict[str, str], email: str) -> str:
    response = httpx.post(server.url + "/api/sessions", json={"email": email, "password": passwords[email]})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def test_serve_with_demo_flag_seeds_before_serving(settings: Settings) -> None:
    running = start_server(settings, "--demo")
    try:
        running.process.terminate()
        running.process.wait(10)
        log = running.log.read_text()
        assert len(demo_passwords(log)) == 6
    finally:
        running.stop()


def test_db_upgrade_is_idempotent(server: Server, settings: Settings) -> None:
    for _ in range(2):
        result = run_cli(server.env, "db", "upgrade", cwd=settings.data_dir)
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout


def test_backup_copies_the_live_database(server: Server, settings: Settings, tmp_path: Path) -> None:
    create_account(server.url, "Bo", "bo@example.org")
    target = tmp_path / "backup.db"
    result = run_cli(server.env, "backup", str(target), cwd=settings.data_dir)
    if settings.is_sqlite:
        assert result.returncode == 0, result.stderr
        with sqlite3.connect(target) as copy:
            assert copy.execute("select email from account").fetchall() == [("bo@example.org",)]
        again = run_cli(server.env, "backup", str(target), cwd=settings.data_dir)
        assert again.returncode != 0 and "exists already" in again.stderr
    else:
        assert result.returncode != 0 and "pg_dump" in result.stderr
        assert not target.exists()


def test_passwords_are_hashed_as_in_production_unless_the_test_switch_is_on(server: Server) -> None:
    read_hash = [
        sys.executable,
        "-c",
        "from consent.accounts.services import _hasher; print(_hasher.hash('a password'))",
    ]
    production = {k: v for k, v in server.env.items() if k != "CONSENT_FAST_PASSWORD_HASHES"}
    made = subprocess.run(read_hash, env=production, capture_output=True, text=True, check=True, timeout=60).stdout
    assert made.startswith("$argon2id$v=19$m=65536,t=3,p=4$")  # argon2-cffi's defaults, RFC 9106
    assert subprocess.run(
        read_hash, env=server.env, capture_output=True, text=True, check=True, timeout=60
    ).stdout.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    # A server with the switch on says so in its log.
    assert "CONSENT_FAST_PASSWORD_HASHES=1" in server.log.read_text()
