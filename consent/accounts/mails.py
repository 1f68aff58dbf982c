"""The account's own mails: the link that confirms a new email, the notice to the old one, and
the password reset link. Each is queued in the outbox in the transaction that causes it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jinja2
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consent.accounts import rules
from consent.base import i18n, outbox
from consent.base.i18n import N_
from consent.base.i18n import gettext as _
from consent.base.outbox import Letter, Mail


@dataclass(frozen=True)
class AccountMail:
    """Writes and queues the account mails: the templates, the base URL links start with, the
    sender, and the key that signs the links (consent.accounts.rules)."""

    templates: jinja2.Environment
    site: str
    mail_from: str
    secret: str

    async def email_change(self, db: AsyncSession, now: datetime, account: Any, new_email: str) -> None:
        token = rules.email_change_link(self.secret, account.id, account.email, new_email, now)
        values = {"name": account.name, "link": f"{self.site}/account/email/{token}"}
        await self._queue(db, now, new_email, N_("Confirm your new email"), "email_change", values, account.language)

    async def email_changed(self, db: AsyncSession, now: datetime, account: Any, old_email: str) -> None:
        values = {"name": account.name, "new_email": account.email}
        await self._queue(db, now, old_email, N_("Your email was changed"), "email_changed", values, account.language)

    async def password_reset(self, db: AsyncSession, now: datetime, account: Any) -> None:
        token = rules.password_reset_link(self.secret, account.id, account.password_hash, now)
        values = {"name": account.name, "link": f"{self.site}/password-reset/{token}"}
        await self._queue(
            db, now, account.email, N_("Choose a new password"), "password_reset", values, account.language
        )

    async def _queue(
        self,
        db: AsyncSession,
        now: datetime,
        to: str,
        subject: str,
        template: str,
        values: dict[str, Any],
        language: str | None,
    ) -> None:
        # in the account's language, else the one of the request that causes it (docs/i18n.md)
        with i18n.using(language or i18n.current()):
            subject = _(subject)
            values = {**values, "site": self.site, "subject": subject}
            letter = Letter(
                key=f"{template}:{uuid.uuid4()}",
                to=to,
                subject=subject,
                text=self.templates.get_template(f"mail/{template}.txt").render(values),
                html=self.templates.get_template(f"mail/{template}.html").render(values),
                headers={},
            )
        await db.execute(insert(Mail), outbox.rows([letter], self.mail_from, now))
