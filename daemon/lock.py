"""One daemon per database: an exclusive ``flock`` on a file beside it.

The kernel drops the lock when the process dies, even by SIGKILL, so a
crashed daemon never leaves a stale lock behind, and a second daemon
started for the same database refuses to run instead of racing the first
for the same outbox.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from pos_promo.sync.errors import DaemonAlreadyRunning

__all__ = ["DatabaseLock", "lock_path"]


def lock_path(db: str | Path) -> Path:
    """The lock file beside ``db``: one daemon per till database, whatever the config file is
    called."""
    return Path(str(db) + ".sync.lock")


class DatabaseLock:
    """Hold the daemon lock of ``db`` for the life of a ``with`` block."""

    def __init__(self, db: str | Path) -> None:
        self.path = lock_path(db)
        self._fd: int | None = None

    def __enter__(self) -> DatabaseLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            raise DaemonAlreadyRunning(str(self.path), holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
