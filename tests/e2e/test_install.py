"""A plain, non-editable install into a fresh virtual environment serves pages with their
templates and stylesheet (nothing is read from the source tree)."""

from __future__ import annotations

import site
import subprocess
import sys
from pathlib import Path

import httpx

from consent.base.settings import Settings
from tests.conftest import start_server

ROOT = Path(__file__).resolve().parents[2]


def test_non_editable_install_serves_templates_and_static_files(tmp_path: Path, settings: Settings) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The dependencies come from the test environment (no network here); consent itself is
    # built and installed from the source tree as a wheel.
    new_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(new_site, "test-deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)],
        check=True,
        cwd=tmp_path,
    )
    wheel = next(wheels.glob("consent-*.whl"))
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True, cwd=tmp_path
    )

    where = subprocess.run(
        [str(python), "-c", "import consent, templates; print(consent.__file__, templates.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert str(ROOT) not in where and new_site in where

    running = start_server(settings, executable=str(venv / "bin" / "consent"), cwd=tmp_path)
    try:
        page = httpx.get(running.url + "/sign-in")
        assert page.status_code == 200 and "<form" in page.text
        css = httpx.get(running.url + "/static/consent.css")
        assert css.status_code == 200 and "--accent" in css.text
    finally:
        running.stop()
