"""Progress bars that suit both a terminal and a log file.

Why: a tqdm bar redraws itself with carriage returns several times a second; in a log
(CI, `nohup`, a scheduler) every redraw stays, thousands per run. When the output is not a
terminal, :func:`progress` writes one plain line each time another few percent are done.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO, TypeVar

from tqdm import tqdm

T = TypeVar("T")

LOG_STEP_PERCENT = 5


class LogLines(tqdm):
    """A tqdm that writes whole lines: one per `step_percent` of the total, and the last one.

    Nothing is written before the first step is done, so a job that fails at once leaves
    only its error in the log.
    """

    def __init__(self, *args: Any, step_percent: float = LOG_STEP_PERCENT, **kwargs: Any) -> None:
        self._step_percent = step_percent
        super().__init__(*args, **kwargs)
        self._shown_step = self._step()
        self._shown_n = self.n

    def _step(self) -> int | None:
        return int(100 * self.n / self.total // self._step_percent) if self.total else None

    def _write_line(self) -> None:
        self.fp.write(f"{self}\n")
        self.fp.flush()
        self._shown_n = self.n

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        if msg == "" or not hasattr(self, "_shown_step"):  # clearing, or tqdm's own first draw
            return False
        step = self._step()
        if step != self._shown_step:
            self._shown_step = step
            self._write_line()
        return True

    def close(self) -> None:
        if not self.disable and self._shown_n != self.n:
            self._write_line()
        self.leave = False  # the lines are whole: no closing newline to add
        super().close()


def progress(
    iterable: Iterable[T] | None = None,
    *,
    desc: str,
    unit: str,
    total: int | None = None,
    initial: int = 0,
    leave: bool = True,
    enabled: bool = True,
    file: TextIO | None = None,
) -> tqdm:
    """A redrawn bar on a terminal, plain lines every few percent otherwise (default stderr)."""
    file = file or sys.stderr
    options: dict[str, Any] = dict(desc=desc, unit=unit, total=total, initial=initial,
                                   leave=leave, disable=not enabled, file=file)
    if getattr(file, "isatty", lambda: False)():
        return tqdm(iterable, dynamic_ncols=True, **options)
    return LogLines(iterable, ascii=True, **options)
