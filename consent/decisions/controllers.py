"""The decision API of API.md, the exports (CSV, JSON, Markdown minutes) and the calendar feed,
which calendar apps fetch with the secret in the link since they send no cookie."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec
from litestar import Controller, MediaType, Request, Response, delete, get, patch, post
from litestar.exceptions import NotAuthorizedException
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from consent.accounts.models import Account
from consent.base import i18n
from consent.base.clock import Clock, today
from consent.base.errors import Refusal, error_responses
from consent.base.i18n import gettext as _
from consent.decisions import rules, services
from consent.decisions.schemas import DecisionChange, DecisionOut, DecisionPage, FeedLink, ReviewOpened, parse_review


def filters_of(request: Request[Any, Any, Any]) -> rules.Filters:
    return rules.parse_filters(request.query_params.dict())


def feed_link(site: str, token: str, filters: rules.Filters) -> str:
    """The calendar link of a search: the secret, then the filters. Links start with the
    configured base URL (`site`), never with the request's Host, which the client chooses."""
    return f"{site}/decisions.ics?{urlencode([('feed', token), *filters.params()])}"


def _download(content: str, media_type: str, filename: str) -> Response[str]:
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


class DecisionApi(Controller):
    path = "/api/decisions"
    tags = ["decisions"]

    @get("/", responses=error_responses(401, 404, 422))
    async def index(self, request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock) -> DecisionPage:
        """The log, newest first. Query: circle_id, subcircles, domain_id, q, status (repeatable),
        review_after, review_before, limit, cursor (see docs/decision-log.md)."""
        found = await services.search(db_session, request.user.id, filters_of(request), today(clock))
        items = await services.describe_many(db_session, found.decisions, found.visible, today(clock))
        return msgspec.convert({"items": items, "next_cursor": found.next_cursor}, DecisionPage)

    @get("/{decision_id:uuid}", responses=error_responses(400, 401, 404))
    async def read(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock, decision_id: uuid.UUID
    ) -> DecisionOut:
        decision = await services.visible_decision(db_session, decision_id, request.user.id)
        return msgspec.convert(
            await services.describe(db_session, decision, request.user.id, today(clock)), DecisionOut
        )

    @patch("/{decision_id:uuid}", responses=error_responses(400, 401, 403, 404))
    async def change(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        clock: Clock,
        decision_id: uuid.UUID,
        data: DecisionChange,
    ) -> DecisionOut:
        """Mark a decision as a standing agreement of its circle, or unmark it (its stewards)."""
        decision = await services.set_agreement(db_session, request.user.id, decision_id, data.agreement, today(clock))
        return msgspec.convert(
            await services.describe(db_session, decision, request.user.id, today(clock)), DecisionOut
        )

    @post(
        "/{decision_id:uuid}/reviews",
        status_code=HTTP_201_CREATED,
        responses=error_responses(400, 401, 403, 404, 409, 422),
    )
    async def review(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        clock: Clock,
        decision_id: uuid.UUID,
        data: dict[str, Any],
    ) -> ReviewOpened:
        """Open a review of a decision: {outcome: reaffirm|retire|amend, review_by?, text?,
        assessments?: [{criterion, assessment}]}, and for its proposal driver?, title?,
        criteria? (amend), mode? (live) and closes_at?. It runs as a proposal of kind "review",
        and changes the decision only when the circle consents to it."""
        opened = await services.review(db_session, request.user.id, decision_id, parse_review(data).opening(), clock())
        return ReviewOpened(review_id=str(opened.id), proposal_id=str(opened.proposal_id))

    @post("/feed", status_code=HTTP_201_CREATED, responses=error_responses(401, 403))
    async def new_feed(self, request: Request[Any, Any, Any], db_session: AsyncSession, site: str) -> FeedLink:
        """A new secret calendar link of review dates (the previous one stops working)."""
        token = await services.new_feed(db_session, request.user.id)
        return FeedLink(token=token, url=feed_link(site, token, rules.Filters()))

    @delete("/feed", status_code=HTTP_204_NO_CONTENT, responses=error_responses(401, 403))
    async def revoke_feed(self, request: Request[Any, Any, Any], db_session: AsyncSession) -> None:
        await services.revoke_feed(db_session, request.user.id)


class DecisionExports(Controller):
    include_in_schema = False

    @get("/decisions.csv")
    async def csv(self, request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock) -> Response[str]:
        decisions = await services.export(db_session, request.user.id, filters_of(request), today(clock))
        return _download("".join(rules.render_csv(decisions)), "text/csv", "decisions.csv")

    @get("/decisions.json")
    async def json(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock
    ) -> Response[dict[str, Any]]:
        decisions = await services.export(db_session, request.user.id, filters_of(request), today(clock))
        return Response(
            {"items": decisions},
            media_type=MediaType.JSON,
            headers={"Content-Disposition": 'attachment; filename="decisions.json"'},
        )

    @get("/decisions/{decision_id:uuid}/minutes.md")
    async def minutes(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        clock: Clock,
        site: str,
        decision_id: uuid.UUID,
    ) -> Response[str]:
        decision = await services.visible_decision(db_session, decision_id, request.user.id)
        described = await services.describe(db_session, decision, request.user.id, today(clock))
        return _download(
            rules.render_markdown(described, site),
            "text/markdown",
            f"decision-{decision_id}.md",
        )


@get("/decisions.ics", include_in_schema=False)
async def calendar(
    request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock, site: str, feed: str | None = None
) -> Response[str]:
    """The review dates as iCalendar: with ?feed=<secret> for calendar apps, or signed in."""
    if feed:
        account_id = await services.feed_account(db_session, feed)
        if account_id is None:
            raise Refusal("not_found", _("This calendar link is not valid; it may have been revoked."), 404)
    elif request.user is not None:
        account_id = request.user.id
    else:
        raise NotAuthorizedException(_("Sign in, or use your secret calendar link."))
    filters = filters_of(request)
    decisions = await services.export(db_session, account_id, filters, today(clock))
    deadlines = await services.deadlines(db_session, account_id, filters.circle_id)
    meetings = await services.meetings(db_session, account_id, filters.circle_id, clock())
    # in the feed owner's language: a calendar app sends no cookie, and seldom the owner's Accept-Language
    owner = await db_session.get(Account, account_id)
    with i18n.using((owner.language if owner else None) or i18n.current()):
        ics = rules.render_ics(decisions, site, clock(), urlsplit(site).hostname or "consent", deadlines, meetings)
    return Response(ics, media_type="text/calendar")
