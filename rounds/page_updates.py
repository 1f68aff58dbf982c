"""The live proposal page, updated from the events themselves (docs/live-meetings.md).

After each commit, what its events change on the page is rendered once, here, from the same
macros the page is rendered with (templates/rounds/parts.html), and sent as `view` with the
batch's last event: every socket in the meeting gets the same bytes, and no page is rendered
per viewer. The one part that differs per viewer, "what you can do now", is fetched
(GET /proposals/{id}/now) only by those the `view` names as concerned.

Publishing goes through one queue per process, so the meeting gets its batches in the order
they were committed, whoever committed them (the writer, the deadline scheduler, a member
leaving the circle)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jinja2
from litestar.channels import ChannelsPlugin
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from circles.models import Circle
from consent.base import i18n
from consent.base.clock import Clock
from consent.base.labels import PHASE_NAMES
from consent.base.times import choose_zone
from consent.base.work import QueuedWork
from rounds import events, live, machine, services, views
from rounds.models import Proposal

log = logging.getLogger("consent.live")

Op = list[Any]  # [action, target id, html?, container?]: the meeting script applies them in order
REMEMBERED = 1000 * len(i18n.LANGUAGES)  # proposals' parts as last sent, in each language (the busiest, most recent)
Batch = tuple[uuid.UUID, list[dict[str, Any]], services.After | None, "asyncio.Future[None]"]
Events = tuple[list[dict[str, Any]], services.After | None]  # a proposal's events, and the proposal after them


@dataclass
class Shown:
    """What one batch's view shows: read in the publisher's session, rendered after it."""

    row: Proposal
    batch: list[dict[str, Any]]
    state: machine.Proposal
    p: dict[str, Any]  # its summary (services.summaries), and the names it shows
    names: dict[uuid.UUID, str]
    questions: dict[str, dict[str, Any]]  # those the batch's answers answer, by id
    whole: bool  # the list of participants is sent whole
    history: list[dict[str, Any]] | None  # changes of mode, when the batch changed it
    revisions: list[dict[str, Any]] | None  # when the batch amended the text
    zone: str  # the circle's time zone: the parts are the same for everyone, so their times are in it


class PageUpdates(QueuedWork[Batch]):
    def __init__(
        self,
        sessions: Callable[[], AsyncSession],
        templates: jinja2.Environment,
        channels: ChannelsPlugin,
        clock: Clock,
    ) -> None:
        super().__init__()
        self.sessions, self.templates, self.channels, self.clock = sessions, templates, channels, clock
        # Each proposal's parts as this process last sent them, the seq they showed and whose
        # turn it was: a part that did not change is not sent again, to every socket, with
        # every event, and whose turn it still is need not fetch their part again.
        # by proposal and language: each language's parts are compared with its own
        self.sent: OrderedDict[tuple[uuid.UUID, str], tuple[int, dict[str, str], uuid.UUID | None]] = OrderedDict()

    def publish(
        self, proposal_id: uuid.UUID, batch: list[dict[str, Any]], after: services.After | None = None
    ) -> asyncio.Future[None]:
        """Queues committed events (`after`: the proposal after them, where the caller has
        it); the future is done once they are on the proposal's channel."""
        sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if batch:
            self.queue.put_nowait((proposal_id, batch, after, sent))
        else:
            sent.set_result(None)
        return sent

    def committed(self, proposal_id: uuid.UUID, batch: list[dict[str, Any]]) -> None:
        """services.Committed: for those that publish and go on (deadlines, departures)."""
        self.publish(proposal_id, batch)

    async def work(self, items: list[Batch]) -> None:
        # Batches that waited together go out together, each proposal's with one view: when
        # the meeting is busier than rendering, the pages get fewer, larger updates.
        together: dict[uuid.UUID, list[Batch]] = {}
        for item in items:
            together.setdefault(item[0], []).append(item)
        await self.send({p: ([e for b in batches for e in b[1]], batches[-1][2]) for p, batches in together.items()})
        for batches in together.values():
            for *_, sent in batches:
                with contextlib.suppress(asyncio.InvalidStateError):
                    sent.set_result(None)

    async def send(self, together: dict[uuid.UUID, Events]) -> None:
        """Each proposal's events, the last with its view. What the views show is read in one
        session, with a few queries for all of them (a busy server has a batch for each of a
        hundred meetings); they are rendered after it, while the writer has the database."""
        rendered: dict[uuid.UUID, dict[str, dict[str, Any]]] = {}
        try:
            async with self.sessions() as db:
                shown = await self.read(db, together)
            template = self.templates.get_template("rounds/parts.html")
            modules: dict[str, Any] = {}  # its macros, for each circle's time zone
            for page in shown:
                try:
                    # in each served language; each page applies its own (static/meeting.js)
                    rendered[page.row.id] = {}
                    # (their times read the language at each call, as `_()` does)
                    if page.zone not in modules:
                        modules[page.zone] = template.make_module({"zone": choose_zone(page.zone)})
                    for language in i18n.LANGUAGES:
                        with i18n.using(language):
                            rendered[page.row.id][language] = self.view(page, modules[page.zone])
                except Exception:  # this meeting's pages load themselves again; the others' are updated
                    log.exception("rendering a live update failed")
        except Exception:  # the events still go out: without a view, pages load themselves again
            log.exception("rendering live updates failed")
        for proposal_id, (batch, _) in together.items():
            try:
                live.publish(self.channels, proposal_id, live.with_views(batch, rendered.get(proposal_id)))
            except Exception:  # committed is committed: sockets catch up from the log when they come back
                log.exception("publishing events failed")

    async def read(self, db: AsyncSession, together: dict[uuid.UUID, Events]) -> list[Shown]:
        """What each batch's view shows."""
        # The rows and states the writer had; read only for others' batches (deadlines, departures).
        after = {p: a for p, (_, a) in together.items() if a is not None}
        if missing := [p for p in together if p not in after]:
            today = self.clock().date()
            for proposal in await db.scalars(select(Proposal).where(Proposal.id.in_(missing))):
                after[proposal.id] = (proposal, await services.state_of(db, proposal, today))
        questions = await self._questions(db, together)
        circle_ids = {row.circle_id for row, _ in after.values()}
        zones = dict((await db.execute(select(Circle.id, Circle.time_zone).where(Circle.id.in_(circle_ids)))).all())
        # Only the names shown: everyone's only when the list of participants goes whole.
        wanted, types = [], {p: {e["type"] for e in batch} for p, (batch, _) in together.items()}
        whole = {p: bool(kinds & views.PARTICIPANTS_WHOLE) for p, kinds in types.items()}
        for proposal_id, (batch, _) in together.items():
            row, state = after[proposal_id]
            named = {  # those the events name: who spoke, and whom a selection's nominations name
                uuid.UUID(e["data"][key])
                for e in [*batch, *questions.get(proposal_id, {}).values()]
                for key in ("member", "candidate")
                if key in e["data"]
            }
            wanted.append((row, state, named | (state.participants if whole[proposal_id] else set())))
        shown = []
        for (row, state, _), (p, names) in zip(wanted, await services.summaries(db, wanted)):
            kinds = types[row.id]
            shown.append(
                Shown(
                    row,
                    together[row.id][0],
                    state,
                    p,
                    names,
                    questions.get(row.id, {}),
                    whole=whole[row.id],
                    history=await services.events_of(db, row.id, ("mode_changed", "deadline_passed"))
                    if kinds & {"mode_changed", "deadline_passed"}
                    else None,
                    revisions=services.revisions_json(await services.revisions_of(db, row))
                    if kinds & {"amended", "candidate_proposed"}
                    else None,
                    zone=zones.get(row.circle_id, "UTC"),
                )
            )
        return shown

    def view(self, page: Shown, parts: Any) -> dict[str, Any]:
        """What a batch changed on its proposal's page, as operations on its parts, rendered once
        for everyone (`parts`: the page's macros): `from` is the batch's first seq (a page that
        has not shown the one before loads itself again instead), `now` who should fetch their
        own part again."""
        p, batch = page.p, page.batch
        ops: list[Op] = [
            ["update", "live-badges", str(parts.badges(p, PHASE_NAMES[p["state"]]))],
            ["update", "live-turn", str(parts.turn(p))],
            ["update", "live-objections", str(parts.objections(p))],
        ]
        if p["selection"] is not None:
            ops.append(["update", "live-selection", str(parts.selection(p["selection"]))])
        if page.history is not None:
            ops.append(["update", "live-mode-history", str(parts.mode_history(views.mode_history(page.history)))])
        if page.revisions is not None:
            revisions = views.with_diffs(page.revisions)
            ops.append(["update", "live-text", str(parts.text(p, revisions))])
            ops.append(["update", "live-revisions", str(parts.revisions(revisions))])
        ops, turn_moved = self._changed((page.row.id, i18n.current()), batch, ops, page.state.whose_turn)
        ops += self._rounds(batch, page.questions, {str(m): name for m, name in page.names.items()}, parts)
        ops += self._participants(p, batch, page.whole, parts)
        return {"from": batch[0]["seq"], "ops": ops, "now": views.concerned(batch, page.state, turn_moved)}

    def _changed(
        self, key: tuple[uuid.UUID, str], batch: list[dict[str, Any]], updates: list[Op], turn: uuid.UUID | None
    ) -> tuple[list[Op], bool]:
        """The parts that differ from what this process sent with the batch just before, and
        whether the turn moved since; all of them, and moved, if another process (or nobody
        yet) sent that one."""
        seq, before, turn_before = self.sent.pop(key, (None, {}, None))
        known = seq == batch[0]["seq"] - 1
        before = before if known else {}
        changed = [op for op in updates if before.get(op[1]) != op[2]]
        self.sent[key] = (batch[-1]["seq"], before | {op[1]: op[2] for op in updates}, turn)
        if len(self.sent) > REMEMBERED:
            self.sent.popitem(last=False)
        return changed, not known or turn != turn_before

    async def _questions(
        self, db: AsyncSession, together: dict[uuid.UUID, Events]
    ) -> dict[uuid.UUID, dict[str, dict[str, Any]]]:
        """The questions the batches' answers answer, by proposal and id, in one query."""
        answered = {
            p: {e["data"]["question_id"] for e in batch if e["type"] == "question_answered"}
            for p, (batch, _) in together.items()
        }
        asked = await services.events_of_many(db, [p for p, ids in answered.items() if ids], ("question_asked",))
        return {
            p: {q["data"]["question_id"]: q for q in events if q["data"]["question_id"] in answered[p]}
            for p, events in asked.items()
        }

    def _rounds(
        self, batch: list[dict[str, Any]], questions: dict[str, dict[str, Any]], names: dict[str, str], parts: Any
    ) -> list[Op]:
        """A new round's block, and each response added to its round."""
        ops: list[Op] = []
        for event in batch:
            data = event["data"]
            # a round opens with its phase (integration goes on in the consent round's)
            if event["type"] == "phase_changed" and "round" in data and data["to"] != machine.INTEGRATING:
                block = {"number": data["round"], "phase": PHASE_NAMES[data["to"]], "items": []}
                ops.append(["prepend", "rounds-list", str(parts.round_block(block, names))])
            elif event["type"] in events.RESPONSE_TYPES:
                question = questions.get(data["question_id"]) if event["type"] == "question_answered" else None
                number = views.round_of(event, question)
                ops.append(["append", f"round-{number}-items", str(parts.round_item(event, names, question))])
        return ops

    def _participants(self, p: dict[str, Any], batch: list[dict[str, Any]], whole: bool, parts: Any) -> list[Op]:
        """The list whole when everyone's entry may have changed; otherwise only the entries of
        those the events name (a response, arriving, leaving)."""
        if whole:
            return [["update", "live-participants", str(parts.participants(p))]]
        listed = {person["id"]: person for person in p["participants"]}
        ops: list[Op] = []
        for member in dict.fromkeys(e["data"]["member"] for e in batch if "member" in e["data"]):
            if member in listed:
                ops.append(
                    ["upsert", f"participant-{member}", str(parts.participant(listed[member], p)), "participants-list"]
                )
            else:
                ops.append(["remove", f"participant-{member}"])
        return ops
