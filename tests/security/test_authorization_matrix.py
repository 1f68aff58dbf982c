"""Who may do what, on every route the application serves: each route of `app.routes` (API,
pages, exports, the meeting socket) is asked by five kinds of people, and each answer must be
the one MATRIX expects. A route without an entry fails the test: a new route needs its row.

The kinds, each relative to the circle that owns what the route is about:

| kind | who | in the world below |
| --- | --- | --- |
| anonymous | no sign-in (a browser has the CSRF cookie, so refusals are the guard's) | – |
| outsider | signed in, in another organisation | Dee, steward of Elsewhere |
| member | a plain member of the circle | Bo, in Riverside and in its private sub-circle Kitchen |
| other_steward | a steward of another circle of the same organisation, not a member of this one | Cy, facilitator of Garden |
| facilitator | a steward of the circle | Ada, facilitator of Riverside, leader and facilitator of Kitchen |

`/api/` routes are asked with bearer tokens, as scripts do; every other route as a browser
does, with the session cookie and the CSRF token. The expectations follow one rule: anonymous
gets 401 (a page's GET: a redirect to the sign-in page), what is hidden from someone answers
404 exactly as if it did not exist, what they see but may not do answers 403, and what they
may do succeeds. OPTIONS, answered alike for everyone, is checked for every route at once.

A new route needs one line in MATRIX, e.g. `"GET /api/notifications": [signed_in_only(200)]`;
a body to send goes in BODIES, and a path parameter the world has no value for in
`World.path_values`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from litestar import Litestar
from litestar.routes import HTTPRoute, WebSocketRoute
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from consent.app import create_app
from consent.base.settings import Settings
from tests.conftest import Server
from tests.helpers import (
    PASSWORD,
    Headers,
    account_body,
    add_domain,
    add_member,
    bearer,
    create_circle,
    email_of,
    proposal_body,
    sign_up,
    token_of,
)

in_module_loop = pytest.mark.asyncio(loop_scope="module")  # the world's server and client live as long

KINDS = ("anonymous", "outsider", "member", "other_steward", "facilitator")
SIGN_IN = "sign-in"  # a redirect to /sign-in?next=…
WELCOME = "welcome"  # the socket's answer to hello
Outcome = int | str


@dataclass(frozen=True)
class Case:
    """What each kind gets on one route: `where` the resource lives (Riverside, or the private
    Kitchen); `fresh`: each kind acts on resources made for its request alone (a circle to leave,
    an invitation to accept, a decision to review), with a credential of its own (sign-out)."""

    expect: dict[str, Outcome]
    where: str = "circle"
    fresh: bool = False
    query: dict[str, str] = field(default_factory=dict)  # "{name}": the world's value of that name


def row(
    anonymous: Outcome,
    outsider: Outcome,
    member: Outcome,
    other_steward: Outcome,
    facilitator: Outcome,
    *,
    where: str = "circle",
    fresh: bool = False,
    query: dict[str, str] | None = None,
) -> Case:
    expect = dict(zip(KINDS, (anonymous, outsider, member, other_steward, facilitator)))
    return Case(expect, where, fresh, query or {})


def everyone(outcome: Outcome, query: dict[str, str] | None = None) -> Case:
    return row(outcome, outcome, outcome, outcome, outcome, query=query)


def signed_in_only(outcome: Outcome, anonymous: Outcome = 401, *, fresh: bool = False) -> Case:
    return row(anonymous, outcome, outcome, outcome, outcome, fresh=fresh)


# "METHOD path" as the route table writes it -> one case per kind of resource it is asked about.
MATRIX: dict[str, list[Case]] = {
    # Home, accounts and sessions
    "GET /": [everyone(200)],
    "GET /api/accounts/me": [signed_in_only(200)],
    "POST /api/accounts": [everyone(201)],
    "POST /api/sessions": [everyone(200)],
    "DELETE /api/sessions": [row(401, 204, 204, 204, 204, fresh=True)],
    "GET /sign-up": [everyone(200)],
    "POST /sign-up": [row(302, 302, 302, 302, 302, fresh=True)],  # signs the new account in on this browser
    "GET /sign-in": [everyone(200)],
    "POST /sign-in": [row(302, 302, 302, 302, 302, fresh=True)],
    "POST /sign-out": [row(302, 302, 302, 302, 302, fresh=True)],
    "GET /account": [signed_in_only(200, SIGN_IN)],
    "GET /api/accounts/me/export": [signed_in_only(200)],
    # each with a wrong password: refused (403), and nobody's account is erased
    "DELETE /api/accounts/me": [signed_in_only(403)],
    "GET /account/delete": [signed_in_only(200, SIGN_IN)],
    "POST /account/delete": [signed_in_only(403)],
    "POST /account/tokens": [signed_in_only(200)],
    # Bo's token: revoking someone else's changes nothing, and says nothing either
    "POST /account/tokens/{token_id:uuid}/revoke": [signed_in_only(302)],
    "GET /api/waiting": [signed_in_only(200)],
    # Account self-service: each person's own account. A session of Bo's (the member), fresh
    # for each request: ending someone else's changes nothing (API: 404, as if it did not exist).
    "PATCH /api/accounts/me": [signed_in_only(200)],
    # a wrong current password: the refusal, for anyone signed in (a right one signs the others out)
    "POST /api/accounts/me/password": [signed_in_only(403)],
    "POST /api/password-resets": [everyone(202)],
    "GET /api/sessions": [signed_in_only(200)],
    "DELETE /api/sessions/{session_id:uuid}": [row(401, 404, 204, 404, 404, fresh=True)],
    "POST /account/name": [signed_in_only(302)],
    "POST /account/email": [signed_in_only(302)],
    "POST /account/password": [signed_in_only(403)],
    "POST /account/choices": [signed_in_only(302)],
    "POST /account/sessions/{session_id:uuid}/sign-out": [signed_in_only(302, fresh=True)],
    # a mailed link: whoever holds it may use it; another secret (an invitation's) is refused
    "GET /account/email/{token:str}": [everyone(200)],
    "POST /account/email/{token:str}": [everyone(410)],
    "GET /password-reset": [everyone(200)],
    "POST /password-reset": [everyone(200)],
    "GET /password-reset/{token:str}": [everyone(410)],
    "POST /password-reset/{token:str}": [everyone(410)],
    # Circles
    "GET /api/circles": [signed_in_only(200)],
    "POST /api/circles": [signed_in_only(201)],
    "GET /api/circles/{circle_id:uuid}": [row(401, 404, 200, 200, 200), row(401, 404, 200, 200, 200, where="private")],
    "PATCH /api/circles/{circle_id:uuid}": [
        row(401, 404, 403, 403, 200),
        row(401, 404, 403, 403, 200, where="private"),
    ],
    "POST /api/circles/{circle_id:uuid}/domains": [
        row(401, 404, 403, 403, 201),
        row(401, 404, 403, 403, 201, where="private"),
    ],
    "POST /api/circles/{circle_id:uuid}/members": [
        row(401, 404, 403, 403, 202),
        row(401, 404, 403, 403, 202, where="private"),
    ],
    # a fresh sub-circle of Riverside: Ada leads it, Bo and Gus are members (Gus a treasurer)
    "DELETE /api/circles/{circle_id:uuid}/members/me": [row(401, 404, 204, 404, 409, fresh=True)],
    "DELETE /api/circles/{circle_id:uuid}/members/{account_id:uuid}": [row(401, 404, 403, 403, 204, fresh=True)],
    "GET /circles": [signed_in_only(200, SIGN_IN)],
    "POST /circles": [signed_in_only(302)],
    "GET /circles/{circle_id:uuid}": [
        row(SIGN_IN, 404, 200, 200, 200),
        row(SIGN_IN, 404, 200, 200, 200, where="private"),
    ],
    "GET /circles/{circle_id:uuid}/chart": [
        row(SIGN_IN, 404, 200, 200, 200),
        row(SIGN_IN, 404, 200, 200, 200, where="private"),
    ],
    "POST /circles/{circle_id:uuid}/settings": [
        row(401, 404, 403, 403, 302),
        row(401, 404, 403, 403, 302, where="private"),
    ],
    "POST /circles/{circle_id:uuid}/domains": [
        row(401, 404, 403, 403, 302),
        row(401, 404, 403, 403, 302, where="private"),
    ],
    "POST /circles/{circle_id:uuid}/members": [
        row(401, 404, 403, 403, 200),  # the circle's page again, with the invitation's link
        row(401, 404, 403, 403, 200, where="private"),
    ],
    "POST /circles/{circle_id:uuid}/sub-circles": [
        row(401, 404, 403, 403, 302),
        row(401, 404, 403, 403, 302, where="private"),
    ],
    "POST /circles/{circle_id:uuid}/leave": [row(401, 404, 302, 404, 409, fresh=True)],
    "POST /circles/{circle_id:uuid}/members/{account_id:uuid}/remove": [row(401, 404, 403, 403, 302, fresh=True)],
    "POST /circles/{circle_id:uuid}/roles/{role_id:uuid}/remove": [row(401, 404, 403, 403, 302, fresh=True)],
    "GET /terms": [signed_in_only(200, SIGN_IN)],
    # Invitations: each fresh one is Ada's, to a new organisation of hers, for Dee's email
    "GET /api/invitations": [signed_in_only(200)],
    "POST /api/invitations/{invitation_id:uuid}/accept": [row(401, 200, 404, 404, 404, fresh=True)],
    "POST /api/invitations/{invitation_id:uuid}/decline": [row(401, 204, 404, 404, 404, fresh=True)],
    "GET /invitations": [signed_in_only(200, SIGN_IN)],
    "POST /invitations/{invitation_id:uuid}/accept": [row(401, 302, 404, 404, 404, fresh=True)],
    "POST /invitations/{invitation_id:uuid}/decline": [row(401, 302, 404, 404, 404, fresh=True)],
    # the secret link: whoever holds it reads it, before having an account
    "GET /invitations/{token:str}": [everyone(200)],
    "POST /invitations/{token:str}": [row(401, 302, 403, 403, 403, fresh=True)],
    # Proposals (Fay's, in its clarifying round: the action is a question)
    "POST /api/circles/{circle_id:uuid}/proposals": [
        row(401, 404, 201, 403, 201),
        row(401, 404, 201, 403, 201, where="private"),  # the private circle is seen, its proposals are not
    ],
    # Selections: opened by a steward of the circle
    "POST /api/circles/{circle_id:uuid}/selections": [
        row(401, 404, 403, 403, 201),
        row(401, 404, 403, 403, 201, where="private"),
    ],
    "POST /circles/{circle_id:uuid}/selections": [
        row(401, 404, 403, 403, 302),
        row(401, 404, 403, 403, 302, where="private"),
    ],
    "GET /api/proposals/{proposal_id:uuid}": [
        row(401, 404, 200, 200, 200),
        row(401, 404, 200, 404, 200, where="private"),
    ],
    "GET /api/proposals/{proposal_id:uuid}/events": [
        row(401, 404, 200, 200, 200),
        row(401, 404, 200, 404, 200, where="private"),
    ],
    "POST /api/proposals/{proposal_id:uuid}/actions": [
        row(401, 404, 200, 403, 200),
        row(401, 404, 200, 404, 200, where="private"),
    ],
    "GET /circles/{circle_id:uuid}/proposals/new": [
        row(SIGN_IN, 404, 200, 403, 200),
        row(SIGN_IN, 404, 200, 403, 200, where="private"),
    ],
    "POST /circles/{circle_id:uuid}/proposals": [
        row(401, 404, 302, 403, 302),
        row(401, 404, 302, 403, 302, where="private"),
    ],
    "GET /proposals/{proposal_id:uuid}": [
        row(SIGN_IN, 404, 200, 200, 200),
        row(SIGN_IN, 404, 200, 404, 200, where="private"),
    ],
    "GET /proposals/{proposal_id:uuid}/now": [
        row(SIGN_IN, 404, 200, 200, 200),
        row(SIGN_IN, 404, 200, 404, 200, where="private"),
    ],
    "POST /proposals/{proposal_id:uuid}/actions": [
        row(401, 404, 302, 403, 302),
        row(401, 404, 302, 404, 302, where="private"),
    ],
    "WS /ws/proposals/{proposal_id:uuid}": [
        row(4403, 4403, WELCOME, 4403, WELCOME),
        row(4403, 4403, WELCOME, 4403, WELCOME, where="private"),
    ],
    # Meetings (Ada facilitates each circle's; Bo takes part; Cy, a steward elsewhere, may see
    # Riverside's and take part in none)
    "POST /api/circles/{circle_id:uuid}/meetings": [
        row(401, 404, 403, 403, 201),
        row(401, 404, 403, 403, 201, where="private"),
    ],
    "GET /api/circles/{circle_id:uuid}/meetings": [
        row(401, 404, 200, 403, 200),
        row(401, 404, 200, 403, 200, where="private"),  # the circle is seen, its meetings not
    ],
    "GET /api/meetings/{meeting_id:uuid}": [
        row(401, 404, 200, 200, 200),
        row(401, 404, 200, 404, 200, where="private"),
    ],
    "GET /api/meetings/{meeting_id:uuid}/events": [
        row(401, 404, 200, 200, 200),
        row(401, 404, 200, 404, 200, where="private"),
    ],
    "POST /api/meetings/{meeting_id:uuid}/actions": [
        row(401, 404, 200, 403, 200),
        row(401, 404, 200, 404, 200, where="private"),
    ],
    "POST /circles/{circle_id:uuid}/meetings": [
        row(401, 404, 403, 403, 302),
        row(401, 404, 403, 403, 302, where="private"),
    ],
    "GET /meetings/{meeting_id:uuid}": [
        row(SIGN_IN, 404, 200, 200, 200),
        row(SIGN_IN, 404, 200, 404, 200, where="private"),
    ],
    "POST /meetings/{meeting_id:uuid}/actions": [
        row(401, 404, 302, 403, 302),
        row(401, 404, 302, 404, 302, where="private"),
    ],
    "WS /ws/meetings/{meeting_id:uuid}": [
        row(4403, 4403, WELCOME, 4403, WELCOME),
        row(4403, 4403, WELCOME, 4403, WELCOME, where="private"),
    ],
    # Decisions (reviews of fresh decisions: one review of a decision is open at a time)
    "GET /api/decisions": [signed_in_only(200)],
    "GET /api/decisions/{decision_id:uuid}": [
        row(401, 404, 200, 200, 200),
        row(401, 404, 200, 404, 200, where="private"),
    ],
    "PATCH /api/decisions/{decision_id:uuid}": [
        row(401, 404, 403, 403, 200),
        row(401, 404, 403, 404, 200, where="private"),
    ],
    "POST /api/decisions/{decision_id:uuid}/reviews": [
        row(401, 404, 201, 403, 201, fresh=True),
        row(401, 404, 201, 404, 201, where="private", fresh=True),
    ],
    "POST /api/decisions/feed": [signed_in_only(201)],
    "DELETE /api/decisions/feed": [signed_in_only(204)],
    "GET /decisions": [signed_in_only(200, SIGN_IN)],
    "GET /decisions/{decision_id:uuid}": [
        row(SIGN_IN, 404, 200, 200, 200),
        row(SIGN_IN, 404, 200, 404, 200, where="private"),
    ],
    "POST /decisions/{decision_id:uuid}/agreement": [
        row(401, 404, 403, 403, 302),
        row(401, 404, 403, 404, 302, where="private"),
    ],
    "POST /decisions/{decision_id:uuid}/reviews": [
        row(401, 404, 302, 403, 302, fresh=True),
        row(401, 404, 302, 404, 302, where="private", fresh=True),
    ],
    # Action items: each fresh, of a fresh decision, asked of Bo (the member); a steward marks done
    # only the item of someone who left
    "POST /api/action-items/{item_id:uuid}/accept": [
        row(401, 404, 200, 403, 403, fresh=True),
        row(401, 404, 200, 404, 403, where="private", fresh=True),
    ],
    "POST /api/action-items/{item_id:uuid}/decline": [
        row(401, 404, 200, 403, 403, fresh=True),
        row(401, 404, 200, 404, 403, where="private", fresh=True),
    ],
    "POST /api/action-items/{item_id:uuid}/done": [
        row(401, 404, 200, 403, 403, fresh=True),
        row(401, 404, 200, 404, 403, where="private", fresh=True),
    ],
    "POST /action-items/{item_id:uuid}/accept": [
        row(401, 404, 302, 403, 403, fresh=True),
        row(401, 404, 302, 404, 403, where="private", fresh=True),
    ],
    "POST /action-items/{item_id:uuid}/decline": [
        row(401, 404, 302, 403, 403, fresh=True),
        row(401, 404, 302, 404, 403, where="private", fresh=True),
    ],
    "POST /action-items/{item_id:uuid}/done": [
        row(401, 404, 302, 403, 403, fresh=True),
        row(401, 404, 302, 404, 403, where="private", fresh=True),
    ],
    "POST /decisions/feed": [signed_in_only(200)],
    "POST /decisions/feed/revoke": [signed_in_only(302)],
    "GET /decisions.csv": [signed_in_only(200, SIGN_IN)],
    "GET /decisions.json": [signed_in_only(200)],  # a .json path answers errors in JSON: no redirect
    "GET /decisions/{decision_id:uuid}/minutes.md": [
        row(SIGN_IN, 404, 200, 200, 200),
        row(SIGN_IN, 404, 200, 404, 200, where="private"),
    ],
    # a meeting's minutes: whoever sees its circle, as a decision's
    "GET /meetings/{meeting_id:uuid}/minutes": [
        row(SIGN_IN, 404, 200, 200, 200),
        row(SIGN_IN, 404, 200, 404, 200, where="private"),
    ],
    "GET /meetings/{meeting_id:uuid}/minutes.md": [
        row(SIGN_IN, 404, 200, 200, 200),
        row(SIGN_IN, 404, 200, 404, 200, where="private"),
    ],
    # the calendar: with a sign-in, or with the secret link (Fay's) and no sign-in at all
    "GET /decisions.ics": [signed_in_only(200, SIGN_IN), everyone(200, query={"feed": "{feed}"})],
    # Notifications: each person's own; a notification of Bo's (the member)
    "GET /api/notifications": [signed_in_only(200)],
    "POST /api/notifications/{notification_id:uuid}/read": [row(401, 404, 200, 404, 404)],
    "GET /api/accounts/me/preferences": [signed_in_only(200)],
    "PATCH /api/accounts/me/preferences": [signed_in_only(200)],
    "GET /notifications": [signed_in_only(200, SIGN_IN)],
    "POST /notifications/read": [signed_in_only(302)],
    "POST /notifications/choices": [signed_in_only(302)],
    "POST /notifications/{notification_id:uuid}/open": [row(401, 404, 302, 404, 404)],
    # a mail's unsubscribe link needs no sign-in, only its signature: another secret is refused
    "GET /unsubscribe/{token:str}": [everyone(404)],
    "POST /unsubscribe/{token:str}": [everyone(404)],
    # Files and the OpenAPI document: public
    "GET /static/{file_path:path}": [everyone(200)],
    "HEAD /static/{file_path:path}": [everyone(200)],
    "GET /favicon.ico": [everyone(301)],
    "GET /schema": [everyone(200)],
    "GET /schema/openapi.json": [everyone(200)],
    "GET /schema/openapi.yaml": [everyone(200)],
    "GET /schema/openapi.yml": [everyone(200)],
    "GET /schema/swagger": [everyone(200)],
    "GET /schema/redoc": [everyone(200)],
    "GET /schema/rapidoc": [everyone(200)],
    "GET /schema/elements": [everyone(200)],
    "GET /schema/oauth2-redirect.html": [everyone(200)],
    "GET /schema/{path:str}": [everyone(404)],  # a viewer that is not served
}


@dataclass
class Person:
    name: str
    id: str
    headers: Headers  # a script's bearer token
    cookie: str  # a browser's: the session and the CSRF cookie
    csrf: str

    @property
    def email(self) -> str:
        return email_of(self.name)


@dataclass
class Scene:
    """What a fresh case acts on, made for one request."""

    circle_id: str | None = None
    account_id: str | None = None
    role_id: str | None = None
    invitation_id: str | None = None
    token: str | None = None
    decision_id: str | None = None
    session_id: str | None = None
    item_id: str | None = None


class World:
    """Riverside (Ada facilitates; Bo and Fay are members) holds the domain Food; its
    sub-circles are Garden (Cy facilitates; Ada leads it) and the private Kitchen (Ada leads and
    facilitates; Bo and Fay are members; domain Pantry). Each of Riverside and Kitchen has an
    async proposal of Fay's in its clarifying round and a decision. Dee has her own organisation,
    Elsewhere. Fay keeps a calendar link; Bo has a spare token and an action item to answer; Gus
    is the member that fresh circles remove."""

    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http, self.url = http, url
        self.people: dict[str, Person] = {}
        self.circle: dict[str, str] = {}
        self.circle_name = {"circle": "Riverside", "private": "Kitchen"}
        self.domain: dict[str, str] = {}
        self.proposal: dict[str, str] = {}
        self.decision: dict[str, str] = {}
        self.meeting: dict[str, str] = {}  # called by Ada, with one free item
        self.named: dict[str, str] = {}  # for queries: "feed"
        self.invitation_id, self.invitation_token, self.role_id = "", "", ""
        self.token_id, self.notification_id, self.item_id = "", "", ""
        self.anonymous_cookie, self.anonymous_csrf = "", ""
        self.numbers = itertools.count(1)

    def unique(self, prefix: str) -> str:
        return f"{prefix}{next(self.numbers)}"

    async def request(self, method: str, path: str, headers: Headers | None = None, **kwargs: Any) -> httpx.Response:
        # Each request carries exactly the credentials it is given, and leaves none behind for
        # the next (a session cookie sent to a sign-in would end that session).
        self.http.cookies.clear()
        try:
            return await self.http.request(method, self.url + path, headers=headers or {}, **kwargs)
        finally:
            self.http.cookies.clear()

    async def ok(self, method: str, path: str, who: str, status: int = 200, **kwargs: Any) -> Any:
        response = await self.request(method, path, self.people[who].headers, **kwargs)
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    async def browser(self, session: str = "") -> tuple[str, str]:
        """A browser's cookie header, signed in with `session` or anonymous, and its CSRF token."""
        response = await self.request("GET", "/", {"Cookie": f"session={session}"} if session else {})
        csrf = response.cookies["csrftoken"]
        return "; ".join([*([f"session={session}"] if session else []), f"csrftoken={csrf}"]), csrf

    async def sign_in(self, name: str, account_id: str) -> Person:
        """A new token and a new browser session for `name`."""
        response = await self.request("POST", "/api/sessions", json={"email": email_of(name), "password": PASSWORD})
        assert response.status_code == 200, response.text
        cookie, csrf = await self.browser(response.cookies["session"])
        return Person(name, account_id, bearer(response.json()["token"]), cookie, csrf)

    async def build(self) -> None:
        self.anonymous_cookie, self.anonymous_csrf = await self.browser()
        accounts = {
            name: await sign_up(self.http, name, url=self.url) for name in ("ada", "bo", "cy", "dee", "fay", "gus")
        }
        people = {name: await self.sign_in(name, account["id"]) for name, account in accounts.items()}
        self.people = {"outsider": people["dee"], "member": people["bo"], "other_steward": people["cy"]}
        self.people |= {"facilitator": people["ada"], "fay": people["fay"], "gus": people["gus"]}
        ada = people["ada"].headers
        http, url = self.http, self.url
        await create_circle(http, people["dee"].headers, "Elsewhere", url=url)
        riverside = await create_circle(http, ada, "Riverside", aim="Feed everyone", url=url)
        self.circle["circle"] = riverside["id"]
        for name in ("bo", "fay"):
            await add_member(http, ada, riverside["id"], name, url=url)
        self.domain["circle"] = (await add_domain(http, ada, riverside["id"], "Food", url=url))["id"]
        garden = await create_circle(http, ada, "Garden", parent_id=riverside["id"], url=url)
        await add_member(http, ada, garden["id"], "ada", ["leader"], url=url)
        await add_member(http, ada, garden["id"], "cy", ["facilitator"], url=url)
        kitchen = await create_circle(http, ada, "Kitchen", parent_id=riverside["id"], url=url)
        self.circle["private"] = kitchen["id"]
        for role in ("leader", "facilitator"):  # the parent's stewards choose the leader, who may then act
            await add_member(http, ada, kitchen["id"], "ada", [role], url=url)
        for name in ("bo", "fay"):
            await add_member(http, ada, kitchen["id"], name, url=url)
        self.domain["private"] = (await add_domain(http, ada, kitchen["id"], "Pantry", url=url))["id"]
        await self.ok("PATCH", f"/api/circles/{kitchen['id']}", "facilitator", json={"private": True})
        for where in ("circle", "private"):
            self.proposal[where] = await self.propose(where)
            await self.act(self.proposal[where], "facilitator", "start")
            self.decision[where] = await self.decide(where)
            self.meeting[where] = await self.call_meeting(where)
        invited = await self.ok(
            "POST",
            f"/api/circles/{riverside['id']}/members",
            "facilitator",
            202,
            json={"email": "newcomer@example.org"},
        )
        self.invitation_id = invited["invitation"]["id"]
        self.invitation_token = invited["invitation"]["link"].rsplit("/", 1)[1]
        circle = await self.ok("GET", f"/api/circles/{riverside['id']}", "facilitator")
        self.role_id = next(m["roles"][0]["id"] for m in circle["members"] if m["id"] == people["ada"].id)
        self.named["feed"] = (await self.ok("POST", "/api/decisions/feed", "fay", 201))["token"]
        self.token_id = await self.newest_token_id(await self.sign_in("bo", people["bo"].id))
        self.notification_id = await self.notification_of("member")
        self.item_id = await self.asked_of_bo("circle")

    async def call_meeting(self, where: str) -> str:
        starts_at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        body = {"starts_at": starts_at, "place": "The hall", "agenda": [{"title": "Reports"}]}
        called = await self.ok("POST", f"/api/circles/{self.circle[where]}/meetings", "facilitator", 201, json=body)
        return str(called["id"])

    async def notification_of(self, kind: str) -> str:
        """One of the person's notifications (the notifier makes them just after the actions)."""
        for _ in range(200):
            found = await self.ok("GET", "/api/notifications", kind)
            if found["items"]:
                return str(found["items"][0]["id"])
            await asyncio.sleep(0.05)
        raise AssertionError(f"the {kind} was told nothing")

    async def newest_token_id(self, person: Person) -> str:
        """The id of `person`'s newest token, from the last revoke form of the account page."""
        page = await self.request("GET", "/account", {"Cookie": person.cookie})
        assert page.status_code == 200, page.text
        start = page.text.rindex("/account/tokens/") + len("/account/tokens/")
        return page.text[start : page.text.index("/revoke", start)]

    async def propose(self, where: str, **fields: Any) -> str:
        deadline = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        body = proposal_body(self.domain[where], deadline, **fields)
        return (await self.ok("POST", f"/api/circles/{self.circle[where]}/proposals", "fay", 201, json=body))["id"]

    async def act(self, proposal_id: str, who: str, type_: str, **data: Any) -> None:
        body = {"type": type_, "client_id": self.unique(f"{who}-{type_}-"), **data}
        await self.ok("POST", f"/api/proposals/{proposal_id}/actions", who, json=body)

    async def decide(self, where: str, **fields: Any) -> str:
        proposal_id = await self.propose(where, **fields)
        for step in ("start", "advance", "advance"):
            await self.act(proposal_id, "facilitator", step)
        for who in ("facilitator", "member", "fay"):
            await self.act(proposal_id, who, "consent")
        read = await self.ok("GET", f"/api/proposals/{proposal_id}", "fay")
        assert read["state"] == "decided", read
        found = await self.ok("GET", "/api/decisions", "fay", params={"circle_id": self.circle[where], "limit": 100})
        return next(d["id"] for d in found["items"] if d["proposal_id"] == proposal_id)

    async def scene(self, path: str, where: str) -> Scene:
        """Resources for one request of a fresh case, those its path names."""
        scene = Scene()
        ada = self.people["facilitator"].headers
        if "{circle_id" in path:
            shed = await create_circle(
                self.http, ada, self.unique("Shed "), parent_id=self.circle["circle"], url=self.url
            )
            await add_member(self.http, ada, shed["id"], "ada", ["leader"], url=self.url)
            await add_member(self.http, ada, shed["id"], "bo", url=self.url)
            gus = await add_member(self.http, ada, shed["id"], "gus", ["treasurer"], url=self.url)
            scene.circle_id, scene.account_id = shed["id"], gus["member"]["id"]
            scene.role_id = gus["member"]["roles"][0]["id"]
        if "{invitation_id" in path or "{token" in path:
            orchard = await create_circle(self.http, ada, self.unique("Orchard "), url=self.url)
            invited = await self.ok(
                "POST",
                f"/api/circles/{orchard['id']}/members",
                "facilitator",
                202,
                json={"email": self.people["outsider"].email},
            )
            scene.invitation_id = invited["invitation"]["id"]
            scene.token = invited["invitation"]["link"].rsplit("/", 1)[1]
        if "{decision_id" in path:
            scene.decision_id = await self.decide(where)
        if "{session_id" in path:
            bo = await self.sign_in("bo", self.people["member"].id)
            sessions = (await self.request("GET", "/api/sessions", {"Cookie": bo.cookie})).json()
            scene.session_id = next(session["id"] for session in sessions if session["current"])
        if "{item_id" in path:
            scene.item_id = await self.asked_of_bo(where)
        return scene

    async def asked_of_bo(self, where: str) -> str:
        """An action item of a new decision, asked of Bo (the member)."""
        asked = [{"what": "Ask the baker", "owner_id": self.people["member"].id}]
        decided = await self.ok("GET", f"/api/decisions/{await self.decide(where, action_items=asked)}", "fay")
        return str(decided["action_items"][0]["id"])

    async def path_values(self, path: str, case: Case) -> dict[str, str]:
        scene = await self.scene(path, case.where) if case.fresh else Scene()
        return {
            "circle_id": scene.circle_id or self.circle[case.where],
            "account_id": scene.account_id or self.people["gus"].id,
            "role_id": scene.role_id or self.role_id,
            "invitation_id": scene.invitation_id or self.invitation_id,
            "token": scene.token or self.invitation_token,
            "decision_id": scene.decision_id or self.decision[case.where],
            "proposal_id": self.proposal[case.where],
            "meeting_id": self.meeting[case.where],
            "item_id": scene.item_id or self.item_id,
            "token_id": self.token_id,
            "notification_id": self.notification_id,
            "session_id": scene.session_id or "00000000-0000-0000-0000-000000000000",  # OPTIONS: any id
            "file_path": "consent.css",
            "path": "nowhere",
        }

    async def ask(self, key: str, case: Case, kind: str) -> Outcome:
        """What `kind` gets for the route `key` in `case`."""
        method, path = key.split(" ", 1)
        person = self.people.get(kind)
        if case.fresh and person is not None:
            person = await self.sign_in(person.name, person.id)
        values = await self.path_values(path, case)
        target = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], path)
        if method == "WS":
            return await self.socket(target, person)
        api = target.startswith("/api/")
        headers: Headers = {}
        if api and person is not None:
            headers = dict(person.headers)
        elif not api:
            cookie, csrf = (person.cookie, person.csrf) if person else (self.anonymous_cookie, self.anonymous_csrf)
            headers = {"Cookie": cookie, "X-CSRFToken": csrf}
        body = BODIES[key](self, case, person) if key in BODIES else {}
        query = {name: value.format(**self.named) for name, value in case.query.items()}
        sent: dict[str, Any] = ({"json": body} if api else {"data": body}) if body else {}
        response = await self.request(method, target, headers, params=query, follow_redirects=False, **sent)
        if response.is_redirect and response.headers["location"].startswith("/sign-in"):
            return SIGN_IN
        return response.status_code

    async def socket(self, path: str, person: Person | None) -> Outcome:
        """Opens the meeting socket and says hello (with a token, for a signed-in person): the
        welcome, or the code the socket was closed with."""
        hello: dict[str, Any] = {"type": "hello", "since": 0}
        if person is not None:
            hello["token"] = token_of(person.headers)
        async with connect(self.url.replace("http://", "ws://") + path, proxy=None, open_timeout=10) as socket:
            await socket.send(json.dumps(hello))
            try:
                first = json.loads(await socket.recv())
            except ConnectionClosed:
                assert socket.close_code is not None
                return socket.close_code
            return WELCOME if first["type"] == "welcome" else str(first)


def sign_in_body(world: World, _: Case, person: Person | None) -> dict[str, Any]:
    return {"email": (person or world.people["fay"]).email, "password": PASSWORD}


def new_account(world: World, _: Case, __: Person | None) -> dict[str, Any]:
    return account_body(world.unique("Newcomer"))


def named(prefix: str) -> Callable[[World, Case, Person | None], dict[str, Any]]:
    return lambda world, _, __: {"name": world.unique(prefix)}


def new_email(world: World, _: Case, __: Person | None) -> dict[str, Any]:
    return {"email": f"{world.unique('someone')}@example.org"}


def same_name(_: World, __: Case, person: Person | None) -> dict[str, Any]:
    return {"name": person.name if person else "Nobody"}


def wrong_password(*_: Any) -> dict[str, Any]:
    return {"current": "not the password", "new": "a new password"}


def question(world: World, _: Case, __: Person | None) -> dict[str, Any]:
    return {"type": "question", "client_id": world.unique("q-"), "text": "Who holds the key?"}


def new_meeting(_: World, __: Case, ___: Person | None) -> dict[str, Any]:
    return {"starts_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(), "agenda": [{"title": "Reports"}]}


def new_proposal(world: World, case: Case, _: Person | None) -> dict[str, Any]:
    return proposal_body(world.domain[case.where], (datetime.now(UTC) + timedelta(days=30)).isoformat())


def new_selection(world: World, _: Case, __: Person | None) -> dict[str, Any]:
    term = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()
    return {"role": world.unique("Keeper "), "term_ends_on": term, "mode": "live"}


def here(world: World, _: Case, __: Person | None) -> dict[str, Any]:
    """A meeting's "I'm here", of its own each time."""
    return {"type": "present", "client_id": world.unique("present-")}


def settings_form(world: World, case: Case, _: Person | None) -> dict[str, Any]:
    """The settings as they are: the private circle stays private."""
    return {"name": world.circle_name[case.where], "private": "1" if case.where == "private" else ""}


# The body each route is sent with (JSON for /api/, a form otherwise); none: an empty body.
BODIES: dict[str, Callable[[World, Case, Person | None], dict[str, Any]]] = {
    "POST /api/accounts": new_account,
    "POST /api/sessions": sign_in_body,
    "POST /sign-up": new_account,
    "POST /sign-in": sign_in_body,
    "POST /account/tokens": lambda *_: {"label": "matrix"},
    "DELETE /api/accounts/me": lambda *_: {"password": "not the password"},
    "POST /account/delete": lambda *_: {"password": "not the password"},
    "POST /api/circles": named("Elsewhere "),
    "PATCH /api/circles/{circle_id:uuid}": lambda *_: {"aim": "Feed everyone"},
    "POST /api/circles/{circle_id:uuid}/domains": named("Tools "),
    "POST /api/circles/{circle_id:uuid}/members": new_email,
    "POST /circles": named("Elsewhere "),
    "POST /circles/{circle_id:uuid}/settings": settings_form,
    "POST /circles/{circle_id:uuid}/domains": named("Tools "),
    "POST /circles/{circle_id:uuid}/members": new_email,
    "POST /circles/{circle_id:uuid}/sub-circles": named("Sub "),
    "POST /api/circles/{circle_id:uuid}/proposals": new_proposal,
    "POST /circles/{circle_id:uuid}/proposals": new_proposal,
    "POST /api/proposals/{proposal_id:uuid}/actions": question,
    "POST /api/circles/{circle_id:uuid}/meetings": new_meeting,
    "POST /api/circles/{circle_id:uuid}/selections": new_selection,
    "POST /circles/{circle_id:uuid}/selections": new_selection,
    "POST /proposals/{proposal_id:uuid}/actions": question,
    "PATCH /api/decisions/{decision_id:uuid}": lambda *_: {"agreement": True},
    "POST /decisions/{decision_id:uuid}/agreement": lambda *_: {"agreement": "1"},
    "POST /api/decisions/{decision_id:uuid}/reviews": lambda *_: {"outcome": "reaffirm"},
    "POST /decisions/{decision_id:uuid}/reviews": lambda *_: {"outcome": "reaffirm"},
    "PATCH /api/accounts/me/preferences": lambda *_: {"mail": {"review_due": "digest"}},
    "POST /notifications/choices": lambda *_: {"review_due": "digest"},
    "PATCH /api/accounts/me": same_name,
    "POST /account/name": same_name,
    "POST /api/accounts/me/password": wrong_password,
    "POST /account/password": wrong_password,
    "POST /api/password-resets": lambda *_: {"email": "nobody@example.org"},
    "POST /password-reset": lambda *_: {"email": "nobody@example.org"},
    "POST /password-reset/{token:str}": lambda *_: {"password": "a new password"},
    "POST /account/email": new_email,
    "POST /account/choices": lambda *_: {"language": "", "time_zone": ""},
    "POST /circles/{circle_id:uuid}/meetings": lambda *_: {
        "starts_at": (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    },
    "POST /api/meetings/{meeting_id:uuid}/actions": here,
    "POST /meetings/{meeting_id:uuid}/actions": here,
    "POST /api/action-items/{item_id:uuid}/done": lambda *_: {"note": "Asked."},
    "POST /action-items/{item_id:uuid}/done": lambda *_: {"note": "Asked."},
}


def route_keys(app: Litestar) -> set[str]:
    """Every "METHOD path" the application serves (OPTIONS aside: checked for all at once)."""
    keys = set()
    for route in app.routes:
        if isinstance(route, WebSocketRoute):
            keys.add(f"WS {route.path}")
        elif isinstance(route, HTTPRoute):
            keys |= {f"{method} {route.path}" for method in route.methods if method != "OPTIONS"}
    return keys


def http_paths(app: Litestar) -> list[str]:
    return [route.path for route in app.routes if isinstance(route, HTTPRoute)]


@pytest.fixture(scope="module")
def app(module_server: Server) -> Litestar:
    """The application's route table (not served: the module's server answers)."""
    data_dir = module_server.log.parent
    return create_app(
        Settings(data_dir=data_dir, database_url=module_server.env["CONSENT_DATABASE_URL"], secret_key="x")
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(module_server: Server, module_http: httpx.AsyncClient) -> World:
    built = World(module_http, module_server.url)
    await built.build()
    return built


def test_every_route_has_a_row(app: Litestar) -> None:
    routes = route_keys(app)
    missing = sorted(routes - MATRIX.keys())
    assert not missing, (
        "Routes without a row in the authorization matrix: add what each kind of person gets to MATRIX in "
        f"tests/security/test_authorization_matrix.py for {missing}"
    )
    gone = sorted(MATRIX.keys() - routes)
    assert not gone, f"MATRIX has rows for routes the application no longer serves: remove {gone}"


@in_module_loop
@pytest.mark.parametrize("key", list(MATRIX))
async def test_who_may_do_what(world: World, key: str) -> None:
    wrong = []
    for case, kind in itertools.product(MATRIX[key], KINDS):
        expected = case.expect[kind]
        got = await world.ask(key, case, kind)
        if got != expected:
            wrong.append(f"{kind} on the {case.where}'s: expected {expected}, got {got}")
    assert not wrong, f"{key}: " + "; ".join(wrong)


@in_module_loop
async def test_options_is_answered_alike_for_everyone(world: World, app: Litestar) -> None:
    """What a browser's preflight asks: never an error, and nothing about what exists; only
    whether a sign-in is needed."""
    wrong = []
    for path, kind in itertools.product(http_paths(app), KINDS):
        got = await world.ask(f"OPTIONS {path}", Case({}), kind)
        if got not in ({204, 401} if kind == "anonymous" else {204}):
            wrong.append(f"OPTIONS {path} for {kind}: {got}")
    assert not wrong, "; ".join(wrong)
