"""What every page shares, in-process: the icon browsers ask for, and the header's menu."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.helpers import create_circle, signed_in


async def test_the_favicon_is_served_where_browsers_look_for_it(client: AsyncTestClient) -> None:
    icon = await client.get("/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg")
    moved = await client.get("/favicon.ico", follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"] == "/static/favicon.svg"
    page = await client.get("/sign-in")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page.text


async def test_the_header_keeps_your_circles_account_and_sign_out_in_one_menu(client: AsyncTestClient) -> None:
    signed_out = (await client.get("/sign-in")).text.split("</header>")[0]
    assert 'href="/sign-in"' in signed_out and 'href="/sign-up"' in signed_out and "<details" not in signed_out
    headers, _ = await signed_in(client, "Ada")
    circle = await create_circle(client, headers, "Riverside")
    header = (await client.get("/", headers=headers)).text.split("</header>")[0]
    menu = header.split('<details class="menu">')[1].split("</details>")[0]
    assert '<span class="visually-hidden">Signed in as </span><span class="who">Ada</span>' in menu
    assert f'<a href="/circles/{circle["id"]}">Riverside</a>' in menu
    assert 'href="/account"' in menu and 'action="/sign-out"' in menu


async def test_no_page_may_be_framed_and_no_answer_sniffed(client: AsyncTestClient) -> None:
    for path in ("/sign-in", "/", "/static/consent.css", "/api/circles"):
        answer = await client.get(path)
        assert answer.headers["content-security-policy"] == "frame-ancestors 'none'", path
        assert answer.headers["x-frame-options"] == "DENY" and answer.headers["x-content-type-options"] == "nosniff"
