"""Imports every command module so that it registers on the app (one line per module)."""

from rfdreid.cli import prepare  # noqa: F401
