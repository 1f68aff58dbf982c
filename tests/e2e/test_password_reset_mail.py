"""A forgotten password over real SMTP: a `consent serve` process mails the reset link to an
SMTP server of the test's own (aiosmtpd on a loopback port), and a browser without JavaScript
(httpx, with cookies and the forms' CSRF token) follows it."""

from __future__ import annotations

import asyncio
import re

import httpx

from consent.base.settings import Settings
from tests.conftest import start_server
from tests.e2e import test_mail
from tests.helpers import PASSWORD, email_of, sign_up

NEW_PASSWORD = "a brand new secret"
inbox = test_mail.inbox  # the fixture of the test's SMTP server


def csrf_of(http: httpx.AsyncClient) -> dict[str, str]:
    return {"X-CSRFToken": http.cookies["csrftoken"]}


async def test_a_forgotten_password_is_reset_through_a_mailed_link(
    settings: Settings, inbox: test_mail.Inbox, http: httpx.AsyncClient
) -> None:
    server = start_server(settings)
    try:
        url = server.url
        await sign_up(http, "Ada", url=url)
        asked = await http.post(url + "/api/password-resets", json={"email": email_of("Ada")})
        nobody = await http.post(url + "/api/password-resets", json={"email": "nobody@example.org"})
        assert asked.status_code == nobody.status_code == 202 and asked.content == nobody.content

        mails = inbox.wait_for(lambda mails: len(mails) >= 1)
        assert [str(m["To"]) for m in mails] == [email_of("Ada")]
        assert str(mails[0]["Subject"]) == "Choose a new password"
        text = mails[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        link = re.search(r"(http://\S+/password-reset/[a-z0-9]+)", text)
        assert link, text

        http.cookies.clear()
        page = await http.get(link[1])  # a browser opens the link: the form, and the CSRF cookie
        assert page.status_code == 200 and "Choose a new password" in page.text
        done = await http.post(link[1], data={"password": NEW_PASSWORD}, headers=csrf_of(http), follow_redirects=True)
        assert done.status_code == 200 and "Your new password is set, Ada" in done.text  # redirected home
        me = await http.get(url + "/api/accounts/me")
        assert me.status_code == 200 and me.json()["email"] == email_of("Ada")  # this browser is signed in

        again = await http.post(link[1], data={"password": "yet another secret"}, headers=csrf_of(http))
        assert again.status_code == 410 and "expired or was used already" in again.text
        http.cookies.clear()
        old = await http.post(url + "/api/sessions", json={"email": email_of("Ada"), "password": PASSWORD})
        assert old.status_code == 401
        new = await http.post(url + "/api/sessions", json={"email": email_of("Ada"), "password": NEW_PASSWORD})
        assert new.status_code == 200

        await asyncio.sleep(2.5)  # more than a pass of the sender: the unknown email got nothing
        assert len(inbox.mails) == 1
    finally:
        server.stop()
