"""The consent application: shell, accounts, the decision log and the CLI."""
