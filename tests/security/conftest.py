"""A real `consent serve` per test module, on a database of the module's own: the security
tests build one world, then attack it from every side."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio

from tests.conftest import Server, copy_of, settings_for, start_server


@pytest.fixture(scope="module")
def module_server(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("server")
    with copy_of(template_database, directory) as url:
        running = start_server(settings_for(url, directory))
        yield running
        running.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_http() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: no proxy from the environment, the traffic stays on the loopback.
    async with httpx.AsyncClient(trust_env=False, timeout=60) as client:
        yield client
