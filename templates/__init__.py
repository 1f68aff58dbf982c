"""Jinja2 templates for every page, one folder per package; installed as package data."""
