"""The words of each mail, plain text and HTML, from the templates in templates/mail/. Every
link starts with the configured base URL (CONSENT_BASE_URL), never a request's Host: a mail is
written by a background pass, and a forged Host must not put a stranger's address in a mail."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jinja2
from markupsafe import escape

from consent.base.outbox import Letter
from consent.base.tokens import sign, unsign
from consent.notifications import rules

SUBJECTS = {
    rules.OPENED: "{title}: your response is asked",
    rules.MEETING: "{title}: a live meeting is starting",
    rules.REMINDER: "Reminder: {title} closes soon, and waits for your response",
    rules.OBJECTION: "An objection to your proposal {title}",
    rules.CONSENT_AGAIN: "{title} was amended: consent again?",
    rules.DECIDED: "Decided: {title}",
    rules.REVIEW_DUE: "Review due: {title}",
    rules.TERM_ENDING: "A term ends soon: {title}",
}


# Stand-ins for what differs per recipient, replaced after the one rendering.
NAME, UNSUBSCRIBE = "\x00name\x00", "\x00unsubscribe\x00"
PHASES = {
    "clarifying": "its clarifying round",
    "reacting": "its reaction round",
    "nominating": "its nomination round",
    "changing": "its change round",
    "consenting": "its consent round",
}


@dataclass(frozen=True)
class About:
    """What a notification is about, as its mail and the page say it."""

    kind: str
    circle: str
    title: str
    path: str  # the page it links to
    sentence: str
    lines: tuple[str, ...] = ()


def when(moment: datetime) -> str:
    return moment.strftime("%-d %b %Y, %H:%M UTC")


def about(kind: str, circle: str, title: str, path: str, closes_at: datetime | None, detail: dict[str, Any]) -> About:
    """The sentence that tells it; `detail` holds what the kind needs (the phase, who objected
    and why, the decision's record, the review date)."""
    by = f" Respond by {when(closes_at)}." if closes_at else ""
    if kind == rules.OPENED:
        sentence = f"“{title}” is open in {circle}, in {PHASES.get(detail.get('phase', ''), 'its next round')}.{by}"
    elif kind == rules.MEETING:
        sentence = f"A live meeting of “{title}” is starting in {circle}: join it on its page."
    elif kind == rules.REMINDER:
        sentence = f"“{title}” closes {when(closes_at) if closes_at else 'soon'}, and waits for your response."
    elif kind == rules.OBJECTION:
        sentence = f"{detail.get('by', 'A member')} objected to your proposal “{title}”: {detail.get('text', '')}"
    elif kind == rules.CONSENT_AGAIN:
        sentence = f"“{title}” was amended to integrate an objection: consent to the new version, or object.{by}"
    elif kind == rules.DECIDED:
        sentence = f"{circle} decided “{title}”. Review by {detail.get('review_by', '')}."
    elif kind == rules.TERM_ENDING:
        sentence = (
            f"In {circle}, {title} ends on {detail.get('review_by', '')}: "
            "a steward may open a selection for the role on the circle's page."
        )
    else:
        sentence = f"The decision “{title}” is due for review (its review date: {detail.get('review_by', '')})."
    return About(kind, circle, title, path, sentence, tuple(detail.get("lines", ())))


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
        _, tag, token = local.partition("+r")
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
        self, about: About, recipients: Sequence[tuple[str, tuple[uuid.UUID, str, str], uuid.UUID]]
    ) -> list[Letter]:
        """The mails of one notification to each of its recipients (key, (account id, name,
        email), notification id): written once, then each given its name and links; a circle of
        2,000 costs one rendering, not 2,000."""
        reply = about.kind in rules.ANSWERABLE
        subject = f"[{about.circle}] " + SUBJECTS[about.kind].format(title=about.title)
        values = {"about": about, "name": NAME, "link": self.link(about.path), "reply": reply}
        values |= {"settings": self.link("/notifications#choices"), "unsubscribe": UNSUBSCRIBE}
        written = self._letter("", "", subject, "notification", values, {})
        letters = []
        for key, (account_id, name, email), notification_id in recipients:
            unsubscribe = self.link(f"/unsubscribe/{self.unsubscribe_token(account_id, about.kind)}")
            headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
            if reply:
                headers["Reply-To"] = self.reply_address(notification_id)
            text = written.text.replace(NAME, name).replace(UNSUBSCRIBE, unsubscribe)
            html = written.html.replace(NAME, str(escape(name))).replace(UNSUBSCRIBE, unsubscribe)
            letters.append(Letter(key=key, to=email, subject=subject, text=text, html=html, headers=headers))
        return letters

    def digest(self, key: str, to: str, name: str, items: list[About]) -> Letter:
        values = {"items": items, "name": name, "link": self.link, "settings": self.link("/notifications#choices")}
        subject = f"What happened in your circles: {len(items)} notification{'s' if len(items) != 1 else ''}"
        return self._letter(key, to, subject, "digest", values, {})

    def invitation(self, key: str, to: str, circle: str, inviter: str, link: str) -> Letter:
        values = {"circle": circle, "inviter": inviter, "link": link}
        return self._letter(key, to, f"{inviter} invites you to {circle}", "invitation", values, {})

    def answer(self, key: str, to: str, subject: str, lines: list[str], link: str, in_reply_to: str) -> Letter:
        """The confirmation, or the error, sent back to a member who answered by mail."""
        headers = {"In-Reply-To": in_reply_to, "References": in_reply_to} if in_reply_to else {}
        return self._letter(key, to, subject, "answer", {"lines": lines, "link": link}, headers)

    def _letter(
        self, key: str, to: str, subject: str, template: str, values: dict[str, Any], headers: dict[str, str]
    ) -> Letter:
        values = {**values, "site": self.site, "subject": subject}
        text = self.templates.get_template(f"mail/{template}.txt").render(values)
        html = self.templates.get_template(f"mail/{template}.html").render(values)
        return Letter(key=key, to=to, subject=subject, text=text, html=html, headers=headers)
