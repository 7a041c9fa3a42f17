"""Progress in logs: whole lines every few percent instead of carriage-return redraws."""

from __future__ import annotations

import io

from rfdreid.progress import LogLines, progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_output_gets_one_line_per_five_percent() -> None:
    buf = io.StringIO()
    for _ in LogLines(range(100), desc="extract", file=buf, mininterval=0, miniters=1):
        pass
    text = buf.getvalue()
    assert "\r" not in text and text.endswith("\n")
    percents = [int(line.split("%")[0].split()[-1]) for line in text.splitlines()]
    assert percents == list(range(5, 101, 5))


def test_helper_picks_lines_for_a_log_and_a_bar_for_a_terminal() -> None:
    log = io.StringIO()
    bar = progress(desc="train", unit="it", total=1000, initial=100, leave=False, file=log)
    assert isinstance(bar, LogLines)
    for _ in range(900):
        bar.update(1)
    bar.close()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and 1 <= len(lines) <= 18  # steps 15%..100%
    assert lines[-1].startswith("train: 100%") and "1000/1000" in lines[-1]
    terminal = progress(range(3), desc="x", unit="it", file=_Terminal())
    assert not isinstance(terminal, LogLines)
    terminal.close()


def test_disabled_progress_writes_nothing() -> None:
    buf = io.StringIO()
    assert list(progress(range(5), desc="x", unit="it", enabled=False, file=buf)) == [0, 1, 2, 3, 4]
    assert buf.getvalue() == ""


def test_a_job_that_fails_before_any_progress_leaves_no_line() -> None:
    buf = io.StringIO()
    bar = progress(desc="extract", unit="batch", total=10, file=buf)
    bar.close()
    assert buf.getvalue() == ""
