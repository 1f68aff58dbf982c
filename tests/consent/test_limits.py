"""Sign-up and sign-in limits: generous enough for a hall of people behind one router, tight
for someone guessing one account's password or making accounts by the thousand."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
from litestar.testing import AsyncTestClient

from consent.app import create_app
from consent.base.settings import Settings
from tests.helpers import PASSWORD, account_body, assert_refused, email_of, sign_up


@asynccontextmanager
async def app_with(settings: Settings, **limits: Any) -> AsyncIterator[AsyncTestClient]:
    """The app with the production limits, or those given."""
    defaults = Settings(data_dir=settings.data_dir, database_url=settings.database_url, secret_key="s")
    async with AsyncTestClient(app=create_app(replace(defaults, **limits)), base_url="http://127.0.0.1") as client:
        yield client


def wait_of(response: httpx.Response, at_most: int) -> int:
    """The Retry-After of a 429: whole seconds, more than none, at most `at_most`."""
    seconds = int(response.headers["retry-after"])
    assert 0 < seconds <= at_most, seconds
    return seconds


def minutes(seconds: int) -> str:
    whole = -(-seconds // 60)
    return "1 minute" if whole == 1 else f"{whole} minutes"


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/sessions", json={"email": email, "password": password})


async def test_a_hall_of_twenty_signs_up_and_in_at_once(settings: Settings) -> None:
    """A circle of twenty, meeting in a community hall behind one router, at the start of the meeting."""
    names = [f"member{n:02}" for n in range(20)]
    async with app_with(settings) as client:
        made = await asyncio.gather(*(client.post("/api/accounts", json=account_body(name)) for name in names))
        assert [response.status_code for response in made] == [201] * 20
        signed = await asyncio.gather(*(sign_in(client, email_of(name)) for name in names))
        assert [response.status_code for response in signed] == [200] * 20
        again = await asyncio.gather(*(sign_in(client, email_of(name)) for name in names))  # a second device each
        assert [response.status_code for response in again] == [200] * 20


async def test_sign_ups_from_one_address_are_limited_before_any_password_is_hashed(settings: Settings) -> None:
    async with app_with(settings, sign_ups_per_address=3) as client:
        for name in ("ada", "bo", "cy"):
            await sign_up(client, name)
        refused = await client.post("/api/accounts", json=account_body("di"))
        message = assert_refused(refused, 429, "too_many_requests")
        seconds = wait_of(refused, 600)
        assert message == f"Too many accounts were made from your network just now; try again in {minutes(seconds)}."
        # Refused before anything else is looked at, the password's hash included: even an
        # email that is taken gets the 429, not the 409.
        assert_refused(await client.post("/api/accounts", json=account_body("ada")), 429, "too_many_requests")
        assert (await sign_in(client, email_of("di"))).status_code == 401  # Di's account was not made
        page = await client.get("/sign-up")
        form = await client.post(
            "/sign-up",
            data={**account_body("di"), "next": "/"},
            headers={"x-csrftoken": page.cookies.get("csrftoken") or client.cookies["csrftoken"]},
        )
        assert form.status_code == 429 and "Too many accounts were made from your network" in form.text
        wait_of(form, 600)


async def test_failed_sign_ins_lock_that_account_for_a_few_minutes(settings: Settings) -> None:
    async with app_with(settings) as client:
        for name in ("ada", "bo"):
            await sign_up(client, name)
        for _ in range(5):
            assert_refused(await sign_in(client, email_of("ada"), "a wrong guess"), 401, "wrong_credentials")
        locked = await sign_in(client, email_of("ada"))  # the right password: locked all the same
        message = assert_refused(locked, 429, "too_many_requests")
        seconds = wait_of(locked, 300)
        assert message == (
            f"Too many failed sign-ins to this account; for its safety, try again in {minutes(seconds)}."
        )
        assert_refused(await sign_in(client, "ADA@example.org "), 429, "too_many_requests")  # the same account
        # Others sign in from the same address, and the sign-in page says the same.
        assert (await sign_in(client, email_of("bo"))).status_code == 200
        page = await client.get("/sign-in")
        form = await client.post(
            "/sign-in",
            data={"email": email_of("ada"), "password": PASSWORD, "next": "/"},
            headers={"x-csrftoken": page.cookies.get("csrftoken") or client.cookies["csrftoken"]},
        )
        assert form.status_code == 429 and "Too many failed sign-ins to this account" in form.text
        wait_of(form, 300)


async def test_failed_sign_ins_from_one_address_have_a_ceiling_and_successes_never_count(settings: Settings) -> None:
    async with app_with(settings, sign_in_failures_per_address=8) as client:
        await sign_up(client, "ada")
        for _ in range(30):  # successful sign-ins are never counted
            assert (await sign_in(client, email_of("ada"))).status_code == 200
        for n in range(8):  # two guesses each at four accounts: under each account's limit
            assert (await sign_in(client, f"who{n % 4}@example.org", "a wrong guess")).status_code == 401
        refused = await sign_in(client, email_of("ada"))
        message = assert_refused(refused, 429, "too_many_requests")
        seconds = wait_of(refused, 900)
        assert message == (f"Too many failed sign-ins from your network; try again in {minutes(seconds)}.")


async def test_with_redis_every_process_counts_the_same_failures(settings: Settings, redis_url: str) -> None:
    email = f"{uuid.uuid4().hex}@example.org"  # Redis is shared with other test runs
    async with app_with(settings, redis_url=redis_url) as first, app_with(settings, redis_url=redis_url) as second:
        await first.post("/api/accounts", json=account_body("Ada", email))
        for client in (first, second, first, second, first):
            assert (await sign_in(client, email, "a wrong guess")).status_code == 401
        assert_refused(await sign_in(second, email), 429, "too_many_requests")
