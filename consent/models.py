"""Every table of the application, gathered on one metadata for Alembic."""

from advanced_alchemy.base import orm_registry

import circles.models  # noqa: F401  (registers the tables)
import consent.accounts.models
import consent.base.outbox
import consent.decisions.models
import consent.notifications.models  # noqa: F401
import rounds.meetings.models
import rounds.models  # noqa: F401

metadata = orm_registry.metadata
