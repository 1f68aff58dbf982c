"""Accounts: sign-up, sign-in (browser sessions and bearer tokens for scripts), sign-out."""
