"""A GAN-lab session trained in its own process, so training and the web server each get a core.

In one process, a training thread and the server fight over the GIL (tiny networks are all Python
overhead): the page managed about one frame a second. Here the child owns the LabSession, trains in short
chunks while playing, and answers commands from the page between chunks. The process machinery (forkserver,
pipe, idle pause and exit, the cap of worker_limits.max_workers() per server) is playground.workers'.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from playground.configs import changed_fields
from playground.toy.config import LIVE_FIELDS, ToyConfig
from playground.toy.lab import LabView
from playground.workers import Session, Worker, live_workers

__all__ = ["PROCESS_NAME", "LabWorker", "live_workers"]
PROCESS_NAME = "gan-lab-worker"     # the workers' name in the process table (/proc/PID/comm, `ps -o comm`)


class LabWorker(Worker):
    """Parent-side handle on a GAN-lab training process. All calls are thread-safe and return plain data.

    Raises WorkerLimitError when the server already runs max_workers() of them."""

    process_name = PROCESS_NAME

    def __init__(self, cfg: ToyConfig, points: np.ndarray | None = None, *, pause_after: float = 10.0,
                 exit_after: float | None = None):
        super().__init__(_GanSession, pause_after=pause_after, exit_after=exit_after)
        self._reset_lock = threading.Lock()
        self.cfg: ToyConfig = cfg
        try:
            self.reset(cfg, points)
        except BaseException:
            self.close()                # nobody else holds this handle: its process must not outlive it
            raise

    @property
    def dim(self) -> int:
        """1 or 2: the current target's dimension (a custom target's comes from its points)."""
        return self._view.gan.dim

    # ---- the session ----------------------------------------------------------------------------------

    def needs_reset(self, new: ToyConfig) -> set[str]:
        return changed_fields(self.cfg, new) - LIVE_FIELDS

    def reset(self, cfg: ToyConfig, points: np.ndarray | None = None) -> None:
        """New networks from `cfg` in the same process, paused, at full speed (no rate cap)."""
        with self._reset_lock:       # a snapshot never pairs one session's weights with another's view
            self.cfg = self._call("reset", cfg, points)
            self._view = LabView(self.cfg, points)

    def apply(self, cfg: ToyConfig) -> None:
        self.cfg = self._call("apply", cfg)

    def play(self) -> None:
        self._call("play")

    def pause(self) -> None:
        self._call("pause")

    def set_rate(self, rate: float | None) -> None:
        self._call("rate", rate)

    def step(self, which: str) -> None:
        self._call("step", which)

    def snapshot(self, show_arrows: bool = True, show_manifold: bool = False) -> dict[str, Any]:
        """The current picture plus `stats` (step, playing, iterations/s, error). The training process only
        copies out its weights and curves; the forward passes of the picture run here, in the caller."""
        with self._reset_lock:
            state, view = self._call("state"), self._view
        return view.snapshot(state, show_arrows, show_manifold)

    def stats(self) -> dict[str, Any]:
        return self._call("stats")

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        return self._call("sample", n, seed)


class _GanSession(Session):
    """The child side: a LabSession trained at full speed or at a capped rate, with its own counters."""

    def __init__(self) -> None:
        self.lab = None
        self.playing = False
        self.rate: float | None = None
        self.budget = 0.0
        self.last_tick = time.perf_counter()
        self.last_eval = 0.0
        self.st = {"iterations": 0, "train_seconds": 0.0, "error": None}

    def stats(self) -> dict[str, Any]:
        st = self.st
        return {"step": self.lab.gan.step if self.lab else 0, "playing": self.playing,
                "iterations": st["iterations"], "train_seconds": st["train_seconds"], "error": st["error"],
                "steps_per_sec": st["iterations"] / st["train_seconds"] if st["train_seconds"] > 0 else 0.0}

    def handle(self, cmd: str, args: tuple) -> Any:
        from playground.toy.lab import LabSession

        lab = self.lab
        if cmd == "reset":
            self.lab = LabSession(*args)
            self.playing, self.rate, self.budget = False, None, 0.0
            self.st.update(iterations=0, train_seconds=0.0, error=None)
            return self.lab.cfg
        if cmd == "apply":
            lab.gan.apply(args[0])
            return lab.cfg
        if cmd == "play":
            self.playing, self.st["error"] = True, None
            self.last_tick = time.perf_counter()
            return None
        if cmd == "pause":
            self.playing = False
            return None
        if cmd == "rate":
            self.rate, self.budget = args[0], 0.0
            return None
        if cmd == "step":
            self.playing = False
            lab.gan.single_step(args[0])
            lab.evaluate_now()
            return None
        if cmd == "state":
            now = time.perf_counter()
            stale = lab.metrics[-1]["step"] != lab.gan.step
            if stale and (not self.playing or now - self.last_eval > 0.5):
                lab.evaluate_now()
                self.last_eval = now
            result = lab.state()
            result["stats"] = self.stats()
            return result
        if cmd == "stats":
            return self.stats()
        if cmd == "sample":
            return lab.gan.sample(*args)
        raise ValueError(f"unknown command {cmd}")

    def train_chunk(self) -> None:
        lab = self.lab
        if lab is None:
            return
        try:
            t0 = time.perf_counter()
            if self.rate is None:
                n = lab.gan.train_for(0.01)
            else:
                self.budget = min(self.budget + (t0 - self.last_tick) * self.rate, max(1.0, self.rate * 0.2))
                self.last_tick = t0
                n = int(self.budget)
                self.budget -= n
                if n:
                    lab.gan.train(n)
                else:
                    time.sleep(min(0.02, (1 - self.budget) / self.rate))
            self.st["iterations"] += n
            self.st["train_seconds"] += time.perf_counter() - t0 if n else 0.0
            # (only after steps ran: before the first one the last losses are NaN placeholders)
            if n and (not np.isfinite(lab.gan._last_d.item()) or not np.isfinite(lab.gan._last_g.item())):
                raise FloatingPointError("a loss became NaN or infinite; lower the learning rates and reset")
        except Exception as e:  # noqa: BLE001 - shown on the page, training paused
            self.st["error"] = f"training stopped: {e}"
            self.playing = False
