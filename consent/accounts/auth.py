"""Who is asking: browser sessions (fresh id at sign-in, each a row its owner can end), bearer
tokens, CSRF and guards."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, cast

from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection, WebSocket
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.params import Dependency
from litestar.stores.base import Store
from litestar.types import ASGIApp, Empty, HTTPScope, Receive, Scope, Send
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from consent.accounts import rules
from consent.accounts.models import BrowserSession
from consent.accounts.services import (
    Viewer,
    forget_session,
    forget_sessions,
    record_session,
    signed_in,
    viewer_for_token,
    viewer_of,
)
from consent.base.clock import Clock
from consent.base.i18n import gettext as _
from consent.base.tokens import hash_token
from consent.base.web import RequestSessions

SESSION_ACCOUNT_KEY = "account_id"
_ROTATE = "consent.rotate_session_id"


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class AccountAuthMiddleware(AbstractAuthenticationMiddleware):
    """Resolves a Viewer from a bearer token or the session cookie; anonymous is allowed here
    and refused by the `requires_account` guard where it matters. It looks the viewer up in
    the request's own database session, which the handler then shares."""

    def __init__(
        self, app: ASGIApp, db_session: RequestSessions, session_key: str, clock: Clock, **options: Any
    ) -> None:
        super().__init__(app, **options)
        self.request_session = db_session  # it ends and closes the request's session
        self.session_key, self.clock = session_key, clock

    def db_session(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AsyncSession:
        """The request's own database session."""
        return self.request_session(connection.scope)

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        viewer: Viewer | None = None
        token = bearer_token(connection)
        if token is not None:
            viewer = await viewer_for_token(self.db_session(connection), token)
            if viewer is None:
                raise NotAuthorizedException(_("The bearer token is not valid; it may have been revoked."))
        else:
            viewer = await self.session_viewer(connection)
        return AuthenticationResult(user=viewer, auth=token)

    async def session_viewer(self, connection: ASGIConnection[Any, Any, Any, Any]) -> Viewer | None:
        session_id = connection.cookies.get(self.session_key)
        session = connection.scope.get("session")
        account_id = session.get(SESSION_ACCOUNT_KEY) if isinstance(session, dict) else None
        if not (session_id and account_id):
            return None
        db = self.db_session(connection)
        found = await signed_in(db, hash_token(session_id), account_id)
        if found is None:
            return None
        account, row = found
        now = self.clock()
        if now - row.last_seen_at > rules.SEEN_EVERY:
            await self.seen(connection, db, row.id, now)
        return viewer_of(account)

    async def seen(
        self, connection: ASGIConnection[Any, Any, Any, Any], db: AsyncSession, row_id: uuid.UUID, now: datetime
    ) -> None:
        """Notes when a session was last used, every few minutes: in the transaction of a request
        that writes; for one that reads (on a connection that may not write), in a short one of
        its own, on the writing connection its request does not hold."""
        touch = update(BrowserSession).where(BrowserSession.id == row_id).values(last_seen_at=now)
        if connection.scope.get("method") not in RequestSessions.READING:
            await db.execute(touch)
            return
        async with self.request_session.sessions.begin() as writing:
            await writing.execute(touch)


async def identify_socket(
    sessions: Callable[[], AsyncSession], session_key: str, socket: WebSocket[Any, Any, Any], token: str | None
) -> Viewer | None:
    """Who opened a meeting socket: the token in its hello (for clients without the cookie),
    else the browser's session. Its own short database session: a socket lives for hours."""
    async with sessions() as db:
        if token:
            return await viewer_for_token(db, token)
        session_id = socket.cookies.get(session_key)
        session = socket.scope.get("session")
        account_id = session.get(SESSION_ACCOUNT_KEY) if isinstance(session, dict) else None
        found = await signed_in(db, hash_token(session_id), account_id) if session_id and account_id else None
        return viewer_of(found[0]) if found else None


def requires_account(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    if connection.user is None:
        raise NotAuthorizedException(_("Sign in first."))


class TokenAwareCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF protection for browsers. Let through: scripts with a bearer token, and
    API calls with no session cookie, since a forger has no session to ride on (the sign-in
    guard then answers 401); the JSON sign-up, sign-in and password reset calls, which need no
    session and accept only application/json (a cross-site form cannot send it)."""

    UNPROTECTED = {("POST", "/api/accounts"), ("POST", "/api/sessions"), ("POST", "/api/password-resets")}

    def __init__(self, app: ASGIApp, config: CSRFConfig, session_key: str) -> None:
        super().__init__(app, config)
        self.session_key = session_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
            no_session = scope["path"].startswith("/api/") and self.session_key not in connection.cookies
            if (
                bearer_token(connection)
                or no_session
                or (cast("HTTPScope", scope)["method"], scope["path"]) in self.UNPROTECTED
            ):
                await self.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


class RotatingSessionBackend(ServerSideSessionBackend):
    """Gives the session the new id chosen at sign-in, so that an id planted before sign-in is
    worthless after it (session fixation). The store knows each session by a hash of its id,
    the cookie: the account's list of sessions (holding the same hashes) can end one, and a
    copy of the store signs nobody in."""

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        rotated = connection.scope.setdefault("state", {}).get(_ROTATE)
        return rotated if isinstance(rotated, str) else super().get_session_id(connection)

    async def get(self, session_id: str, store: Store) -> bytes | None:
        return await super().get(hash_token(session_id), store)

    async def set(self, session_id: str, data: bytes, store: Store) -> None:
        await super().set(hash_token(session_id), data, store)

    async def delete(self, session_id: str, store: Store) -> None:
        await super().delete(hash_token(session_id), store)

    async def store_in_message(
        self, scope_session: Any, message: Any, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        if scope_session and scope_session is not Empty:  # clear_session() leaves Empty
            await super().store_in_message(scope_session, message, connection)
        elif connection.cookies.get(self.config.key):  # signed out: the session and its cookie go
            await self.delete(self.get_session_id(connection), store=self.config.get_store_from_app(connection.app))
            # Litestar's own sets "null" with the session's Max-Age, which outlives Expires
            gone = Cookie(
                key=self.config.key, value="", max_age=0, expires=0, path=self.config.path, secure=self.config.secure
            )
            MutableScopeHeaders.from_message(message).add("Set-Cookie", gone.to_header(header=""))
        # an anonymous visitor: nothing to remember, no session file, no cookie


class SessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


# As handlers are given it: a config is not input, so Litestar need not validate it.
InjectedSessionConfig = Annotated[SessionConfig, Dependency(skip_validation=True)]


async def start_session(
    connection: ASGIConnection[Any, Any, Any, Any],
    config: SessionConfig,
    viewer: Viewer,
    db: AsyncSession,
    now: datetime,
) -> None:
    """Signs `viewer` in on this browser with a fresh session id, listed among the account's
    sessions; the old session is deleted."""
    old = this_session(connection, config)
    if old is not None:
        await forget_session(db, old)
        await end_sessions(connection, config, [old])
    session_id = secrets.token_hex(config.session_id_bytes)
    connection.scope.setdefault("state", {})[_ROTATE] = session_id
    label = rules.browser_label(connection.headers.get("user-agent", ""))
    await record_session(db, viewer.id, hash_token(session_id), label, now)
    connection.set_session({SESSION_ACCOUNT_KEY: str(viewer.id)})


def this_session(connection: ASGIConnection[Any, Any, Any, Any], config: SessionConfig) -> str | None:
    """The hash of this browser's session id, as the account's sessions list it."""
    session_id = connection.cookies.get(config.key)
    return hash_token(session_id) if session_id else None


async def end_session(connection: ASGIConnection[Any, Any, Any, Any], config: SessionConfig, db: AsyncSession) -> None:
    """Signs this browser out: its row goes now, its stored session and cookie with the answer."""
    mine = this_session(connection, config)
    if mine is not None:
        await forget_session(db, mine)
    connection.clear_session()


async def end_sessions(
    connection: ASGIConnection[Any, Any, Any, Any], config: SessionConfig, hashes: list[str]
) -> None:
    """Deletes sessions from the store by the hashes of their ids (their rows are gone): their
    cookies no longer sign anyone in."""
    store = config.get_store_from_app(connection.app)
    for session_hash in hashes:
        await store.delete(session_hash)


async def sign_out_others(
    connection: ASGIConnection[Any, Any, Any, Any], config: SessionConfig, db: AsyncSession, account_id: uuid.UUID
) -> None:
    """Signs every browser of the account out but this one (none, when a script asks): after
    a new password, whoever knew the old one is out."""
    await end_sessions(
        connection, config, await forget_sessions(db, account_id, keeping=this_session(connection, config))
    )


async def sign_out_one(
    connection: ASGIConnection[Any, Any, Any, Any],
    config: SessionConfig,
    db: AsyncSession,
    account_id: uuid.UUID,
    session_id: uuid.UUID,
) -> list[str]:
    """Signs one of the account's browsers out, by its id in the list; its hash, or none if
    the account has no such session."""
    hashes = await forget_sessions(db, account_id, only=session_id)
    await end_sessions(connection, config, hashes)
    if this_session(connection, config) in hashes:
        connection.clear_session()  # this browser: its cookie goes too
    return hashes
