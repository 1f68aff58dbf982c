"""The words people read for the codes the domains store (phases, responses, events), kept in
one place so that every page, export and message says the same thing. Templates have them as
`labels`."""

from __future__ import annotations

PHASE_NAMES = {
    "draft": "Draft",
    "clarifying": "Clarifying questions",
    "reacting": "Reaction round",
    "nominating": "Nomination round",
    "changing": "Change round",
    "consenting": "Consent round",
    "integrating": "Integrating objections",
    "decided": "Decided",
    "withdrawn": "Withdrawn",
    "not_adopted": "Not adopted",
}

# A decision's status in the log.
STATUS_WORDS = {
    "active": "in force",
    "due": "review due soon",
    "overdue": "review overdue",
    "retired": "retired",
    "superseded": "superseded",
}

# A participant's final response, said after the fact (a decision's record, its minutes, its timeline).
RESPONSE_WORDS = {
    "consent": "consented",
    "concern": "consented with a concern",
    "stand_aside": "stood aside",
    "object": "objected",
    "silent": "was silent until the deadline (the circle lets silence pass)",
    "present_no_response": "was present and gave no response",
    "absent": "was not there",
}

# A response as the proposal page tells it while the process runs.
RESPONSE_NOW = {
    "consent": "consents",
    "concern": "consents with a concern",
    "object": "objects",
    "stand_aside": "stands aside",
    "silent": "silent until the deadline",
}

# What an event of the consent process did, said after the fact; the other events are worded
# where they are told (they carry a revision or an outcome).
EVENT_WORDS = {
    "question_asked": "asked",
    "question_answered": "answered",
    "reaction_given": "reacted",
    "passed": "passed",
    "nominated": "nominated",
    "nomination_changed": "changed their nomination",
    "nominations_revealed": "the nominations were heard",
    "candidate_proposed": "proposed a candidate",
    "objection_withdrawn": "withdrew an objection",
    "objection_tested": "asked the objector to test the objection against the circle's aim and domain",
    "objection_kept": "kept the objection after testing it",
    "objection_became_concern": "made the objection a concern after testing it",
    "member_left": "left the circle",
    "member_removed": "removed a member from the circle",  # a member_left recorded by a steward
}

# How an objection ended, other than integrated (which names its revision) or withdrawn.
OBJECTION_WORDS = {
    "lapsed": "lapsed: its author left the circle",
    "concern": "tested against the circle's aim and domain, and made a concern by its author",
}

# A proposal changing mode, by its new mode (the record adds why).
MODE_CHANGES = {"live": "taken into a live meeting", "async": "taken to asynchronous participation, with a deadline"}

# What happened when a proposal's deadline passed.
DEADLINE_OUTCOMES = {
    "decided": "the proposal was decided",
    "integrating": "objections to integrate",
    "next_meeting": "taken into the next meeting",
    "changing": "the nominations were heard: the change round is open",
    "awaiting_candidate": "the change round closed: the facilitator proposes a candidate",
}

# What a review proposes to do with the decision it reviews.
REVIEW_OUTCOMES = {
    "reaffirm": "reaffirm it",
    "retire": "retire it",
    "amend": "amend it",
}

# Where a review stands.
REVIEW_STATES = {
    "open": "open",
    "consented": "consented",
    "not_adopted": "not adopted: the decision stays as it was",
    "withdrawn": "withdrawn: the decision stays as it was",
    "recorded": "recorded at once by one member (before reviews went through consent)",
}

# Why something waits for me, on the home page's "Waiting for you" (consent.home.WaitingItem.kind).
WAITING_WORDS = {
    "respond": "Your response is expected",
    "consent_again": "Amended: consent again",
    "your_turn": "Your turn in the meeting",
    "your_objection": "Your objection is being integrated",
}

# What each kind of notification is, as its mail choice names it.
NOTIFICATION_KINDS = {
    "opened": "A proposal opens in my circle, or moves to its next round",
    "meeting": "A live meeting is starting",
    "reminder": "A deadline is near and I have not responded (24 and 2 hours before)",
    "objection": "Someone objects to my proposal",
    "consent_again": "An amendment asks me to consent again",
    "decided": "A decision is made (with its record)",
    "review_due": "A decision of my circle is due for review",
    "term_ending": "A role's term in my circle ends soon",
}
MAIL_DELIVERIES = {"now": "By mail at once", "digest": "In a daily digest", "never": "Only on this page"}

# The fields of bodies, forms and query strings, as a person names them (the forms' labels):
# every message about a field's value names it so ("The deadline must be in the future.").
FIELD_LABELS = {
    "name": "the name",
    "email": "the email",
    "password": "the password",
    "aim": "the aim",
    "description": "the description",
    "title": "the title",
    "driver": "the driver",
    "text": "the text",
    "criteria": "the evaluation criteria",
    "criterion": "the criterion",
    "evaluation": "the evaluation",
    "closes_at": "the deadline",
    "review_by": "the review date",
    "domain_id": "the domain",
    "parent_domain_id": "the parent circle's domain",
    "parent_id": "the parent circle",
    "mode": "the mode (live or async)",
    "role": "the role",
    "roles": "the roles",
    "term_ends_on": "the end of the term",
    "candidate_id": "the candidate",
    "default_review_months": "the default review period",
    "default_async_days": "the async period",
    "quorum": "the quorum",
    "private": "the private setting",
    "silence_is_consent": "the silence setting",
    "agreement": "the standing agreement mark",
    "open_link": "the open link setting",
    "label": "the token's label",
    "q": "the search",
    "circle_id": "the circle",
    "status": "the status",
    "subcircles": "the sub-circles setting",
    "review_after": "the earliest review date",
    "review_before": "the latest review date",
    "limit": "the number per page",
    "cursor": "the page cursor",
    "since": "the last seq seen (since)",
    "outcome": "the outcome",
    "assessments": "the assessments",
    "assessment": "the assessment",
    "type": "the action",
    "client_id": "the client id",
    "kind": "the response",
    "reason": "the reason",
    "question_id": "the question",
    "objection_id": "the objection",
    "member_id": "the member",
    "on_behalf_of": "the member responded for",
    "to": "the phase to advance to",
    "supersedes": "the decision it supersedes",
    "why": "the reason for the change",
    "author_agreed": "the author's agreement",
    "feed": "the calendar link",
    "data": "the body",
}


def field_label(key: str) -> str:
    """What a field is called, for a key as a body, form or query names it; a path such as
    `assessments[0].criterion` is named by its last field."""
    last = key.rsplit(".", 1)[-1]
    name, _, index = last.partition("[")
    label = FIELD_LABELS.get(name, f"the field {name}")
    return f"item {int(index.rstrip(']')) + 1} of {label}" if index.rstrip("]").isdigit() else label
