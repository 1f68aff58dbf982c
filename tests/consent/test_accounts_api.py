"""The account API of API.md, through the real app on a real database."""

from __future__ import annotations

import html

import pytest
from litestar import get
from litestar.testing import AsyncTestClient

from consent.app import create_app
from consent.base.settings import Settings
from tests.helpers import account_body, assert_refused, bearer, sign_up

ADA = account_body("Ada")


async def test_sign_up_returns_the_account_without_secrets(client: AsyncTestClient) -> None:
    account = await sign_up(client, "Ada", email="Ada@Example.org ")
    assert account["name"] == "Ada"
    assert account["email"] == "ada@example.org"
    assert isinstance(account["id"], str) and account["id"]
    assert "password" not in str(account)


async def test_duplicate_email_is_a_clear_conflict(client: AsyncTestClient) -> None:
    await sign_up(client, "Ada")
    message = assert_refused(
        await client.post("/api/accounts", json={**ADA, "email": "ADA@example.org"}), 409, "email_taken"
    )
    assert "ada@example.org" in message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Ada", "email": "not-an-email", "password": "long enough"}, "email"),
        ({"name": "Ada", "email": "a@b.org", "password": "short"}, "password"),
        ({"name": "", "email": "a@b.org", "password": "long enough"}, "name"),
        ({"email": "a@b.org", "password": "long enough"}, "name"),
        ({"name": "Ada", "email": "a@b.org", "password": "long enough", "admin": True}, "admin"),
        ({"name": "x" * 101, "email": "a@b.org", "password": "long enough"}, "name"),
    ],
)
async def test_bad_sign_up_names_the_field_and_creates_nothing(client: AsyncTestClient, body: dict, field: str) -> None:
    message = assert_refused(await client.post("/api/accounts", json=body), 400, "invalid")
    assert field in message
    signed_in = await client.post("/api/sessions", json={"email": "a@b.org", "password": "long enough"})
    assert signed_in.status_code == 401


async def test_blank_name_after_trimming_is_refused(client: AsyncTestClient) -> None:
    assert_refused(await client.post("/api/accounts", json={**ADA, "name": "   "}), 422, "invalid")


async def test_nul_characters_are_refused_not_stored(client: AsyncTestClient) -> None:
    assert "name" in assert_refused(await client.post("/api/accounts", json={**ADA, "name": "A\x00da"}), 422, "invalid")
    assert "email" in assert_refused(
        await client.post("/api/accounts", json={**ADA, "email": "a\x00@b.org"}), 422, "invalid"
    )
    assert_refused(
        await client.post("/api/sessions", json={"email": "a\x00@b.org", "password": "long enough"}),
        401,
        "wrong_credentials",
    )


async def test_body_that_is_not_json_is_refused(client: AsyncTestClient) -> None:
    response = await client.post(
        "/api/sessions", content=b'{"email": "a@b.org", "password": "x"}', headers={"content-type": "text/plain"}
    )
    assert_refused(response, 415, "unsupported_media_type")
    assert_refused(
        await client.post("/api/accounts", content=b"{not json", headers={"content-type": "application/json"}),
        400,
        "bad_request",
    )


async def test_wrong_password_and_unknown_email_answer_alike(client: AsyncTestClient) -> None:
    await sign_up(client, "Ada")
    wrong = assert_refused(
        await client.post("/api/sessions", json={"email": ADA["email"], "password": "nope nope"}),
        401,
        "wrong_credentials",
    )
    unknown = assert_refused(
        await client.post("/api/sessions", json={"email": "who@example.org", "password": "nope nope"}),
        401,
        "wrong_credentials",
    )
    assert wrong == unknown


async def test_bearer_token_signs_in_and_sign_out_revokes_it(client: AsyncTestClient) -> None:
    account = await sign_up(client, "Ada")
    signed_in = await client.post("/api/sessions", json={"email": ADA["email"], "password": ADA["password"]})
    assert signed_in.status_code == 200
    body = signed_in.json()
    assert body["account"] == account
    client.cookies.clear()  # a script: the token alone
    headers = bearer(body["token"])
    me = await client.get("/api/accounts/me", headers=headers)
    assert me.status_code == 200 and me.json()["id"] == account["id"]
    assert (await client.delete("/api/sessions", headers=headers)).status_code == 204
    assert_refused(await client.get("/api/accounts/me", headers=headers), 401, "not_signed_in")


async def test_anonymous_is_refused_with_401(client: AsyncTestClient) -> None:
    assert_refused(await client.get("/api/accounts/me"), 401, "not_signed_in")
    assert_refused(
        await client.get("/api/accounts/me", headers={"Authorization": "Bearer cst_forged"}), 401, "not_signed_in"
    )


async def test_cookie_session_gets_a_fresh_id_at_sign_in_and_needs_csrf_to_sign_out(client: AsyncTestClient) -> None:
    await sign_up(client, "Ada")
    client.cookies.set("session", "planted-by-an-attacker")
    assert (await client.get("/")).status_code == 200
    response = await client.post("/api/sessions", json={"email": ADA["email"], "password": ADA["password"]})
    session_id = response.cookies.get("session")
    assert session_id and session_id != "planted-by-an-attacker"
    assert (await client.get("/api/accounts/me")).status_code == 200

    assert_refused(await client.delete("/api/sessions"), 403, "csrf_failed")
    assert (await client.get("/api/accounts/me")).status_code == 200  # the refused sign-out changed nothing

    csrf = client.cookies.get("csrftoken")
    assert csrf
    signed_out = await client.delete("/api/sessions", headers={"x-csrftoken": csrf})
    assert signed_out.status_code == 204
    [cookie] = [c for c in signed_out.headers.get_list("set-cookie") if c.startswith("session=")]
    assert cookie.startswith('session="";') and "Max-Age=0" in cookie, cookie  # deleted, not "null" for 14 days
    assert_refused(await client.get("/api/accounts/me"), 401, "not_signed_in")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        (" " * 8, "The password must not be only spaces."),
        ("\t \n  \t  ", "The password must not be only spaces."),
        ("12345678", "This password is one of the most common ones, which are guessed first; choose another."),
        ("PassWord", "This password is one of the most common ones, which are guessed first; choose another."),
        ("qwertyuiop", "This password is one of the most common ones, which are guessed first; choose another."),
        ("iloveyou", "This password is one of the most common ones, which are guessed first; choose another."),
        ("Ada@Example.org", "The password must not be your email or your name."),
        ("Ada Lovelace", "The password must not be your email or your name."),
    ],
)
async def test_blank_and_common_passwords_are_refused(client: AsyncTestClient, password: str, message: str) -> None:
    body = {"name": "Ada Lovelace", "email": "ada@example.org", "password": password}
    assert assert_refused(await client.post("/api/accounts", json=body), 422, "weak_password") == message
    signing_in = {"email": body["email"], "password": password}
    assert (await client.post("/api/sessions", json=signing_in)).status_code == 401  # no account was made
    await client.get("/sign-up")  # the CSRF cookie
    form = await client.post(
        "/sign-up", data={**body, "next": "/"}, headers={"x-csrftoken": client.cookies["csrftoken"]}
    )
    assert form.status_code == 422 and html.escape(message) in form.text


async def test_unknown_paths_and_methods_use_the_envelope(client: AsyncTestClient) -> None:
    assert_refused(await client.get("/api/no-such-thing"), 404, "not_found")
    assert_refused(await client.put("/api/accounts", json={}), 405, "method_not_allowed")


async def test_unexpected_errors_are_logged_and_answered_without_internals(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    @get("/api/explode")
    async def explode() -> None:
        raise RuntimeError("secret internal detail")

    app = create_app(settings)
    app.register(explode)
    async with AsyncTestClient(app=app, base_url="http://127.0.0.1") as client:
        response = await client.get("/api/explode")
    message = assert_refused(response, 500, "internal_error")
    assert "secret internal detail" not in response.text
    reference = response.headers["x-request-id"]
    assert reference in message
    assert any(reference in record.getMessage() and record.exc_info for record in caplog.records)


async def test_openapi_schema_documents_the_api(client: AsyncTestClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert {"/api/accounts", "/api/sessions"} <= set(schema["paths"])
