"""One clock for everything with a deadline or a date: `create_app` is given it, handlers
have it injected, and tests move it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def today(clock: Clock) -> date:
    return clock().date()
