"""Who is asking: browser sessions (fresh id at sign-in), bearer tokens, CSRF and guards."""

from __future__ import annotations

from collections.abc import Callable
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
from litestar.types import ASGIApp, Empty, HTTPScope, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

from consent.accounts.services import Viewer, viewer_for_account_id, viewer_for_token
from consent.base.i18n import gettext as _

SESSION_ACCOUNT_KEY = "account_id"
_ROTATE = "consent.rotate_session_id"


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class AccountAuthMiddleware(AbstractAuthenticationMiddleware):
    """Resolves a Viewer from a bearer token or the session cookie; anonymous is allowed here
    and refused by the `requires_account` guard where it matters. It looks the viewer up in
    the request's own database session, which the handler then shares."""

    def __init__(self, app: ASGIApp, db_session: Callable[[Scope], AsyncSession], **options: Any) -> None:
        super().__init__(app, **options)
        self.request_session = db_session  # consent.base.web.RequestSessions: it ends and closes it

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
            session = connection.scope.get("session")
            account_id = session.get(SESSION_ACCOUNT_KEY) if isinstance(session, dict) else None
            if account_id:
                viewer = await viewer_for_account_id(self.db_session(connection), account_id)
        return AuthenticationResult(user=viewer, auth=token)


async def identify_socket(
    sessions: Callable[[], AsyncSession], socket: WebSocket[Any, Any, Any], token: str | None
) -> Viewer | None:
    """Who opened a meeting socket: the token in its hello (for clients without the cookie),
    else the browser's session. Its own short database session: a socket lives for hours."""
    async with sessions() as db:
        if token:
            return await viewer_for_token(db, token)
        session = socket.scope.get("session")
        account_id = session.get(SESSION_ACCOUNT_KEY) if isinstance(session, dict) else None
        return await viewer_for_account_id(db, account_id) if account_id else None


def requires_account(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    if connection.user is None:
        raise NotAuthorizedException(_("Sign in first."))


class TokenAwareCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF protection for browsers. Let through: scripts with a bearer token, and
    API calls with no session cookie, since a forger has no session to ride on (the sign-in
    guard then answers 401); the JSON sign-up and sign-in calls, which carry no session yet
    and accept only application/json (a cross-site form cannot send it)."""

    UNPROTECTED = {("POST", "/api/accounts"), ("POST", "/api/sessions")}

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
    """Gives the session a new id when asked (at sign-in), so that an id planted before
    sign-in is worthless after it (session fixation)."""

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        state = connection.scope.setdefault("state", {})
        if state.get(_ROTATE) is True:
            state[_ROTATE] = self.generate_session_id()
        if isinstance(state.get(_ROTATE), str):
            return state[_ROTATE]
        return super().get_session_id(connection)

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


async def start_session(connection: ASGIConnection[Any, Any, Any, Any], config: SessionConfig, viewer: Viewer) -> None:
    """Signs `viewer` in on this browser with a fresh session id; the old session is deleted."""
    old_id = connection.cookies.get(config.key)
    if old_id:
        await config.get_store_from_app(connection.app).delete(old_id)
    connection.scope.setdefault("state", {})[_ROTATE] = True
    connection.set_session({SESSION_ACCOUNT_KEY: str(viewer.id)})


def end_session(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    connection.clear_session()
