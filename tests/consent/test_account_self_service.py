"""Account self-service through the API and the pages, in-process on a real database: name,
email (confirmed by a mailed link), password, language and time zone, signed-in browsers, and
the forgotten password. Mail goes to files in the data directory (no SMTP server here; the
end-to-end test sends it over SMTP)."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import httpx
import pytest
from litestar.testing import AsyncTestClient

from consent.accounts import rules
from consent.app import create_app
from consent.base.settings import Settings
from tests.helpers import PASSWORD, assert_refused, email_of, sign_up, signed_in

NEW_PASSWORD = "a brand new secret"


def mails(settings: Settings) -> list[EmailMessage]:
    files = sorted(settings.mail_dir.glob("*.eml"), key=lambda f: f.stat().st_mtime_ns)
    return [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]  # type: ignore[misc]


async def mail_to(settings: Settings, to: str, subject: str) -> str:
    """The plain text of the one mail to `to` with `subject`, once the sender has sent it."""
    for _ in range(200):
        found = [m for m in mails(settings) if m["To"] == to and m["Subject"] == subject]
        if found:
            assert len(found) == 1, found
            part = found[0].get_body(("plain",))
            assert part is not None
            return str(part.get_content())  # type: ignore[attr-defined]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no mail {subject!r} to {to}: {[(m['To'], m['Subject']) for m in mails(settings)]}")


def link_in(text: str, path: str) -> str:
    found = re.search(rf"http://127\.0\.0\.1({re.escape(path)}[a-z0-9]+)", text)
    assert found, text
    return found[1]


async def browser(client: AsyncTestClient, email: str, password: str = PASSWORD) -> httpx.Cookies:
    """A browser signed in to the account: its session and CSRF cookies."""
    response = await client.post("/api/sessions", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    await client.get("/")
    cookies = httpx.Cookies(client.cookies)
    client.cookies.clear()
    return cookies


async def as_browser(
    client: AsyncTestClient, cookies: httpx.Cookies, method: str, path: str, **kwargs: object
) -> httpx.Response:
    headers = {"X-CSRFToken": cookies.get("csrftoken") or ""}
    client.cookies = cookies
    try:
        return await client.request(method, path, headers=headers, follow_redirects=False, **kwargs)  # type: ignore[arg-type]
    finally:
        cookies.update(client.cookies)
        client.cookies.clear()


async def test_name_language_and_time_zone_change_at_once(client: AsyncTestClient) -> None:
    ada, _ = await signed_in(client, "Ada")
    response = await client.patch(
        "/api/accounts/me", json={"name": "Ada L.", "language": "es", "time_zone": "Europe/Madrid"}, headers=ada
    )
    assert response.status_code == 200, response.text
    assert response.json() | {"id": ""} == {
        "id": "",
        "name": "Ada L.",
        "email": email_of("Ada"),
        "language": "es",
        "time_zone": "Europe/Madrid",
        "pending_email": None,
    }
    again = (await client.patch("/api/accounts/me", json={"language": None}, headers=ada)).json()
    assert (again["name"], again["language"], again["time_zone"]) == ("Ada L.", None, "Europe/Madrid")
    assert (await client.get("/api/accounts/me", headers=ada)).json()["language"] is None


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"language": "fr"}, 400, "language"),
        ({"time_zone": "Mars/Olympus"}, 422, "time_zone"),
        ({"name": ""}, 400, "name"),
        ({"name": "  "}, 422, "name"),
        ({"email": "not an email"}, 400, "email"),
        ({"nickname": "A"}, 400, "nickname"),
    ],
)
async def test_a_bad_value_is_refused_with_its_field_named_and_nothing_changes(
    client: AsyncTestClient, body: dict[str, str], status: int, field: str
) -> None:
    ada, _ = await signed_in(client, "Ada")
    response = await client.patch("/api/accounts/me", json={"name": "Changed", **body}, headers=ada)
    assert_refused(response, status, "invalid", field)
    assert (await client.get("/api/accounts/me", headers=ada)).json()["name"] == "Ada"


async def test_a_new_email_is_mailed_a_link_and_changes_only_when_opened(
    client: AsyncTestClient, settings: Settings
) -> None:
    ada, _ = await signed_in(client, "Ada")
    response = await client.patch("/api/accounts/me", json={"email": "Ada@New.example.org"}, headers=ada)
    assert response.status_code == 202, response.text
    assert (response.json()["email"], response.json()["pending_email"]) == (email_of("Ada"), "ada@new.example.org")
    assert (await client.get("/api/accounts/me", headers=ada)).json()["email"] == email_of("Ada")

    link = link_in(await mail_to(settings, "ada@new.example.org", "Confirm your new email"), "/account/email/")
    page = await client.get(link)  # asks, changes nothing: a mail scanner may open links
    assert page.status_code == 200 and "ada@new.example.org" in page.text
    assert (await client.get("/api/accounts/me", headers=ada)).json()["email"] == email_of("Ada")
    csrf = {"X-CSRFToken": client.cookies["csrftoken"]}
    confirmed = await client.post(link, headers=csrf, follow_redirects=False)
    assert confirmed.status_code == 302
    assert (await client.get("/api/accounts/me", headers=ada)).json()["email"] == "ada@new.example.org"
    notice = await mail_to(settings, email_of("Ada"), "Your email was changed")
    assert "ada@new.example.org" in notice

    used = await client.post(link, headers=csrf)
    assert used.status_code == 410 and "expired or was used already" in used.text
    signed_in_with_it = await client.post("/api/sessions", json={"email": "ada@new.example.org", "password": PASSWORD})
    assert signed_in_with_it.status_code == 200


async def test_an_email_another_account_has_is_refused_at_request_and_at_confirmation(
    client: AsyncTestClient, settings: Settings
) -> None:
    ada, _ = await signed_in(client, "Ada")
    await sign_up(client, "Bo")
    assert_refused(
        await client.patch("/api/accounts/me", json={"email": email_of("Bo")}, headers=ada), 409, "email_taken"
    )
    assert_refused(
        await client.patch("/api/accounts/me", json={"email": email_of("Ada")}, headers=ada), 422, "same_email"
    )

    await client.patch("/api/accounts/me", json={"email": "shared@example.org"}, headers=ada)
    link = link_in(await mail_to(settings, "shared@example.org", "Confirm your new email"), "/account/email/")
    await sign_up(client, "Cy", email="shared@example.org")  # taken meanwhile
    await client.get("/")
    refused = await client.post(link, headers={"X-CSRFToken": client.cookies["csrftoken"]})
    assert refused.status_code == 409 and "Another account has this email." in refused.text
    assert (await client.get("/api/accounts/me", headers=ada)).json()["email"] == email_of("Ada")


def test_links_expire_and_serve_one_purpose() -> None:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    account_id = uuid.uuid4()
    reset = rules.password_reset_link("secret", account_id, "hash", now)
    assert rules.password_reset_claim("secret", reset, now + timedelta(minutes=59)) is not None
    assert rules.password_reset_claim("secret", reset, now + timedelta(minutes=61)) is None
    assert rules.password_reset_claim("another secret", reset, now) is None
    assert rules.email_change_claim("secret", reset, now) is None  # a reset link is no email link
    email = rules.email_change_link("secret", account_id, "old@example.org", "new@example.org", now)
    claim = rules.email_change_claim("secret", email, now + timedelta(hours=23))
    assert claim is not None and claim.text == "new@example.org" and claim.account_id == account_id
    assert rules.email_change_claim("secret", email, now + timedelta(hours=25)) is None


async def test_a_new_password_signs_out_the_other_browsers_not_this_one(client: AsyncTestClient) -> None:
    await sign_up(client, "Ada")
    this, other = await browser(client, email_of("Ada")), await browser(client, email_of("Ada"))
    wrong = await as_browser(
        client, this, "POST", "/api/accounts/me/password", json={"current": "nope", "new": NEW_PASSWORD}
    )
    assert_refused(wrong, 403, "wrong_password", "current")
    weak = await as_browser(
        client, this, "POST", "/api/accounts/me/password", json={"current": PASSWORD, "new": "password"}
    )
    assert_refused(weak, 422, "weak_password")
    short = await as_browser(
        client, this, "POST", "/api/accounts/me/password", json={"current": PASSWORD, "new": "short"}
    )
    assert_refused(short, 400, "invalid", "new")

    changed = await as_browser(
        client, this, "POST", "/api/accounts/me/password", json={"current": PASSWORD, "new": NEW_PASSWORD}
    )
    assert changed.status_code == 204, changed.text
    assert (await as_browser(client, this, "GET", "/api/accounts/me")).status_code == 200
    assert (await as_browser(client, other, "GET", "/api/accounts/me")).status_code == 401
    assert (
        await client.post("/api/sessions", json={"email": email_of("Ada"), "password": PASSWORD})
    ).status_code == 401
    client.cookies.clear()
    assert (
        await client.post("/api/sessions", json={"email": email_of("Ada"), "password": NEW_PASSWORD})
    ).status_code == 200


async def test_my_sessions_are_listed_and_one_signed_out_stops_working(client: AsyncTestClient) -> None:
    await sign_up(client, "Ada")
    bo, _ = await signed_in(client, "Bo")
    this, other = await browser(client, email_of("Ada")), await browser(client, email_of("Ada"))
    listed = (await as_browser(client, this, "GET", "/api/sessions")).json()
    assert len(listed) == 2 and sorted(s["current"] for s in listed) == [False, True]
    assert set(listed[0]) == {"id", "label", "created_at", "last_seen_at", "current"}
    other_id = next(s["id"] for s in listed if not s["current"])
    assert other_id not in {s["id"] for s in (await client.get("/api/sessions", headers=bo)).json()}

    assert_refused(await client.delete(f"/api/sessions/{other_id}", headers=bo), 404, "not_found")
    assert (await as_browser(client, other, "GET", "/api/accounts/me")).status_code == 200
    ended = await as_browser(client, this, "DELETE", f"/api/sessions/{other_id}")
    assert ended.status_code == 204, ended.text
    assert (await as_browser(client, other, "GET", "/api/accounts/me")).status_code == 401
    assert [s["current"] for s in (await as_browser(client, this, "GET", "/api/sessions")).json()] == [True]
    assert (await as_browser(client, this, "POST", "/sign-out")).status_code == 302
    assert (await as_browser(client, this, "GET", "/api/accounts/me")).status_code == 401


async def test_a_password_reset_answers_alike_whether_the_email_has_an_account(
    client: AsyncTestClient, settings: Settings
) -> None:
    await sign_up(client, "Ada")
    known = await client.post("/api/password-resets", json={"email": email_of("Ada")})
    unknown = await client.post("/api/password-resets", json={"email": "nobody@example.org"})
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content)
    assert known.status_code == 202 and "If an account has this email" in known.json()["message"]
    text = await mail_to(settings, email_of("Ada"), "Choose a new password")
    link = link_in(text, "/password-reset/")
    await asyncio.sleep(0.3)  # the sender's next pass
    assert [m["To"] for m in mails(settings)] == [email_of("Ada")]

    assert (await client.get(link)).status_code == 200
    csrf = {"X-CSRFToken": client.cookies["csrftoken"]}
    weak = await client.post(link, data={"password": "short"}, headers=csrf)
    assert weak.status_code == 400 and "at least 8 characters" in weak.text, weak.text[weak.text.index("<main") :]
    done = await client.post(link, data={"password": NEW_PASSWORD}, headers=csrf, follow_redirects=False)
    assert done.status_code == 302, done.text
    assert (await client.get("/api/accounts/me")).json()["email"] == email_of("Ada")  # signed in
    assert (await client.post(link, data={"password": "yet another one"}, headers=csrf)).status_code == 410
    client.cookies.clear()
    assert (
        await client.post("/api/sessions", json={"email": email_of("Ada"), "password": NEW_PASSWORD})
    ).status_code == 200


async def test_reset_mails_to_one_address_are_limited_silently(client: AsyncTestClient, settings: Settings) -> None:
    await sign_up(client, "Ada")
    for _ in range(5):
        assert (await client.post("/api/password-resets", json={"email": email_of("Ada")})).status_code == 202
    for _ in range(100):
        if len(mails(settings)) >= 3:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert len(mails(settings)) == 3


async def test_password_resets_from_one_address_are_limited_like_sign_ups(settings: Settings) -> None:
    limited = Settings(**{**settings.__dict__, "sign_ups_per_address": 2})
    async with AsyncTestClient(app=create_app(limited), base_url="http://127.0.0.1") as client:
        for _ in range(2):
            assert (await client.post("/api/password-resets", json={"email": "a@example.org"})).status_code == 202
        refused = await client.post("/api/password-resets", json={"email": "b@example.org"})
        assert_refused(refused, 429, "too_many_requests")
        assert int(refused.headers["retry-after"]) > 0


def test_browsers_get_a_coarse_label() -> None:
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148 Safari/604.1"
    assert rules.browser_label(firefox) == "Firefox on Linux"
    assert rules.browser_label(safari) == "Safari on iOS"
    assert rules.browser_label("") == "A browser"


# The account page, as a browser without JavaScript uses it


async def test_the_account_page_changes_name_language_and_time_zone(client: AsyncTestClient) -> None:
    await sign_up(client, "Ada")
    ada = await browser(client, email_of("Ada"))
    page = await as_browser(client, ada, "GET", "/account")
    assert page.status_code == 200
    for form in ("/account/name", "/account/email", "/account/password", "/account/choices"):
        assert f'action="{form}"' in page.text
    assert "<option>Europe/Madrid</option>" in page.text and ">Español</option>" in page.text

    assert (await as_browser(client, ada, "POST", "/account/name", data={"name": "Ada L."})).status_code == 302
    choices = {"language": "es", "time_zone": "America/Lima"}
    assert (await as_browser(client, ada, "POST", "/account/choices", data=choices)).status_code == 302
    page = await as_browser(client, ada, "GET", "/account")
    assert "Ada L. · " in page.text
    assert (
        '<option value="es" lang="es" selected>' in page.text and "<option selected>America/Lima</option>" in page.text
    )


async def test_a_refused_form_says_why_next_to_its_field_and_keeps_what_was_typed(client: AsyncTestClient) -> None:
    await sign_up(client, "Ada")
    await sign_up(client, "Bo")
    ada = await browser(client, email_of("Ada"))
    blank = await as_browser(client, ada, "POST", "/account/name", data={"name": "   "})
    assert blank.status_code == 422
    assert 'aria-describedby="f-name-error"' in blank.text and "The name must not be empty." in blank.text
    taken = await as_browser(client, ada, "POST", "/account/email", data={"email": email_of("Bo")})
    assert taken.status_code == 409 and 'id="f-email-error">Another account has this email.' in taken.text
    assert f'value="{email_of("Bo")}"' in taken.text
    wrong = await as_browser(client, ada, "POST", "/account/password", data={"current": "nope", "new": NEW_PASSWORD})
    assert wrong.status_code == 403 and 'id="f-current-error">Your current password is not' in wrong.text
    short = await as_browser(client, ada, "POST", "/account/password", data={"current": PASSWORD, "new": "short"})
    assert short.status_code == 400 and 'id="f-new-error">The new password must have at least 8' in short.text
    zone = await as_browser(client, ada, "POST", "/account/choices", data={"time_zone": "Mars/Olympus"})
    assert zone.status_code == 422 and 'id="f-time_zone-error">The time zone must be' in zone.text
    page = await as_browser(client, ada, "GET", "/account")
    assert "Ada · " + email_of("Ada") in page.text  # nothing changed


async def test_the_account_page_asks_for_a_new_email_and_changes_the_password(
    client: AsyncTestClient, settings: Settings
) -> None:
    await sign_up(client, "Ada")
    ada, other = await browser(client, email_of("Ada")), await browser(client, email_of("Ada"))
    asked = await as_browser(client, ada, "POST", "/account/email", data={"email": "ada@new.example.org"})
    assert asked.status_code == 302
    assert "We mailed a link to ada@new.example.org" in (await as_browser(client, ada, "GET", "/account")).text
    await mail_to(settings, "ada@new.example.org", "Confirm your new email")

    changed = await as_browser(
        client, ada, "POST", "/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD}
    )
    assert changed.status_code == 302
    assert "your other browsers were signed out" in (await as_browser(client, ada, "GET", "/account")).text
    assert (await as_browser(client, other, "GET", "/account")).headers["location"].startswith("/sign-in")


async def test_the_account_page_lists_my_browsers_and_signs_one_out(client: AsyncTestClient) -> None:
    await sign_up(client, "Ada")
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    client.headers["User-Agent"] = firefox
    ada = await browser(client, email_of("Ada"))
    client.headers["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36"
    other = await browser(client, email_of("Ada"))
    page = await as_browser(client, ada, "GET", "/account")
    assert "Firefox on Linux <strong>(this one)</strong>" in page.text and "Chrome on Windows</td>" in page.text
    actions = re.findall(r'action="(/account/sessions/[0-9a-f-]+/sign-out)"', page.text)
    assert len(actions) == 2
    other_action = next(a for a in actions if page.text.index(a) > page.text.index("Chrome on Windows"))
    assert (await as_browser(client, ada, "POST", other_action)).status_code == 302
    assert (await as_browser(client, other, "GET", "/account")).headers["location"].startswith("/sign-in")
    page = await as_browser(client, ada, "GET", "/account")
    assert "That browser was signed out." in page.text and "Chrome on Windows" not in page.text
    mine = re.findall(r'action="(/account/sessions/[0-9a-f-]+/sign-out)"', page.text)
    assert (await as_browser(client, ada, "POST", mine[0])).headers["location"] == "/"
    assert (await as_browser(client, ada, "GET", "/api/accounts/me")).status_code == 401


async def test_the_sign_in_page_leads_to_a_reset_that_tells_nothing(client: AsyncTestClient) -> None:
    await sign_up(client, "Ada")
    assert '<a href="/password-reset">Forgot your password?</a>' in (await client.get("/sign-in")).text
    form = await client.get("/password-reset")
    assert form.status_code == 200 and 'action="/password-reset"' in form.text
    csrf = {"X-CSRFToken": client.cookies["csrftoken"]}
    known = await client.post("/password-reset", data={"email": email_of("Ada")}, headers=csrf)
    unknown = await client.post("/password-reset", data={"email": "nobody@example.org"}, headers=csrf)
    said = [
        r.text.replace(email_of("Ada"), "EMAIL").replace("nobody@example.org", "EMAIL").split('name="_csrf_token"')[0]
        for r in (known, unknown)
    ]
    assert known.status_code == unknown.status_code == 200 and said[0] == said[1]
    assert "If an account has the email" in known.text
    assert (await client.get("/password-reset/notalink")).status_code == 410
