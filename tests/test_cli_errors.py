"""A user error raised inside a DataLoader worker still prints as one line."""

from rfdreid.cli.main import one_line
from rfdreid.errors import ReIDError


def test_worker_wrapped_error_is_reduced_to_its_message():
    wrapped = ReIDError(
        "Caught ReIDError in DataLoader worker process 0.\nOriginal Traceback (most recent "
        "call last):\n  File \"x.py\", line 1, in f\nrfdreid.errors.ReIDError: cannot read "
        "image /d/a.jpg (truncated)\n"
    )
    assert one_line(wrapped) == "cannot read image /d/a.jpg (truncated)"
    assert one_line(ReIDError("plain message")) == "plain message"
