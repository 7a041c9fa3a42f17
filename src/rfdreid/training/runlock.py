"""An exclusive lock on a run folder, so two `rfdreid train` never write the same run.

Why flock: the kernel drops the lock when its holder dies (even by kill -9), so a
crashed run never leaves a folder locked for ever; the file records the holder's pid
so the refused writer can say who holds it.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rfdreid.errors import ReIDError

LOCK_NAME = ".lock"


@contextmanager
def run_lock(folder: Path) -> Iterator[None]:
    """Hold `<folder>/.lock` while the block runs; ReIDError naming the holder if taken."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK_NAME).open("a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise ReIDError(
                f"run folder {folder} is being written by {holder}; wait for it to finish "
                "or choose another train.out_dir"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        f.flush()
        try:
            yield
        finally:
            f.truncate(0)
            fcntl.flock(f, fcntl.LOCK_UN)
