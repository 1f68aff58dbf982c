"""Fixtures for the tests that drive real server processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from playwright.sync_api import Browser

from consent.base.settings import Settings
from tests.e2e import axe
from tests.e2e.org import Servers


@pytest.fixture
def servers(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Servers]:
    # The scheduler runs its pass at start and then only once an hour: a deadline in these tests
    # is closed by the pass at start, nothing else.
    monkeypatch.setenv("CONSENT_TICK_SECONDS", "3600")
    started = Servers(settings)
    yield started
    for running in started.started:
        running.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: no proxy from the environment, the traffic stays on the loopback.
    async with httpx.AsyncClient(trust_env=False, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def browser(browser: Browser) -> Iterator[Browser]:
    """The shared Chromium, each page of which axe-core checks (tests/e2e/axe.py)."""
    with axe.checking():
        yield browser
