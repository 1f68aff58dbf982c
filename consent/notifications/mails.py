"""The words of each mail, plain text and HTML, from the templates in templates/mail/. Every
link starts with the configured base URL (CONSENT_BASE_URL), never a request's Host: a mail is
written by a background pass, and a forged Host must not put a stranger's address in a mail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import escape

from consent.base import i18n
from consent.base.i18n import N_, ngettext
from consent.base.i18n import gettext as _
from consent.base.labels import RESPONSE_WORDS
from consent.base.outbox import Letter
from consent.base.times import choose_zone, format_day, format_moment
from consent.base.tokens import sign, unsign
from consent.notifications import rules

SUBJECTS = {
    rules.OPENED: N_("{title}: your response is asked"),
    rules.MEETING: N_("{title}: a live meeting is starting"),
    rules.REMINDER: N_("Reminder: {title} closes soon, and waits for your response"),
    rules.OBJECTION: N_("An objection to your proposal {title}"),
    rules.CONSENT_AGAIN: N_("{title} was amended: consent again?"),
    rules.DECIDED: N_("Decided: {title}"),
    rules.REVIEW_DUE: N_("Review due: {title}"),
    rules.ACTION_ITEM: N_("{title}: you are asked to do something"),
    rules.TERM_ENDING: N_("A term ends soon: {title}"),
    rules.MEETING_CALLED: N_("{title}: a meeting is called"),
}


# Stand-ins for what differs per recipient, replaced after the one rendering: WHEN is the
# deadline, in the recipient's time zone.
NAME, UNSUBSCRIBE, WHEN = "\x00name\x00", "\x00unsubscribe\x00", "\x00when\x00"
PHASES = {
    "clarifying": N_("its clarifying round"),
    "reacting": N_("its reaction round"),
    "nominating": N_("its nomination round"),
    "changing": N_("its change round"),
    "consenting": N_("its consent round"),
}

# Whom a notification's mail goes to: account id, name, email, and the time zone its times are
# in (the account's, else the circle's).
Recipient = tuple[uuid.UUID, str, str, str]


@dataclass(frozen=True)
class About:
    """What a notification is about, as its mail and the page say it: `sentence` tells it in
    the language of the moment (each recipient's, each reader's), and its deadline in `zone`
    (the reader's; None: WHEN, put in per recipient by `said`). `detail` holds what the kind
    needs (the phase, who objected and why, the review date)."""

    kind: str
    circle: str
    title: str
    path: str  # the page it links to
    closes_at: datetime | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    zone: ZoneInfo | None = None

    @property
    def sentence(self) -> str:
        deadline = (format_moment(self.closes_at, self.zone) if self.zone else WHEN) if self.closes_at else ""
        return _sentence(self.kind, self.circle, self.title, deadline, self.detail)

    @property
    def lines(self) -> list[str]:
        """A decision's record, one line per member: what each did, never more (DESIGN.md), in
        the words the decision's page and minutes use."""
        lines = []
        for response in self.detail.get("record", {}).get("responses", []):
            line = f"{response['member']['name']} {RESPONSE_WORDS.get(response['kind'], response['kind'])}"
            lines.append(line + (" " + _("(left the circle)") if response.get("left") else ""))
        return lines

    def said(self, text: str, zone: ZoneInfo) -> str:
        """`text` (a mail of it) with the deadline in `zone`, in the language of the moment."""
        return text.replace(WHEN, format_moment(self.closes_at, zone)) if self.closes_at else text

    def told(self, zone: ZoneInfo) -> About:
        """As one person reads it: the deadline in their zone."""
        return replace(self, zone=zone)


def about(kind: str, circle: str, title: str, path: str, closes_at: datetime | None, detail: dict[str, Any]) -> About:
    """What a notification tells; `detail` holds what the kind needs (the phase, who objected
    and why, the decision's record, the review date)."""
    return About(kind, circle, title, path, closes_at, detail)


def _sentence(kind: str, circle: str, title: str, deadline: str, detail: Mapping[str, Any]) -> str:
    """The sentence of a notification, `deadline` as its reader sees it ("" for none)."""
    by = " " + _("Respond by {when}.").format(when=deadline) if deadline else ""
    review_by = format_day(detail["review_by"], choose_zone()) if detail.get("review_by") else ""
    if kind == rules.OPENED:
        phase = _(PHASES[detail["phase"]]) if detail.get("phase") in PHASES else _("its next round")
        return _("“{title}” is open in {circle}, in {phase}.").format(title=title, circle=circle, phase=phase) + by
    if detail.get("meeting"):  # a circle's meeting, not a proposal's live round
        return _meeting_sentence(kind, circle, deadline, detail)
    if kind == rules.MEETING:
        return _("A live meeting of “{title}” is starting in {circle}: join it on its page.").format(
            title=title, circle=circle
        )
    if kind == rules.REMINDER:
        closes = deadline or _("soon")
        return _("“{title}” closes {when}, and waits for your response.").format(title=title, when=closes)
    if kind == rules.OBJECTION:
        return _("{name} objected to your proposal “{title}”: {text}").format(
            name=detail.get("by") or _("A member"), title=title, text=detail.get("text", "")
        )
    if kind == rules.CONSENT_AGAIN:
        return (
            _("“{title}” was amended to integrate an objection: consent to the new version, or object.").format(
                title=title
            )
            + by
        )
    if kind == rules.DECIDED:
        return _("{circle} decided “{title}”. Review by {date}.").format(circle=circle, title=title, date=review_by)
    if kind == rules.ACTION_ITEM:
        return _("“{title}” asks you to do something: accept or decline it on the decision's page.").format(title=title)
    if kind == rules.TERM_ENDING:
        return _(
            "In {circle}, {title} ends on {date}: a steward may open a selection for the role on the circle's page."
        ).format(circle=circle, title=title, date=review_by)
    return _("The decision “{title}” is due for review (its review date: {date}).").format(title=title, date=review_by)


def _meeting_sentence(kind: str, circle: str, when: str, detail: Mapping[str, Any]) -> str:
    """A circle's meeting: called (when, where, its agenda), or starting."""
    if kind == rules.MEETING:
        return _("The meeting of {circle} is starting: join it on its page.").format(circle=circle)
    said = _("{circle} meets on {when}.").format(circle=circle, when=when)
    if detail.get("place"):
        said += " " + _("Where: {place}.").format(place=" ".join(detail["place"].split()))
    if detail.get("agenda"):
        said += " " + _("Agenda: {items}.").format(items="; ".join(detail["agenda"]))
    return said


@dataclass(frozen=True)
class Postman:
    """Writes mails: the templates, the base URL links start with, the sender's address (replies
    come back to it, tagged), and the key that signs reply addresses and unsubscribe links."""

    templates: jinja2.Environment
    site: str
    mail_from: str
    secret: str

    def link(self, path: str) -> str:
        return self.site + path

    def reply_address(self, notification_id: uuid.UUID) -> str:
        """`consent+r<signed notification id>@domain`: a reply says whose response to what."""
        local, _, domain = self.mail_from.partition("@")
        return f"{local}+r{sign(self.secret, notification_id.bytes)}@{domain}"

    def notification_of(self, address: str) -> uuid.UUID | None:
        """The notification a reply address was made for; None for a forged or mistyped one."""
        local = address.partition("@")[0].lower()
        _local, tag, token = local.partition("+r")
        payload = unsign(self.secret, token) if tag else None
        return uuid.UUID(bytes=payload) if payload is not None and len(payload) == 16 else None

    def unsubscribe_token(self, account_id: uuid.UUID, kind: str) -> str:
        return sign(self.secret, account_id.bytes + bytes([rules.KINDS.index(kind)]))

    def unsubscribed(self, token: str) -> tuple[uuid.UUID, str] | None:
        """Whom and what kind an unsubscribe link stops; None for a forged link."""
        payload = unsign(self.secret, token)
        if payload is None or len(payload) != 17 or payload[16] >= len(rules.KINDS):
            return None
        return uuid.UUID(bytes=payload[:16]), rules.KINDS[payload[16]]

    def notifications(
        self, about: About, recipients: Sequence[tuple[str, Recipient, uuid.UUID, str | None]]
    ) -> Iterator[Letter]:
        """The mails of one notification to each of its recipients (key, (account id, name,
        email, time zone), notification id, language), in the recipients' order: written once
        per language and time zone, then each given its name and links; a circle of 2,000 costs
        a rendering per language, not 2,000. One at a time: the caller lets the server's other
        work go on between them."""
        reply = about.kind in rules.ANSWERABLE
        values = {"about": about, "name": NAME, "link": self.link(about.path), "reply": reply}
        values |= {"settings": self.link("/notifications#choices"), "unsubscribe": UNSUBSCRIBE}
        written: dict[str, Letter] = {}
        local: dict[tuple[str, str], tuple[str, str]] = {}  # the text and html, with the deadline in a zone
        for key, (account_id, name, email, zone), notification_id, language in recipients:
            with i18n.using(language) as said_in:
                if said_in not in written:
                    subject = f"[{about.circle}] " + _(SUBJECTS[about.kind]).format(title=about.title)
                    written[said_in] = self._letter("", "", subject, "notification", values, {})
                if (said_in, zone) not in local:
                    letter, there = written[said_in], choose_zone(zone)
                    local[said_in, zone] = about.said(letter.text, there), about.said(letter.html, there)
            text, html = local[said_in, zone]
            unsubscribe = self.link(f"/unsubscribe/{self.unsubscribe_token(account_id, about.kind)}")
            headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
            if reply:
                headers["Reply-To"] = self.reply_address(notification_id)
            text = text.replace(NAME, name).replace(UNSUBSCRIBE, unsubscribe)
            html = html.replace(NAME, str(escape(name))).replace(UNSUBSCRIBE, unsubscribe)
            yield Letter(key=key, to=email, subject=written[said_in].subject, text=text, html=html, headers=headers)

    def digest(self, key: str, to: str, name: str, items: list[About], language: str | None = None) -> Letter:
        values = {"items": items, "name": name, "link": self.link, "settings": self.link("/notifications#choices")}
        with i18n.using(language):
            subject = ngettext(
                "What happened in your circles: {n} notification",
                "What happened in your circles: {n} notifications",
                len(items),
            ).format(n=i18n.number(len(items)))
            return self._letter(key, to, subject, "digest", values, {})

    def invitation(
        self, key: str, to: str, circle: str, inviter: str, link: str, language: str | None = None
    ) -> Letter:
        """An invitation, in the inviter's language (or `language`): the invited may have no account."""
        values = {"circle": circle, "inviter": inviter, "link": link}
        with i18n.using(language or i18n.current()):
            subject = _("{inviter} invites you to {circle}").format(inviter=inviter, circle=circle)
            return self._letter(key, to, subject, "invitation", values, {})

    def answer(self, key: str, to: str, subject: str, lines: list[str], link: str, in_reply_to: str) -> Letter:
        """The confirmation, or the error, sent back to a member who answered by mail, in the
        language of the moment (consent.notifications.replies says it in the member's)."""
        headers = {"In-Reply-To": in_reply_to, "References": in_reply_to} if in_reply_to else {}
        return self._letter(key, to, subject, "answer", {"lines": lines, "link": link}, headers)

    def _letter(
        self, key: str, to: str, subject: str, template: str, values: dict[str, Any], headers: dict[str, str]
    ) -> Letter:
        values = {**values, "site": self.site, "subject": subject}
        text = self.templates.get_template(f"mail/{template}.txt").render(values)
        html = self.templates.get_template(f"mail/{template}.html").render(values)
        return Letter(key=key, to=to, subject=subject, text=text, html=html, headers=headers)
