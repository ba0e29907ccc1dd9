"""Trains a LabSession on a background thread while a page polls snapshots.

The thread never touches the UI: it only calls the engine under the session's lock, in short chunks so a
snapshot can slip in between. It pauses itself when nobody has looked for `idle_timeout` seconds (a
closed tab), so abandoned sessions stop using the CPU. Training is deterministic whatever the timing,
because snapshots and metrics never draw from the training generator.
"""

from __future__ import annotations

import threading
import time

from playground.toy.lab import LabSession


class BackgroundTrainer:
    def __init__(self, lab: LabSession, chunk_seconds: float = 0.02, idle_timeout: float = 5.0):
        self.lab = lab
        self.chunk_seconds = chunk_seconds
        self.idle_timeout = idle_timeout
        self.max_rate: float | None = None     # iterations per second; None = as fast as possible
        self._playing = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_seen = time.monotonic()
        self.iterations = 0
        self.train_seconds = 0.0
        self.error: str | None = None

    @property
    def playing(self) -> bool:
        return self._playing.is_set() and self._thread is not None and self._thread.is_alive()

    def touch(self) -> None:
        """Called by the page on every frame: someone is still watching."""
        self.last_seen = time.monotonic()

    def play(self) -> None:
        self.touch()
        self.error = None
        self._playing.set()
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="toy-gan-trainer", daemon=True)
            self._thread.start()

    def pause(self) -> None:
        self._playing.clear()

    def stop(self) -> None:
        self._playing.clear()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def _run(self) -> None:
        budget = 0.0
        last = time.perf_counter()
        while not self._stop.is_set():
            if not self._playing.wait(timeout=0.2):
                last = time.perf_counter()
                continue
            if time.monotonic() - self.last_seen > self.idle_timeout:
                self._playing.clear()
                continue
            try:
                now = time.perf_counter()
                if self.max_rate is None:
                    t0 = time.perf_counter()
                    n = self.lab.advance(self.chunk_seconds)
                    self.train_seconds += time.perf_counter() - t0
                    self.iterations += n
                else:
                    budget = min(budget + (now - last) * self.max_rate, max(1.0, self.max_rate * 0.2))
                    last = now
                    n = int(budget)
                    if n >= 1:
                        budget -= n
                        t0 = time.perf_counter()
                        with self.lab.lock:
                            self.lab.gan.train(n)
                        self.train_seconds += time.perf_counter() - t0
                        self.iterations += n
                    else:
                        time.sleep(min(0.05, (1 - budget) / self.max_rate))
                # Let a waiting snapshot take the lock (Python locks are not fair).
                time.sleep(0.0005)
            except Exception as e:  # a diverged or broken run must not kill the server thread silently
                self.error = f"training stopped: {type(e).__name__}: {e}"
                self._playing.clear()
