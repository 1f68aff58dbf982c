"""The consent process: proposals, revisions, rounds, responses, objections and events."""
