"""How many GAN-lab training processes one server may run, and how long an unattended one lives.

Every browser session of the GAN lab trains in a process of its own, which holds a whole torch runtime
(about 0.4 GB resident, most of it shared with its siblings). A server hosting a class must bound them:
the settings below have defaults worked out from the machine and are overridden by environment variables.
"""

from __future__ import annotations

import os
from pathlib import Path

from playground.errors import PlaygroundError

ENV_MAX_WORKERS = "PLAYGROUND_LAB_WORKERS"    # live training processes per server
ENV_IDLE_EXIT = "PLAYGROUND_LAB_IDLE_S"       # seconds without a request before a process ends
DEFAULT_IDLE_EXIT_S = 300.0
# Memory one more worker costs, with a wide margin: its private pages start near 30 MB (forked from a
# preloaded server) and grow as Python touches the shared ones.
WORKER_BYTES = 256 * 2**20


class WorkerLimitError(PlaygroundError):
    """Every training slot of this server is taken (`cap` of them)."""

    def __init__(self, cap: int):
        super().__init__(f"all {cap} training processes of this server are in use; one ends when its page "
                         f"closes or after {idle_exit_s():g} s unused ({ENV_MAX_WORKERS} sets the number)")
        self.cap = cap


def default_max_workers(cores: int, memory_bytes: int) -> int:
    """Two per core (a paused process costs no CPU, a playing one about a core), within half the memory."""
    return max(1, min(2 * cores, memory_bytes // 2 // WORKER_BYTES))


def machine() -> tuple[int, int]:
    """(usable cores, usable memory in bytes): the CPU affinity mask and the cgroup memory limit count."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            memory = min(memory, int(limit))
    except OSError:
        pass
    return cores, memory


def _env_number(name: str, kind: type, minimum: float) -> float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise PlaygroundError(f"{name}={raw!r} must be a number of at least {minimum:g}")
    return value


def max_workers() -> int:
    """The cap on live training processes: $PLAYGROUND_LAB_WORKERS, else worked out from the machine."""
    value = _env_number(ENV_MAX_WORKERS, int, 1)
    return int(value) if value is not None else default_max_workers(*machine())


def idle_exit_s() -> float:
    """Seconds a training process lives without any request (frames, steps, settings) from its page."""
    value = _env_number(ENV_IDLE_EXIT, float, 0.1)
    return float(value) if value is not None else DEFAULT_IDLE_EXIT_S
