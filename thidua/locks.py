"""Cross-process locks on files, so overlapping runs take turns instead of colliding.

DuckDB lets one process open the warehouse for writing, and no other process may read
it meanwhile; a scheduled run overlapping a manual one would fail on "Could not set
lock".  Every warehouse connection therefore holds `<warehouse>.lock` (see
`warehouse.db.connect`), and a flow that must not overlap itself (collect, remind)
holds a lock of its own for the whole run.  The locks are `flock`s: the kernel frees
them when a process dies, so a crash never leaves one behind.  Within one process the
same lock is re-entrant (threads of a flow share the process's DuckDB instance).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from thidua.errors import ThiduaError

DEFAULT_TIMEOUT = 900.0  # s; runs take `lock_timeout` from settings

_guard = threading.Lock()
_held: dict[str, list[int]] = {}  # lock path -> [fd, holders in this process]


class LockTimeout(ThiduaError):
    "Another process held the lock for longer than the timeout"


@contextmanager
def file_lock(path: Path, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Hold the exclusive lock `path` (created if missing), waiting up to `timeout` s."""
    key = str(Path(path).absolute())
    with _guard:
        entry = _held.get(key)
        if entry:
            entry[1] += 1
    if not entry:
        fd = _acquire(key, timeout)
        with _guard:
            _held[key] = [fd, 1]
    try:
        yield
    finally:
        with _guard:
            entry = _held[key]
            entry[1] -= 1
            if entry[1] == 0:
                del _held[key]
                os.close(entry[0])  # closing the descriptor releases the flock


def _acquire(key: str, timeout: float) -> int:
    Path(key).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key, os.O_CREAT | os.O_RDWR, 0o644)
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise LockTimeout(
                    f"{key} still held by another process after {timeout:.0f} s"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
