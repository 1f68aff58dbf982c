"""The actions of the consent process as members send them (API.md, docs/consent-process.md):
one struct per type, told apart by `type`. The API, the meeting socket, the page form and
scripts each decode an action once, with `decode`; from there on the fields are typed, and
the state machine checks only what the rules say (empty texts, who may name whom)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import msgspec

from consent.base.errors import Refusal, bad_field, msgspec_refusal
from consent.base.i18n import N_
from consent.base.i18n import gettext as _
from consent.base.text import Moment
from rounds.item_rules import ItemsIn

# PostgreSQL stores no NUL character, and a client_id is stored with the action's first event.
ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern="^[^\x00]*$")]
CLIENT_ID = N_("{Field} must be a text of 1 to 100 characters, chosen by the client and unique to the action.")
NO_SUCH_QUESTION = N_("{Field} is not one asked on this proposal.")
NO_SUCH_OBJECTION = N_("{Field} is not one raised on this proposal.")


class Action(msgspec.Struct, tag_field="type", kw_only=True, frozen=True):
    client_id: ClientId  # a retry with the same client_id is answered, not applied again

    @property
    def type(self) -> str:
        return self.__struct_config__.tag  # type: ignore[return-value]


class Spoken(Action, frozen=True):
    """Said by a member in the process; the facilitator may record it for someone in the room
    without a device. The id is text: the machine checks it after who may name someone."""

    on_behalf_of: str | None = None


class Said(Spoken, frozen=True):
    """A response with words; whether they may be empty is the machine's rule."""

    text: str = ""


class Presence(Action, frozen=True):
    member_id: str | None = None  # yourself, or for the facilitator someone in the room


class Start(Action, tag="start", frozen=True):
    pass


class Advance(Action, tag="advance", frozen=True):
    to: Literal["consenting"] | None = None  # a review may skip the clarifying and reaction rounds


class Question(Said, tag="question", frozen=True):
    pass


class Answer(Action, tag="answer", frozen=True):
    question_id: str = ""
    text: str = ""


class Reaction(Said, tag="reaction", frozen=True):
    pass


class Pass(Spoken, tag="pass", frozen=True):
    pass


class Consent(Said, tag="consent", frozen=True):
    pass


class Concern(Said, tag="concern", frozen=True):
    pass


class Object(Said, tag="object", frozen=True):
    pass  # the text is the reason


class StandAside(Said, tag="stand_aside", frozen=True):
    pass


class WithdrawObjection(Spoken, tag="withdraw_objection", frozen=True):
    objection_id: str = ""


class Amend(Action, tag="amend", frozen=True):
    text: str = ""  # a selection's is made of its candidate and term
    driver: str = ""
    review_by: date | None = None  # the review date proposed for consent
    criteria: list[str] | None = None  # replace the evaluation criteria
    action_items: ItemsIn | None = None  # replace the action items: they are part of what is consented
    # Async: the deadline of the consent round on the new revision (by default the circle's period).
    closes_at: Moment | None = None
    author_agreed: bool = False  # the facilitator amends only with the author's agreement
    # A selection is amended by another candidate and/or another end of the term.
    candidate_id: str | None = None
    term_ends_on: date | None = None


class NotAdopted(Action, tag="not_adopted", frozen=True):
    reason: str = ""


class Withdraw(Action, tag="withdraw", frozen=True):
    reason: str = ""


class Present(Presence, tag="present", frozen=True):
    pass


class Absent(Presence, tag="absent", frozen=True):
    pass


class TestObjection(Action, tag="test_objection", frozen=True):
    objection_id: str = ""


class KeepObjection(Spoken, tag="keep_objection", frozen=True):
    objection_id: str = ""


class ObjectionToConcern(Spoken, tag="objection_to_concern", frozen=True):
    objection_id: str = ""


class ChangeMode(Action, tag="change_mode", frozen=True):
    mode: Literal["live", "async"]
    closes_at: Moment | None = None  # to async: the deadline (by default the circle's period)
    reason: str = ""


class Nominate(Spoken, tag="nominate", frozen=True):
    """In a selection's nomination round: one member, and why."""

    candidate_id: str = ""
    reason: str = ""


class ChangeNomination(Spoken, tag="change_nomination", frozen=True):
    candidate_id: str = ""
    reason: str = ""


class ProposeCandidate(Action, tag="propose_candidate", frozen=True):
    candidate_id: str = ""
    closes_at: Moment | None = None  # async: the consent round's deadline (by default the circle's period)


class Skip(Action, tag="skip", frozen=True):
    pass


class Back(Action, tag="back", frozen=True):
    pass


# msgspec tells them apart by the tag, in one pass.
AnyAction = (
    Start
    | Advance
    | Question
    | Answer
    | Reaction
    | Pass
    | Consent
    | Concern
    | Object
    | StandAside
    | WithdrawObjection
    | Amend
    | NotAdopted
    | Withdraw
    | Present
    | Absent
    | Skip
    | Back
    | TestObjection
    | KeepObjection
    | ObjectionToConcern
    | ChangeMode
    | Nominate
    | ChangeNomination
    | ProposeCandidate
)

# An id that is not even text names nothing: answered like an id that names nothing here.
_NAMES_NOTHING = {
    "question_id": (NO_SUCH_QUESTION, "no_such_question"),
    "objection_id": (NO_SUCH_OBJECTION, "no_such_objection"),
}


def decode(raw: Any) -> Action:
    """The action in `raw` (decoded JSON or a form), or the refusal its sender is answered with."""
    try:
        return msgspec.convert(raw, AnyAction)
    except msgspec.ValidationError as exc:
        raise refusal(raw, exc) from exc


def refusal(raw: Any, exc: msgspec.ValidationError) -> Refusal:
    """What is wrong with an action (of a proposal or a meeting), as its sender is told."""
    problem, _at, path = str(exc).partition(" - at `$.")
    field = path.rstrip("`") or problem.removeprefix("Object missing required field `").rstrip("`")
    if field == "type" and problem.startswith("Invalid value"):
        return bad_field(
            "type", _("There is no action called {action}.").format(action=repr(raw["type"])), "unknown_action"
        )
    if field == "type":
        return bad_field("type", _("{Field} is missing: say which one."))
    if field == "client_id":
        return bad_field("client_id", _(CLIENT_ID))
    if field in _NAMES_NOTHING:
        says, code = _NAMES_NOTHING[field]
        return bad_field(field, _(says), code)
    return msgspec_refusal(exc, 422)
