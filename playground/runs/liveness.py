"""Is the process that owns a run still alive? Host-aware: a pid recorded on another machine is not checked here.

A process is identified by (pid, host, start time): the start time (from /proc, where there is one) tells a
live owner from an unrelated process that was given the same pid after the owner died.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path


def this_host() -> str:
    return socket.gethostname()


def process_start(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux /proc), or None where unknown."""
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{int(pid)}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def pid_alive(pid: int | None, host: str | None = None, started: int | None = None) -> bool | None:
    """True/False for a process on this machine (zombies and reused pids count as dead); None if it ran on
    another host, where this machine cannot tell."""
    if not pid:
        return False
    if host and host != this_host():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass                                        # alive, owned by someone else
    except (OSError, ValueError, OverflowError):
        return False
    if _zombie(pid):
        return False
    if started is not None:
        now = process_start(pid)
        if now is not None and now != started:
            return False                            # the pid was reused by another process
    return True


def me() -> dict:
    """This process as an owner record: pid, host, start time."""
    pid = os.getpid()
    return {"pid": pid, "host": this_host(), "proc_start": process_start(pid), "since": time.time()}


def describe(owner: dict) -> str:
    """`pid@host`, how messages name an owner."""
    return f"{owner.get('pid')}@{owner.get('host') or '?'}"
