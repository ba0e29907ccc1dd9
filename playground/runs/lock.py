"""One writer per run directory: an advisory lock (flock) on `<run>/LOCK`, held for the whole training.

The kernel drops the lock when its process ends, however it ends, so a lock left by a killed trainer never
blocks a resume; the file itself only records who holds it (pid, host, start time) for the message that
refuses a second writer. Readers never take the lock: they judge liveness from status.json's pid.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Self

from playground.errors import PlaygroundError
from playground.runs.liveness import describe, me

LOCK = "LOCK"


class RunInUse(PlaygroundError):
    """Another process writes this run directory."""


def lock_owner(run_path: Path | str) -> dict | None:
    """The owner recorded in the lock file (it may have ended since), or None."""
    try:
        data = json.loads((Path(run_path) / LOCK).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class WriterLock:
    """`with WriterLock(run_dir):` ... or acquire()/release(). Raises RunInUse naming the owner (pid@host)."""

    def __init__(self, run_path: Path | str):
        self.path = Path(run_path) / LOCK
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> WriterLock:
        if self._fd is not None:
            return self
        for _ in range(10):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                owner = lock_owner(self.path.parent) or {}
                since = owner.get("since")
                when = f" since {time.strftime('%H:%M:%S', time.localtime(since))}" if since else ""
                raise RunInUse(f"{self.path.parent} is in use by pid {describe(owner)}{when}: stop that training "
                               "first, or choose another run directory") from None
            except OSError:
                os.close(fd)
                raise
            # The holder we replaced may have unlinked the file between our open and flock: lock the live file.
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, (json.dumps(me()) + "\n").encode())
            self._fd = fd
            return self
        raise RunInUse(f"{self.path.parent}: could not take the writer lock (it keeps changing hands)")

    def release(self) -> None:
        """Remove the lock file, then drop the lock (in that order: nobody can lock a file on its way out)."""
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
