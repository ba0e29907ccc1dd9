"""Results computed ahead of the user: a small keyed memo that one background thread fills with what the user
is likely to ask for next (the neighbours of the image on screen), so stepping through them finds each result
ready. A request for a result the thread is computing waits for it instead of computing it twice.

Thread-safe, so one object may serve every session of a page. The background thread runs torch on one thread
at the lowest scheduling priority (on Linux, where niceness is per thread), so it takes only the cycles the
server and the browser leave idle, and a request the memo cannot answer stops the guesses (they give way at
their next `checkpoint()`, which long engine loops call between chunks): a guess must never slow down what the
user did ask for. A result is the same whichever thread made it.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
import weakref
from collections import OrderedDict
from typing import Any, Callable, Hashable

import torch


_job = threading.local()            # .current: the _Job this thread runs, if any
_ALL: "weakref.WeakSet[Ahead]" = weakref.WeakSet()
EXITING = threading.Event()         # set when the interpreter ends: background loops stop at their next chunk
_BACKGROUND: list[threading.Thread] = []


def background_thread(target: Callable[[], None], name: str) -> threading.Thread:
    """A started daemon thread for work behind the page that the interpreter's end waits for (its loop should
    return once EXITING is set)."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    _BACKGROUND[:] = [t for t in _BACKGROUND if t.is_alive()] + [thread]
    thread.start()
    return thread


@atexit.register
def _stop_all() -> None:
    """A daemon thread still inside torch when the interpreter ends aborts the process ("terminate called
    without an active exception", exit 134): stop every guess at its next checkpoint, and wait for the
    background threads."""
    EXITING.set()
    for a in list(_ALL):
        a.only(lambda key: False)
        with a._wake:
            a._wake.notify_all()
    for thread in list(_BACKGROUND):
        thread.join(timeout=30)


class Cancelled(Exception):
    """A look-ahead job was stopped because the user asked for something else."""


class _Job:
    """One computation under way. `stop` is None for a request's own (foreground) computation, which nothing
    stops; `beats` counts the job's checkpoints, so a waiter can tell a slow guess from a starved one."""

    __slots__ = ("done", "stop", "beats", "waiters")

    def __init__(self, background: bool):
        self.done, self.stop, self.beats = threading.Event(), threading.Event() if background else None, 0
        self.waiters = 0                    # requests waiting for it: only() leaves it alone


def checkpoint() -> None:
    """Between chunks of long work: in a look-ahead job that is no longer wanted, raise Cancelled; elsewhere nothing."""
    job = getattr(_job, "current", None)
    if job is not None:
        job.beats += 1
        if job.stop is not None and job.stop.is_set():
            raise Cancelled


class Ahead:
    """`get(key, compute)`: the memo's value for key, else compute() kept. `ahead(jobs)`: compute these (key,
    compute) pairs in the background, in order, replacing any not yet started (the latest wish wins), the first
    no sooner than `start_delay` seconds after the call (time for the caller to finish what it is doing).

    A request for a key under way waits for it, whoever computes it (two sessions asking at once compute once),
    but not for a guess that reached no checkpoint in `patience` seconds (starved at its low priority by other
    work): that one is stopped and the request computes the value itself."""

    def __init__(self, max_entries: int = 64, start_delay: float = 0.0, patience: float = 1.0):
        self.max_entries, self.start_delay, self.patience = int(max_entries), float(start_delay), float(patience)
        self._not_before = 0.0
        self._done: OrderedDict[Hashable, Any] = OrderedDict()
        self._running: dict[Hashable, _Job] = {}
        self._pending: list[tuple[Hashable, Callable[[], Any]]] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._busy = False                  # the background thread is in a job (a stopped one may no longer be listed)
        self.hits = self.misses = self.waits = self.computed_ahead = self.cancelled = self.starved = 0
        _ALL.add(self)

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        while True:
            with self._wake:
                if key in self._done:
                    self.hits += 1
                    self._done.move_to_end(key)
                    return self._done[key]
                job = self._running.get(key)
                if job is None:             # a miss: this request computes it, and others asking meanwhile wait
                    self.misses += 1
                    mine = self._running[key] = _Job(background=False)
                    break
                job.waiters += 1
            try:
                finished = self._wait(job)
            finally:
                with self._wake:
                    job.waiters -= 1
            if finished:
                with self._wake:
                    if key in self._done:
                        self.waits += 1
                        return self._done[key]
            else:                               # starved: stop it and compute here
                job.stop.set()
                with self._wake:
                    self.starved += 1
                    if self._running.get(key) is job:
                        del self._running[key]
        self.only(lambda k: False)              # every guess gives way to what the user waits for
        try:
            value = compute()
            self._keep(key, value)
            return value
        finally:
            self._finish(key, mine)

    def _wait(self, job: _Job) -> bool:
        """Wait for job to end; False if it is a guess that made no progress for `patience` seconds."""
        if job.stop is None:
            job.done.wait()
            return True
        while True:
            beats = job.beats
            if job.done.wait(self.patience):
                return True
            if job.beats == beats:
                return False

    def _finish(self, key: Hashable, job: _Job) -> None:
        with self._wake:
            if self._running.get(key) is job:       # a starved guess's entry may already belong to a request
                del self._running[key]
            self._wake.notify_all()
        job.done.set()

    def ahead(self, jobs: list[tuple[Hashable, Callable[[], Any]]]) -> None:
        with self._wake:
            self._pending = [(k, f) for k, f in jobs if k not in self._done and k not in self._running]
            self._not_before = time.monotonic() + self.start_delay
            if self._thread is None or not self._thread.is_alive():
                self._thread = background_thread(self._work, "ahead")
            self._wake.notify()

    def only(self, keep: Callable[[Hashable], bool]) -> None:
        """Stop the guesses, running or not yet started, whose key `keep` rejects: the user asked for another.
        A request's own computation is never stopped, nor a guess that a request (another session's) waits for."""
        with self._wake:
            self._pending = [(k, f) for k, f in self._pending if keep(k)]
            for k, job in self._running.items():
                if job.stop is not None and not job.waiters and not keep(k):
                    job.stop.set()

    def idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing is pending or running (for tests and benches); False on timeout."""
        with self._wake:
            return self._wake.wait_for(lambda: not (self._pending or self._running or self._busy), timeout)

    def __contains__(self, key: Hashable) -> bool:
        with self._wake:
            return key in self._done

    def _keep(self, key: Hashable, value: Any) -> None:
        with self._wake:
            self._done[key] = value
            self._done.move_to_end(key)
            while len(self._done) > self.max_entries:
                self._done.popitem(last=False)

    def _work(self) -> None:
        torch.set_num_threads(1)            # a new thread starts with torch's default (every core)
        lowest_priority()
        while True:
            with self._wake:
                while not self._pending or EXITING.is_set():
                    self._wake.notify_all()             # idle() waiters
                    if EXITING.is_set() or (not self._wake.wait(timeout=60.0) and not self._pending):
                        self._thread = None
                        return
                wait = self._not_before - time.monotonic()
                if wait > 0:                    # a newer wish may replace these meanwhile
                    self._wake.wait(wait)
                    continue
                key, compute = self._pending.pop(0)
                if key in self._done or key in self._running:
                    continue
                job = _job.current = self._running[key] = _Job(background=True)
                self._busy = True
            try:
                value = compute()
            except Cancelled:
                with self._wake:
                    self.cancelled += 1
            except Exception:            # noqa: BLE001 - a failed guess is dropped; get() computes it and reports
                pass
            else:
                self._keep(key, value)
                with self._wake:
                    self.computed_ahead += 1
            finally:
                _job.current = None
                with self._wake:
                    self._busy = False
                self._finish(key, job)


def lowest_priority() -> None:
    """Nice 19 for the calling thread only (Linux: a thread id is a valid PRIO_PROCESS target); elsewhere nothing."""
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except OSError:
            pass
