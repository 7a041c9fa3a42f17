"""User-facing errors.

Anything a user can fix (a missing folder, a badly named file, a checkpoint of the wrong
kind) raises :class:`ReIDError`; the CLI prints its message as one line and exits with
status 1 instead of showing a traceback.
"""

from __future__ import annotations

import math


class ReIDError(Exception):
    """An error caused by user input; the message names the file and the fix."""


def finite_number(value: float, what: str) -> float:
    """`value`, or a ReIDError naming `what`: NaN or inf is never a meaningful setting (a
    NaN λ ranks arbitrarily, an infinite upload cap overflows), and both slip through
    range checks (`nan < 0` and `nan > 0` are both false; inf passes any minimum)."""
    if not math.isfinite(value):
        raise ReIDError(f"{what}={value} is invalid; it must be a finite number")
    return value
