"""Jinja2 templates for every page, one folder per package; installed as package data."""

from __future__ import annotations

from pathlib import Path

import jinja2


def markdown() -> jinja2.Environment:
    """An environment for Markdown exports (a decision's minutes, a meeting's): nothing is
    escaped, and blocks take their line with them, so a template reads like its output."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
