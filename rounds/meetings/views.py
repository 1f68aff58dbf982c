"""What a meeting's page shows, and its update at each event (docs/meetings.md).

The page has a part that is the same for everyone (templates/rounds/meeting_live.html: the
agenda, who is present, the round as it was said, the notes) and each viewer's own forms
(meeting_now.html). After each action the meeting's writer has the shared part rendered here
once, in each served language, and sends it with the action's last event as `view`: no page
fetches anything to show what was said. Only those whose forms the action changed fetch theirs
again (GET /meetings/{id}?part=now): the view names them in `now`, or says `null` for
everyone (the meeting moved on, or this process did not see the event before)."""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from typing import Any

import jinja2
from sqlalchemy.ext.asyncio import AsyncSession

from consent.base import i18n
from consent.base.clock import Clock
from consent.base.i18n import gettext as _
from rounds import services as proposals
from rounds.meetings import rules, services
from rounds.meetings.models import Meeting

log = logging.getLogger("consent.meetings")

SAID = frozenset({rules.CHECKED_IN, rules.CHECKED_OUT, rules.PASSED, rules.SKIPPED})
REMEMBERED = 1000  # meetings whose forms this process remembers (the most recent)
# Each member's forms as an event left them: what everyone's hang on (the meeting's phase, the
# item under way), and what each member may do.
Forms = tuple[tuple[str, int | None], dict[str, list[str]]]


async def shown(
    db: AsyncSession, meeting: Meeting, viewer: uuid.UUID | None, today: date, state: rules.Meeting | None = None
) -> dict[str, Any]:
    """What the meeting page shows: everyone's part, and `viewer`'s forms (None: nobody's);
    `state`: the meeting's, where the caller has it."""
    described = await services.describe(db, meeting, viewer, today, state)
    history = await proposals.as_json(db, await services.events_since(db, meeting, 0, limit=100_000))
    names = {p["id"]: p["name"] for p in described["present"]}
    wanted = {uuid.UUID(e["data"]["member"]) for e in history if "member" in e["data"]} - {uuid.UUID(k) for k in names}
    names |= {str(k): v for k, v in (await proposals.names_of(db, wanted)).items()}
    state = described["state"]
    position, items = described["position"], len(described["agenda"])
    following = position + 1 if position is not None else 0
    advance = (
        _("End the meeting")
        if state == rules.CLOSING
        else _("Next item")
        if state in (rules.OPENING, rules.AGENDA) and following < items
        else _("Closing round")
    )
    return {
        "meeting": described,
        # this round's turns as they were taken: who, and what they said
        "said": [e for e in history if e["type"] in SAID and e["data"].get("round") == state],
        "notes": [e for e in history if e["type"] == "noted"],
        "names": names,
        "advance_label": advance,
    }


class MeetingViews:
    def __init__(self, sessions: Callable[[], AsyncSession], templates: jinja2.Environment, clock: Clock) -> None:
        self.sessions, self.templates, self.clock = sessions, templates, clock
        self.forms: OrderedDict[uuid.UUID, tuple[int, Forms]] = OrderedDict()  # as of a seq

    async def view(self, meeting_id: uuid.UUID, events: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The last event's `view` (the page's language) and `views` (the others), for the
        events of one action; None if it could not be made (pages then load their section)."""
        try:
            today = self.clock().date()
            async with self.sessions() as db:
                meeting = await db.get_one(Meeting, meeting_id)
                state = await services.state_of(db, meeting, today)
                context = await shown(db, meeting, None, today, state)
            template = self.templates.get_template("rounds/meeting_live.html")
            rendered = {}
            for language in i18n.LANGUAGES:
                with i18n.using(language):
                    rendered[language] = template.render(context)
        except Exception:
            log.exception("rendering a meeting's update failed")
            return None
        described = context["meeting"]
        forms: Forms = (
            (described["state"], described["position"]),
            {str(m): sorted(rules.available(state, m)) for m in state.members},
        )
        now = self.concerned(meeting_id, events[0]["seq"], forms)
        if now is not None:  # and who acted: the form they sent is drawn anew, with a new client_id
            now = sorted({*now, *(e["actor"]["id"] for e in events if e.get("actor"))})
        self.forms[meeting_id] = (events[-1]["seq"], forms)
        self.forms.move_to_end(meeting_id)
        while len(self.forms) > REMEMBERED:
            self.forms.popitem(last=False)
        first = events[0]["seq"]
        return {language: {"from": first, "live": html, "now": now} for language, html in rendered.items()}

    def concerned(self, meeting_id: uuid.UUID, first: int, forms: Forms) -> list[str] | None:
        """Whose forms changed since the event before `first`; None: everyone's may have."""
        seq, before = self.forms.get(meeting_id, (None, None))
        if before is None or seq != first - 1 or before[0] != forms[0]:
            return None
        return sorted(m for m in forms[1].keys() | before[1].keys() if forms[1].get(m) != before[1].get(m))
