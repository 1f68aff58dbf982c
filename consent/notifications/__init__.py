"""Telling people what needs them: notifications on the page and by mail, reminders before
deadlines, digests, and answering a proposal by replying to its mail."""
