"""The proposal tests' circle and clock, with the notifier looking every 0.1 s (mails in the
recipient's zone)."""

from tests.notifications.conftest import circle, clock, settings  # noqa: F401  (the same fixtures)
