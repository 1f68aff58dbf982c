"""The words people read for the codes the domains store (phases, responses, events), kept in
one place so that every page, export and message says the same thing. Templates have them as
`labels`. Each is translated as it is read, in the language of that moment (consent.base.i18n)."""

from __future__ import annotations

from consent.base.i18n import LazyLabels, gettext
from consent.base.i18n import lazy_gettext as _

PHASE_NAMES = LazyLabels(
    {
        "draft": _("Draft"),
        "clarifying": _("Clarifying questions"),
        "reacting": _("Reaction round"),
        "nominating": _("Nomination round"),
        "changing": _("Change round"),
        "consenting": _("Consent round"),
        "integrating": _("Integrating objections"),
        "decided": _("Decided"),
        "withdrawn": _("Withdrawn"),
        "not_adopted": _("Not adopted"),
    }
)

# A decision's status in the log.
STATUS_WORDS = LazyLabels(
    {
        "active": _("in force"),
        "due": _("review due soon"),
        "overdue": _("review overdue"),
        "retired": _("retired"),
        "superseded": _("superseded"),
    }
)

# A participant's final response, said after the fact (a decision's record, its minutes, its timeline).
RESPONSE_WORDS = LazyLabels(
    {
        "consent": _("consented"),
        "concern": _("consented with a concern"),
        "stand_aside": _("stood aside"),
        "object": _("objected"),
        "silent": _("was silent until the deadline (the circle lets silence pass)"),
        "present_no_response": _("was present and gave no response"),
        "absent": _("was not there"),
    }
)

# An action item's state, and what its changes did.
ITEM_STATES = LazyLabels(
    {
        "proposed": _("asked, not answered yet"),
        "accepted": _("accepted"),
        "declined": _("declined"),
        "done": _("done"),
    }
)

# A response as the proposal page tells it while the process runs.
RESPONSE_NOW = LazyLabels(
    {
        "consent": _("consents"),
        "concern": _("consents with a concern"),
        "object": _("objects"),
        "stand_aside": _("stands aside"),
        "silent": _("silent until the deadline"),
    }
)

# What an event of the consent process did, said after the fact; the other events are worded
# where they are told (they carry a revision or an outcome).
EVENT_WORDS = LazyLabels(
    {
        "question_asked": _("asked"),
        "question_answered": _("answered"),
        "reaction_given": _("reacted"),
        "passed": _("passed"),
        "nominated": _("nominated"),
        "nomination_changed": _("changed their nomination"),
        "nominations_revealed": _("the nominations were heard"),
        "candidate_proposed": _("proposed a candidate"),
        "objection_withdrawn": _("withdrew an objection"),
        "objection_tested": _("asked the objector to test the objection against the circle's aim and domain"),
        "objection_kept": _("kept the objection after testing it"),
        "objection_became_concern": _("made the objection a concern after testing it"),
        "member_left": _("left the circle"),
        "member_removed": _("removed a member from the circle"),  # a member_left recorded by a steward
    }
)

# How an objection ended, other than integrated (which names its revision) or withdrawn.
OBJECTION_WORDS = LazyLabels(
    {
        "lapsed": _("lapsed: its author left the circle"),
        "concern": _("tested against the circle's aim and domain, and made a concern by its author"),
    }
)

# A proposal changing mode, by its new mode (the record adds why).
MODE_CHANGES = LazyLabels(
    {"live": _("taken into a live meeting"), "async": _("taken to asynchronous participation, with a deadline")}
)

# What happened when a proposal's deadline passed.
DEADLINE_OUTCOMES = LazyLabels(
    {
        "decided": _("the proposal was decided"),
        "integrating": _("objections to integrate"),
        "next_meeting": _("taken into the next meeting"),
        "changing": _("the nominations were heard: the change round is open"),
        "awaiting_candidate": _("the change round closed: the facilitator proposes a candidate"),
    }
)

# What a review proposes to do with the decision it reviews.
REVIEW_OUTCOMES = LazyLabels(
    {
        "reaffirm": _("reaffirm it"),
        "retire": _("retire it"),
        "amend": _("amend it"),
    }
)

# Where a review stands.
REVIEW_STATES = LazyLabels(
    {
        "open": _("open"),
        "consented": _("consented"),
        "not_adopted": _("not adopted: the decision stays as it was"),
        "withdrawn": _("withdrawn: the decision stays as it was"),
        "recorded": _("recorded at once by one member (before reviews went through consent)"),
    }
)

# Why something waits for me, on the home page's "Waiting for you" (consent.home.WaitingItem.kind).
WAITING_WORDS = LazyLabels(
    {
        "respond": _("Your response is expected"),
        "consent_again": _("Amended: consent again"),
        "your_turn": _("Your turn in the meeting"),
        "your_objection": _("Your objection is being integrated"),
    }
)

# What each kind of notification is, as its mail choice names it.
NOTIFICATION_KINDS = LazyLabels(
    {
        "opened": _("A proposal opens in my circle, or moves to its next round"),
        "meeting": _("A live meeting is starting"),
        "reminder": _("A deadline is near and I have not responded (24 and 2 hours before)"),
        "objection": _("Someone objects to my proposal"),
        "consent_again": _("An amendment asks me to consent again"),
        "decided": _("A decision is made (with its record)"),
        "review_due": _("A decision of my circle is due for review"),
        "action_item": _("A decision asks me to do something"),
        "term_ending": _("A role's term in my circle ends soon"),
        "meeting_called": _("A meeting of my circle is called"),
    }
)
# A participant's response as the proposal page's badge says it.
RESPONSE_BADGES = LazyLabels(
    {"consent": _("consent"), "concern": _("concern"), "object": _("object"), "stand_aside": _("stand aside")}
)
MAIL_DELIVERIES = LazyLabels(
    {"now": _("By mail at once"), "digest": _("In a daily digest"), "never": _("Only on this page")}
)

# The fields of bodies, forms and query strings, as a person names them (the forms' labels):
# every message about a field's value names it so ("The deadline must be in the future.").
FIELD_LABELS = LazyLabels(
    {
        "name": _("the name"),
        "email": _("the email"),
        "password": _("the password"),
        "aim": _("the aim"),
        "description": _("the description"),
        "title": _("the title"),
        "driver": _("the driver"),
        "text": _("the text"),
        "criteria": _("the evaluation criteria"),
        "criterion": _("the criterion"),
        "evaluation": _("the evaluation"),
        "closes_at": _("the deadline"),
        "time_zone": _("the time zone"),
        "review_by": _("the review date"),
        "domain_id": _("the domain"),
        "parent_domain_id": _("the parent circle's domain"),
        "parent_id": _("the parent circle"),
        "mode": _("the mode (live or async)"),
        "role": _("the role"),
        "roles": _("the roles"),
        "term_ends_on": _("the end of the term"),
        "starts_at": _("the meeting's start"),
        "minutes_long": _("the meeting's length in minutes"),
        "place": _("the place"),
        "agenda": _("the agenda"),
        "candidate_id": _("the candidate"),
        "default_review_months": _("the default review period"),
        "default_async_days": _("the async period"),
        "quorum": _("the quorum"),
        "private": _("the private setting"),
        "silence_is_consent": _("the silence setting"),
        "agreement": _("the standing agreement mark"),
        "open_link": _("the open link setting"),
        "label": _("the token's label"),
        "q": _("the search"),
        "circle_id": _("the circle"),
        "status": _("the status"),
        "subcircles": _("the sub-circles setting"),
        "review_after": _("the earliest review date"),
        "review_before": _("the latest review date"),
        "limit": _("the number per page"),
        "cursor": _("the page cursor"),
        "since": _("the last seq seen (since)"),
        "outcome": _("the outcome"),
        "assessments": _("the assessments"),
        "assessment": _("the assessment"),
        "type": _("the action"),
        "client_id": _("the client id"),
        "kind": _("the response"),
        "reason": _("the reason"),
        "question_id": _("the question"),
        "objection_id": _("the objection"),
        "member_id": _("the member"),
        "on_behalf_of": _("the member responded for"),
        "to": _("the phase to advance to"),
        "supersedes": _("the decision it supersedes"),
        "why": _("the reason for the change"),
        "author_agreed": _("the author's agreement"),
        "feed": _("the calendar link"),
        "language": _("the language"),
        "current": _("your current password"),
        "new": _("the new password"),
        "data": _("the body"),
        "action_items": _("the action items"),
        "what": _("what is to be done"),
        "owner_id": _("the person asked"),
        "due_on": _("the due date"),
        "note": _("the note"),
    }
)


def field_label(key: str) -> str:
    """What a field is called, for a key as a body, form or query names it; a path such as
    `assessments[0].criterion` is named by its last field."""
    last = key.rsplit(".", 1)[-1]
    name, _, index = last.partition("[")
    label = FIELD_LABELS.get(name) or gettext("the field {name}").format(name=name)
    if index.rstrip("]").isdigit():
        return gettext("item {number} of {label}").format(number=int(index.rstrip("]")) + 1, label=label)
    return label


# Where a circle's meeting stands.
MEETING_PHASES = LazyLabels(
    {
        "scheduled": _("Scheduled"),
        "opening": _("Opening round"),
        "agenda": _("On the agenda"),
        "closing": _("Closing round"),
        "ended": _("Ended"),
        "cancelled": _("Cancelled"),
    }
)
