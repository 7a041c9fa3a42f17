"""Imports every command module so that it registers on the app (one line per module)."""

from rfdreid.cli import demo, evaluate, prepare, reproduce, train  # noqa: F401
from rfdreid.cli import info, model_info, presets  # noqa: F401
from rfdreid.cli import export, search, serve  # noqa: F401
