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

import os
import sys
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Hashable

import torch


_job = threading.local()            # .stop: the Event of the look-ahead job this thread runs, if any


class Cancelled(Exception):
    """A look-ahead job was stopped because the user asked for something else."""


def checkpoint() -> None:
    """Between chunks of long work: in a look-ahead job that is no longer wanted, raise Cancelled; elsewhere nothing."""
    stop = getattr(_job, "stop", None)
    if stop is not None and stop.is_set():
        raise Cancelled


class Ahead:
    """`get(key, compute)`: the memo's value for key, else compute() kept. `ahead(jobs)`: compute these (key,
    compute) pairs in the background, in order, replacing any not yet started (the latest wish wins), the first
    no sooner than `start_delay` seconds after the call (time for the caller to finish what it is doing)."""

    def __init__(self, max_entries: int = 64, start_delay: float = 0.0):
        self.max_entries, self.start_delay = int(max_entries), float(start_delay)
        self._not_before = 0.0
        self._done: OrderedDict[Hashable, Any] = OrderedDict()
        self._running: dict[Hashable, tuple[threading.Event, threading.Event]] = {}   # key: (done, stop)
        self._pending: list[tuple[Hashable, Callable[[], Any]]] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self.hits = self.misses = self.waits = self.computed_ahead = self.cancelled = 0

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._wake:
            if key in self._done:
                self.hits += 1
                self._done.move_to_end(key)
                return self._done[key]
            running = self._running.get(key)
        if running is not None:                 # the background thread is on it: its result comes sooner
            running[0].wait()
            with self._wake:
                if key in self._done:
                    self.waits += 1
                    return self._done[key]
        with self._wake:                        # a miss: every guess gives way to it
            self.misses += 1
        self.only(lambda k: False)
        value = compute()
        self._keep(key, value)
        return value

    def ahead(self, jobs: list[tuple[Hashable, Callable[[], Any]]]) -> None:
        with self._wake:
            self._pending = [(k, f) for k, f in jobs if k not in self._done and k not in self._running]
            self._not_before = time.monotonic() + self.start_delay
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="ahead", daemon=True)
                self._thread.start()
            self._wake.notify()

    def only(self, keep: Callable[[Hashable], bool]) -> None:
        """Stop the guesses, running or not yet started, whose key `keep` rejects: the user asked for another."""
        with self._wake:
            self._pending = [(k, f) for k, f in self._pending if keep(k)]
            for k, (_, stop) in self._running.items():
                if not keep(k):
                    stop.set()

    def idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing is pending or running (for tests and benches); False on timeout."""
        with self._wake:
            return self._wake.wait_for(lambda: not self._pending and not self._running, timeout)

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
                while not self._pending:
                    self._wake.notify_all()             # idle() waiters
                    if not self._wake.wait(timeout=60.0) and not self._pending:
                        self._thread = None
                        return
                wait = self._not_before - time.monotonic()
                if wait > 0:                    # a newer wish may replace these meanwhile
                    self._wake.wait(wait)
                    continue
                key, compute = self._pending.pop(0)
                if key in self._done or key in self._running:
                    continue
                done, _job.stop = self._running[key] = (threading.Event(), threading.Event())
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
                _job.stop = None
                with self._wake:
                    del self._running[key]
                    self._wake.notify_all()
                done.set()


def lowest_priority() -> None:
    """Nice 19 for the calling thread only (Linux: a thread id is a valid PRIO_PROCESS target); elsewhere nothing."""
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except OSError:
            pass
