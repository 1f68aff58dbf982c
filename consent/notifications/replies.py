"""Answering by mail: reading a reply, and the words of the mail that answers it. Pure rules,
no I/O (consent.notifications.mail_in receives the mail and applies the response).

A member replies to a mail that asks for their response. What they wrote is the reply's plain
text (or, when it has only HTML, that HTML's text) without what mail programs add: quoted lines
(`>`), everything after a quote header (“On … wrote:”, Outlook's “From: … Sent: …”) or a
signature (`-- `). Its first word is the response: consent, concern, object or stand aside
(`stand-aside` too), in any case; the rest of the first paragraph is its text, an objection's
reason. Anything else is not understood, and nothing is recorded: a decision is not taken on a
guess ("consenting is hard for me" is not consent)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser

from consent.base.i18n import N_
from consent.base.i18n import gettext as _
from consent.notifications.mails import PHASES
from rounds import machine

CONSENT, CONCERN, OBJECT, STAND_ASIDE = "consent", "concern", "object", "stand_aside"
WORDS = "consent, concern, object or stand aside"
MAX_ATTRIBUTION = 500  # characters of an “On … wrote:” line
REPLY_DAYS = 30  # a reply address is taken this long after its mail, while its proposal is open

_RESPONSE = re.compile(r"(consent|concern|object|stand(?:\s+|-)aside)(?![\w-])[\s:;,.!?–—-]*(.*)", re.I | re.S)
# The line that introduces a quoted mail, in the languages mail programs most often write it.
_ATTRIBUTION = re.compile(r"^(on|am|le|el|op|il|den|w dniu)\s.*(wrote|schrieb|a écrit|escribió|schreef|ha scritto|skrev|napisał).*:$", re.I)  # fmt: skip
_HEADER_START = re.compile(r"^(from|von|de|van|da|från)\s*:", re.I)
_HEADER_NEXT = re.compile(r"^(sent|date|to|subject|gesendet|datum|an|envoyé|à|enviado|para|verzonden|aan|inviato)\s*:", re.I)  # fmt: skip
_SEPARATOR = re.compile(r"^(-{2,}\s*original message\s*-{2,}|_{10,}|-{10,})$", re.I)
_SENT_FROM = re.compile(r"^(sent from my |sent from outlook|get outlook for )", re.I)


@dataclass(frozen=True)
class Reply:
    """The response a reply gives (None: not understood) and its text."""

    kind: str | None
    text: str


def read(text: str) -> Reply:
    """The response in what a member wrote (`text_of` the reply)."""
    paragraph = first_paragraph(written(text))
    match = _RESPONSE.fullmatch(paragraph)
    if match is None:
        return Reply(None, "")
    word = match.group(1).lower()
    kind = STAND_ASIDE if word.startswith("stand") else word
    return Reply(kind, " ".join(match.group(2).split()))


def written(text: str) -> list[str]:
    """The lines the member wrote: quoted lines dropped, nothing from a quote header or a
    signature on."""
    lines = [line.replace("\xa0", " ").rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    kept = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped == "--" or _SEPARATOR.match(stripped) or _SENT_FROM.match(stripped):
            break
        if _quote_header(lines, i):
            break
        if not stripped.startswith(">"):
            kept.append(stripped)
    return kept


def _quote_header(lines: list[str], i: int) -> bool:
    line = lines[i].strip()
    if _HEADER_START.match(line):
        following = [rest.strip() for rest in lines[i + 1 : i + 4] if rest.strip()]
        return bool(following) and bool(_HEADER_NEXT.match(following[0]))
    # A long attribution is wrapped over two or three lines (Gmail does); a longer text is not
    # one (nor worth the regular expression's time).
    joined = (" ".join(s.strip() for s in lines[i : i + n]) for n in (1, 2, 3))
    return any(len(text) <= MAX_ATTRIBUTION and _ATTRIBUTION.match(text) for text in joined)


def first_paragraph(lines: list[str]) -> str:
    """The first lines up to a blank one, joined (mail programs wrap long lines)."""
    paragraph: list[str] = []
    for line in lines:
        if line:
            paragraph.append(line)
        elif paragraph:
            break
    return " ".join(paragraph)


def text_of(message: EmailMessage) -> str:
    """What a mail says: its plain text part, else the text of its HTML part, else nothing."""
    body = message.get_body(preferencelist=("plain", "html"))
    if not isinstance(body, EmailMessage):
        return ""
    try:
        content = body.get_content()
    except (LookupError, ValueError):  # an unknown charset or a broken encoding
        return ""
    if not isinstance(content, str):
        return ""
    return html_text(content) if body.get_content_type() == "text/html" else content


class _Text(HTMLParser):
    """HTML's text, a line per block, without what is quoted (<blockquote>, Gmail's quote)."""

    BLOCKS = frozenset({"p", "div", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "pre"})
    HIDDEN = frozenset({"head", "style", "script", "title", "blockquote"})
    VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[tuple[str, bool]] = []  # each open element, and whether its text is hidden

    @property
    def hidden(self) -> bool:
        return bool(self.open) and self.open[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "hr":
            self.parts.append("\n" + "_" * 32 + "\n")  # Outlook's line above the quoted mail
        if tag in self.VOID:
            return
        if tag in self.BLOCKS:
            self.parts.append("\n")
        classes = (dict(attrs).get("class") or "").split()
        self.open.append((tag, self.hidden or tag in self.HIDDEN or "gmail_quote" in classes))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.open) - 1, -1, -1):
            if self.open[depth][0] == tag:
                del self.open[depth:]
                break
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(" ".join(data.split("\n")))


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def automatic(message: EmailMessage, envelope_sender: str | None) -> bool:
    """An out-of-office note, a bounce or a list's mail (RFC 3834): never read as a response,
    and never answered, so two robots do not write to each other for ever."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        not envelope_sender
        or envelope_sender == "<>"
        or auto != "no"
        or precedence in {"bulk", "junk", "list", "auto_reply"}
        or any(name in message for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"))
    )


def client_id_of(message_id: str, content: bytes) -> str:
    """The action's client_id: from the Message-ID, so a mail delivered twice is applied once
    (hashed when long; the content's hash for a mail without one)."""
    name = message_id.strip().strip("<>")
    if name and len(name) <= 95 and name.isascii() and name.isprintable():
        return f"mail:{name}"
    return "mail:" + hashlib.sha256(name.encode() if name else content).hexdigest()


def expired(made_at: datetime, state: str, now: datetime) -> bool:
    """A reply address is taken for REPLY_DAYS after its mail, and while its proposal is open."""
    return state not in machine.OPEN_PHASES or now - made_at > timedelta(days=REPLY_DAYS)


# The answer mail: what was recorded, or why nothing was.

# Said in the member's language (consent.notifications.mail_in sets it); the four words a
# reply starts with stay English, which is what `read` understands.
NOUNS = {
    CONSENT: N_("Your consent to “{title}”"),
    CONCERN: N_("Your consent to “{title}” with a concern"),
    OBJECT: N_("Your objection to “{title}”"),
    STAND_ASIDE: N_("Your stand-aside on “{title}”"),
}
STATES = {
    machine.DRAFT: N_("“{title}” has not started yet"),
    machine.INTEGRATING: N_("“{title}” is being amended to integrate an objection"),
    machine.DECIDED: N_("“{title}” is decided"),
    machine.WITHDRAWN: N_("“{title}” was withdrawn"),
    machine.NOT_ADOPTED: N_("“{title}” was not adopted"),
}
RESPONSES = {CONSENT: N_("consent"), CONCERN: N_("concern"), OBJECT: N_("object"), STAND_ASIDE: N_("stand-aside")}

TODO = {
    machine.CLARIFYING: N_(
        "You will get a mail when its consent round opens; until then, you can ask a question on its page."
    ),
    machine.REACTING: N_("You will get a mail when its consent round opens; until then, you can react on its page."),
}


def confirmation(kind: str, title: str, text: str) -> list[str]:
    noun = _(NOUNS[kind]).format(title=title)
    said = (
        _("{noun} is on the record: {text}").format(noun=noun, text=text)
        if text
        else _("{noun} is on the record.").format(noun=noun)
    )
    if kind == OBJECT:
        return [
            said,
            _("The circle will look for an amendment that integrates it; you will be asked to consent to it."),
        ]
    return [said]


def not_understood(title: str) -> list[str]:
    return [
        _("Your reply about “{title}” was not understood, so nothing was recorded.").format(title=title),
        _(
            "Reply to this mail starting with one of four words: {words}; the rest of its first paragraph "
            "is your reason or text. For example: “object the ladder needs a safety check”."
        ).format(words=WORDS),
    ]


def needs_reason(title: str) -> list[str]:
    return [
        _("An objection needs a reason, so nothing was recorded about “{title}”.").format(title=title),
        _(
            "Reply to this mail with “object” and, in the same paragraph, the harm you see or how it keeps the "
            "circle from its aim. If it is good enough for now and safe enough to try, reply “concern” and what "
            "worries you."
        ),
    ]


def wrong_phase(kind: str, title: str, state: str) -> list[str]:
    """Where the proposal is now, and what to do instead."""
    response = _(RESPONSES.get(kind, kind))
    if state in PHASES:
        now = _("“{title}” is in {phase}").format(title=title, phase=_(PHASES[state]))
        todo = _(TODO.get(state, N_("Respond on its page.")))
    else:
        now = _(STATES[state]).format(title=title) if state in STATES else f"“{title}” {state}"
        todo = (
            _("You will be asked to consent to the amended proposal.")
            if state == machine.INTEGRATING
            else _("It takes no responses now.")
        )
    said = _("{now}, so your {response} was not recorded: consent responses are given in its consent round.")
    return [said.format(now=now, response=response), todo]


def already_responded(title: str) -> list[str]:
    return [
        _("You already gave your response to this version of “{title}”, so nothing more was recorded.").format(
            title=title
        )
    ]


def no_longer_member(title: str, circle: str) -> list[str]:
    return [
        _("You are no longer a member of {circle}, so your reply about “{title}” was not recorded.").format(
            circle=circle, title=title
        )
    ]


def refused(title: str, message: str) -> list[str]:
    return [_("Your reply about “{title}” was not recorded: {message}").format(title=title, message=message)]
