"""The application factory: wires settings, storage, sessions, CSRF, templates and routes."""

from __future__ import annotations

import gc
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
from litestar import Litestar, Router, get
from litestar.channels import ChannelsPlugin
from litestar.config.app import AppConfig
from litestar.config.csrf import CSRFConfig
from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins import InitPluginProtocol
from litestar.plugins.flash import FlashConfig, FlashPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.memory import MemoryStore
from litestar.template import TemplateConfig
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import templates as templates_package
from circles.controllers import CircleApi, InvitationApi
from circles.pages import CirclePages, InvitationPages, MyInvitationPages
from circles.services import Invited, circles_of, invitation_link
from consent.accounts.auth import (
    AccountAuthMiddleware,
    SessionConfig,
    TokenAwareCSRFMiddleware,
    identify_socket,
    requires_account,
)
from consent.accounts.controllers import AccountApi, AccountPages
from consent.accounts.limits import SignInLimits
from consent.accounts.mails import AccountMail
from consent.accounts.pages import AccountSettingsPages, EmailChangePages, PasswordResetPages
from consent.base import db, i18n, labels, outbox, pubsub, times
from consent.base.clock import Clock, system_clock
from consent.base.errors import handle_exception
from consent.base.openapi import ClosedStructs
from consent.base.settings import Settings
from consent.base.web import LanguageMiddleware, Page, RequestSessions, provide, security_headers
from consent.decisions.controllers import DecisionApi, DecisionExports, calendar
from consent.decisions.pages import DecisionPages, agreements_section, reviews_section
from consent.home import home, waiting_api, waiting_count
from consent.notifications import services as notifications
from consent.notifications.controllers import NotificationApi
from consent.notifications.mail_in import Listener, Replies
from consent.notifications.mails import Postman
from consent.notifications.pages import NotificationPages, UnsubscribePages
from consent.notifications.worker import Notifier
from consent.privacy.controllers import PrivacyApi, erase_account
from consent.privacy.pages import PrivacyPages
from rounds import live
from rounds import services as rounds_services
from rounds.controllers import ActionItemApi, ProposalApi
from rounds.meetings.controllers import MeetingApi
from rounds.meetings.minutes_pages import MinutesPages
from rounds.meetings.pages import MeetingPages, meetings_section
from rounds.meetings.sockets import meeting_room_socket
from rounds.meetings.views import MeetingViews
from rounds.meetings.writer import MeetingWriter
from rounds.page_updates import PageUpdates
from rounds.pages import ProposalPages, action_items_section, open_proposals_section
from rounds.presence import SharedPresence
from rounds.scheduler import DeadlineScheduler
from rounds.sockets import Welcomes, meeting_socket
from rounds.writer import ActionWriter

log = logging.getLogger("consent")

MAIL_SECONDS = 2.0  # how often the sender looks for mail queued by requests (invitations) and retries
STATIC_DIR = Path(__file__).parent / "static"
TEMPLATE_DIR = Path(templates_package.__file__).parent


class InnerLifespan(InitPluginProtocol):
    """A lifespan inside those of the plugins listed before it: entered after them, left before
    them (Litestar runs on_shutdown hooks only after every plugin has stopped)."""

    def __init__(self, manager: Callable[[Litestar], AbstractAsyncContextManager[None]]) -> None:
        self.manager = manager

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.lifespan.append(self.manager)
        return app_config


@get("/favicon.ico", include_in_schema=False)
async def favicon() -> Redirect:
    """Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says."""
    return Redirect("/static/favicon.svg", status_code=301)


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> Litestar:
    """`clock` gives the current time to everything with a deadline, so tests can move it."""
    settings = settings or Settings.from_env()
    engine = db.create_engine(settings.database_url)
    reader = db.create_reader(settings.database_url, engine)
    session_config = SessionConfig(secure=settings.secure_cookies, samesite="lax", renew_on_access=True)
    csrf_config = CSRFConfig(
        secret=settings.secret_key,
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
        exclude=["^/unsubscribe/"],  # a mail program's one-click POST: the signed link is its proof
    )
    templates = JinjaTemplateEngine(directory=TEMPLATE_DIR)
    templates.engine.globals.update(labels=labels, **times.GLOBALS)
    templates.engine.filters.update(times.FILTERS)  # every time shown, in the viewer's zone
    i18n.install(templates.engine)
    i18n.check_catalogs()  # a page half in English: refused at start, not found by a reader
    template_config = TemplateConfig(instance=templates)

    async def migrate() -> None:
        # Alembic drives its own event loop, so it runs in a worker thread before we serve.
        await anyio.to_thread.run_sync(db.upgrade, settings.database_url)

    async def freeze() -> None:
        # What start-up made (modules, routes, templates) lives as long as the server: out of
        # the collector's sight, a full collection during a meeting is a short pause, not a
        # long one (the p99 of docs/performance.md's fan-out: 352 ms before, 146 ms after).
        gc.collect()
        gc.freeze()

    @asynccontextmanager
    async def serving(_: Litestar) -> AsyncIterator[None]:
        """The server's own work: the database migrated, then the publisher, the deadlines, the
        writer, presence, notifications, mail and replies to mail, stopped in reverse, queued
        actions written and published, while the channels are still up."""
        await migrate()
        if settings.smtp_url is None:
            log.warning("no CONSENT_SMTP_URL: mail is written to files in %s, not sent", settings.mail_dir)
        for starting in (updates, deadlines, writer, meetings, presence, notifier, sender):
            await starting.start()
        if mail_in is not None:
            await mail_in.start()
        try:
            yield
        finally:
            if mail_in is not None:
                await mail_in.stop()
            for stopping in (sender, notifier, presence, meetings, writer, deadlines, updates):
                await stopping.stop()
            await engine.dispose()
            await reader.dispose()
            if redis is not None:
                await redis.aclose()

    sessions = async_sessionmaker(engine, expire_on_commit=False)
    readers = async_sessionmaker(reader, expire_on_commit=False)
    request_sessions = RequestSessions(sessions, readers)
    # Each process fans each proposal's events out to its own sockets; with Redis, the events
    # of every process (consent.base.pubsub).
    channels = ChannelsPlugin(
        backend=pubsub.backend(settings.redis_url),
        arbitrary_channels_allowed=True,
        subscriber_max_backlog=settings.socket_backlog,
        subscriber_class=live.SocketQueue,
    )
    # after commit, to this process's sockets, with what they change on the live page
    updates = PageUpdates(readers, templates.engine, channels, clock)
    # Mail: the notifier makes notifications from committed events, the sender sends the outbox.
    postman = Postman(templates.engine, settings.site, settings.mail_from, settings.secret_key)
    transport = outbox.files(settings.mail_dir) if settings.smtp_url is None else outbox.smtp(settings.smtp_url)
    sender = outbox.MailSender(engine, reader, transport, settings.mail_from, clock, MAIL_SECONDS)
    notifier = Notifier(
        readers, sessions, postman, clock, settings.tick_seconds, settings.digest_hour, made=sender.wake
    )

    async def publish(
        proposal_id: uuid.UUID, events: list[dict[str, Any]], after: rounds_services.After | None
    ) -> None:
        await updates.publish(proposal_id, events, after)
        notifier.wake()  # committed: their notifications can be made

    def committed(proposal_id: uuid.UUID, events: list[dict[str, Any]]) -> None:
        updates.committed(proposal_id, events)
        notifier.wake()

    async def send_invitation(db_session: AsyncSession, invited: Invited, circle: str, inviter: str) -> str:
        link = invitation_link(settings.site, invited.token)
        now = clock()
        await notifications.mail_invitation(
            db_session, postman, now, invited.invitation.id, invited.invitation.email, circle, inviter, link
        )
        return link

    # circles.services.Departure: someone leaving a circle also leaves its open proposals.
    member_left = partial(rounds_services.member_left, committed=committed)
    deadlines = DeadlineScheduler(sessions, clock, settings.tick_seconds, committed=committed)
    writer = ActionWriter(sessions, publish)
    # after it, carrying actions into proposals; each action's update of the meeting's pages
    meetings = MeetingWriter(sessions, channels, writer, MeetingViews(readers, templates.engine, clock))
    # Replies to mails, with this server's writer: in the embedded default, the only one whose
    # actions reach the live pages (docs/email.md).
    mail_in_address = settings.mail_in_address
    mail_in = (
        None
        if mail_in_address is None
        else Listener(Replies(readers, sessions, writer.submit, postman, clock, sender.wake), *mail_in_address)
    )
    # One process keeps who is in each meeting, and the sign-ins in files; several (on one
    # machine or more) keep both in Redis (docs/deploy.md).
    redis = None if settings.redis_url is None else pubsub.redis_client(settings.redis_url)
    presence = live.Presence() if redis is None else SharedPresence(redis, settings.heartbeat_seconds)
    session_store: Store = FileStore(settings.data_dir / "sessions", create_directories=True)
    limit_store: Store = MemoryStore()  # counts of sign-ups and failed sign-ins (consent.accounts.limits)
    if redis is not None:
        from litestar.stores.redis import RedisStore  # needs redis-py, installed only for this

        session_store = RedisStore(redis, namespace="consent:sessions")
        limit_store = RedisStore(redis, namespace="consent:limits")
    limits = SignInLimits(
        limit_store,
        settings.sign_ups_per_address,
        settings.sign_in_failures_per_account,
        settings.sign_in_failures_per_address,
    )

    return Litestar(
        route_handlers=[
            home,
            AccountApi,
            AccountPages,
            AccountSettingsPages,
            EmailChangePages,  # from a mail: the signed link says whose
            PasswordResetPages,
            PrivacyApi,
            PrivacyPages,
            InvitationPages,
            UnsubscribePages,  # from a mail: the signed link says whose
            calendar,  # calendar apps send no cookie: it checks the secret feed link itself
            # Everything about circles is for signed-in people only.
            Router(
                path="/",
                route_handlers=[
                    CircleApi,
                    CirclePages,
                    InvitationApi,
                    MyInvitationPages,
                    ProposalApi,
                    MeetingApi,
                    MeetingPages,
                    MinutesPages,
                    ActionItemApi,
                    ProposalPages,
                    DecisionApi,
                    DecisionExports,
                    DecisionPages,
                    NotificationApi,
                    NotificationPages,
                    waiting_api,
                ],
                guards=[requires_account],
            ),
            # The socket says who it is in its hello (cookie or token): it checks for itself.
            meeting_socket,
            meeting_room_socket,
            create_static_files_router(path="/static", directories=[STATIC_DIR], include_in_schema=False),
            favicon,
        ],
        # What handlers are given, by name: one clock, one writer, one presence per process.
        dependencies={
            "db_session": request_sessions.provide(),
            "clock": provide(clock),
            "writer": provide(writer),
            "meetings": provide(meetings),
            "sessions": provide(readers),  # the meeting socket's: it acts through the writer
            "presence": provide(presence),
            "welcomes": provide(Welcomes()),
            "session_config": provide(session_config),
            "limits": provide(limits),
            "identify": provide(partial(identify_socket, readers, session_config.key)),
            "page": provide(
                Page(
                    circles_of,
                    clock,
                    circle_sections=[
                        open_proposals_section,
                        meetings_section(clock),
                        action_items_section(clock),
                        reviews_section(clock),
                    ],
                    invitation_sections=[agreements_section],
                    waiting_count=waiting_count,
                )
            ),
            "member_left": provide(member_left),
            "send_invitation": provide(send_invitation),
            "postman": provide(postman),
            "account_mail": provide(
                AccountMail(templates.engine, settings.site, settings.mail_from, settings.secret_key)
            ),
            "site": provide(settings.site),
            # consent.accounts.controllers.EraseAccount; mail written to files (no mail server)
            # is the mailboxes this server keeps, which erasure clears too.
            "erase_account": provide(
                partial(
                    erase_account,
                    clock=clock,
                    session_config=session_config,
                    member_left=member_left,
                    mail_files=settings.mail_dir if settings.smtp_url is None else None,
                )
            ),
        },
        on_startup=[freeze],
        before_send=[request_sessions.before_send, security_headers],
        plugins=[
            FlashPlugin(config=FlashConfig(template_config=template_config)),
            channels,
            InnerLifespan(serving),
            ClosedStructs(),
        ],
        middleware=[
            session_config.middleware,
            DefineMiddleware(TokenAwareCSRFMiddleware, config=csrf_config, session_key=session_config.key),
            # Not for sockets: a meeting lasts hours, and would hold the request's database session.
            DefineMiddleware(
                AccountAuthMiddleware,
                db_session=request_sessions,
                session_key=session_config.key,
                clock=clock,
                exclude=["^/static/", "^/favicon.ico$", "^/schema"],
                exclude_http_methods=(),  # OPTIONS too: its guard asks who it is (it was a 500)
                scopes={ScopeType.HTTP},
            ),
            LanguageMiddleware,  # after who is asking is known: their account's language
        ],
        stores={"sessions": session_store},
        template_config=template_config,
        exception_handlers={Exception: handle_exception},
        openapi_config=OpenAPIConfig(title="consent", version="0.1.0", path="/schema"),
        logging_config=None,
    )


def worker_app() -> Litestar:
    """The app of one of `consent serve --workers N`'s processes, which uvicorn starts, each
    reading the settings from the environment."""
    configure_logging()
    return create_app()


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
