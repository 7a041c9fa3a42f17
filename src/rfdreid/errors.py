"""User-facing errors.

Anything a user can fix (a missing folder, a badly named file, a checkpoint of the wrong
kind) raises :class:`ReIDError`; the CLI prints its message as one line and exits with
status 1 instead of showing a traceback.
"""


class ReIDError(Exception):
    """An error caused by user input; the message names the file and the fix."""
