"""A GAN-lab session trained in its own process, so training and the web server each get a core.

In one process, a training thread and the server fight over the GIL (tiny networks are all Python
overhead): the page managed about one frame a second. Here the child owns the LabSession, trains in short
chunks while playing, and answers commands from the page between chunks. The pipe only ever carries our
own objects between our own processes (configs, numpy arrays); nothing user-supplied is unpickled.

Each process holds about 0.4 GB, so their lifetime is bounded three ways: the page closes its worker when
the browser session ends; a worker pauses after `pause_after` seconds without a request (a hidden tab) and
ends after `exit_after` (worker_limits.idle_exit_s); and it ends as soon as the server process is gone.
At most worker_limits.max_workers() of them live in one server; a new one beyond that is refused.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
import time
import types
from typing import Any

import numpy as np

from playground.configs import changed_fields
from playground.errors import PlaygroundError
from playground.toy.config import LIVE_FIELDS, ToyConfig
from playground.toy.lab import LabView
from playground.toy.worker_limits import WorkerLimitError, idle_exit_s, max_workers

PROCESS_NAME = "gan-lab-worker"     # the workers' name in the process table (/proc/PID/comm, `ps -o comm`)
_CTX = None
_live: set[LabWorker] = set()     # this server's workers, pruned of finished ones before each count
_live_lock = threading.Lock()


def _context():
    """forkserver: a clean server process, torch preloaded, forks each worker in milliseconds. torch._dynamo
    is preloaded too: torch.optim imports it on first use, which took 1.5 to 5 s in every new worker."""
    global _CTX
    if _CTX is None:
        try:
            _CTX = mp.get_context("forkserver")
            _CTX.set_forkserver_preload(["playground.toy.lab", "torch._dynamo"])
        except ValueError:  # platforms without forkserver
            _CTX = mp.get_context("spawn")
    return _CTX


def live_workers() -> list[LabWorker]:
    """The training processes of this server that are still running."""
    with _live_lock:
        _live.difference_update([w for w in _live if not w.alive])
        return list(_live)


class LabWorker:
    """Parent-side handle on a training process. All calls are thread-safe and return plain data.

    Raises WorkerLimitError when the server already runs max_workers() of them."""

    def __init__(self, cfg: ToyConfig, points: np.ndarray | None = None, *, pause_after: float = 10.0,
                 exit_after: float | None = None):
        exit_after = idle_exit_s() if exit_after is None else exit_after
        self._closing = False
        ctx = _context()
        with _live_lock:
            _live.difference_update([w for w in _live if not w.alive])
            cap = max_workers()
            if len(_live) >= cap:
                raise WorkerLimitError(cap)
            self._conn, child = ctx.Pipe()
            self._proc = ctx.Process(target=_serve, args=(child, pause_after, exit_after), daemon=True,
                                     name=PROCESS_NAME)
            # Under Streamlit, __main__ is the page script; a child process must not re-run it on start-up.
            main = sys.modules.get("__main__")
            sys.modules["__main__"] = types.ModuleType("__main__")
            try:
                self._proc.start()
            finally:
                if main is not None:
                    sys.modules["__main__"] = main
            child.close()
            _live.add(self)
        self._lock = threading.Lock()
        self._reset_lock = threading.Lock()
        self.cfg: ToyConfig = cfg
        try:
            self.reset(cfg, points)
        except BaseException:
            self.close()                # nobody else holds this handle: its process must not outlive it
            raise

    # ---- plumbing -------------------------------------------------------------------------------------

    def _call(self, cmd: str, *args: Any, timeout: float = 60.0) -> Any:
        with self._lock:
            if not self._proc.is_alive():
                raise PlaygroundError("the training process has stopped; press Reset to start a new one")
            self._conn.send((cmd, args))
            if not self._conn.poll(timeout):
                # Its late answer would be read as the next call's: this process is done for.
                self._proc.terminate()
                raise PlaygroundError(f"the training process did not answer '{cmd}' within {timeout:.0f} s; "
                                      "press Reset to start a new one")
            status, value = self._conn.recv()
        if status == "user_error":
            raise PlaygroundError(value)
        if status == "error":
            raise RuntimeError(value)
        return value

    @property
    def dim(self) -> int:
        """1 or 2: the current target's dimension (a custom target's comes from its points)."""
        return self._view.gan.dim

    @property
    def alive(self) -> bool:
        """False once the process has ended or close() has begun."""
        return not self._closing and self._proc.is_alive()

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def close(self, wait: bool = True) -> None:
        """End the process (politely, then by SIGTERM). `wait=False` returns at once and finishes in a
        thread: for callers that must not block, such as Streamlit's session-end hook on the event loop."""
        self._closing = True
        if not wait:
            threading.Thread(target=self.close, name="close-gan-lab-worker", daemon=True).start()
            return
        try:
            if self._proc.is_alive() and self._lock.acquire(timeout=5):
                try:
                    self._conn.send(("exit", ()))
                finally:
                    self._lock.release()
            self._proc.join(timeout=2)
        except (OSError, BrokenPipeError, ValueError):
            pass
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(timeout=2)
        with _live_lock:
            _live.discard(self)

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


def _name_process(name: str) -> None:
    """Show `name` as this process's command name (Linux /proc/PID/comm), so tools and tests can tell the
    training processes from the other forkserver children."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)     # 15 = PR_SET_NAME
    except (OSError, AttributeError):
        pass


def _serve(conn, pause_after: float, exit_after: float) -> None:
    import torch

    from playground.toy.lab import LabSession

    _name_process(PROCESS_NAME)
    first_parent = os.getppid()       # the forkserver, which itself ends when the server does
    try:
        # A session of its own is a scheduling group of its own where the kernel groups by session
        # (Linux autogroup, on by default on desktops): the browser's and the server's many threads then
        # share the CPU with training group against group instead of thread against thread.
        os.setsid()
    except OSError:
        pass
    torch.set_num_threads(1)
    lab: LabSession | None = None
    playing = False
    rate: float | None = None
    budget = 0.0
    last_tick = time.perf_counter()
    last_msg = last_parent_check = time.monotonic()
    last_eval = 0.0
    st = {"iterations": 0, "train_seconds": 0.0, "error": None}

    def stats() -> dict[str, Any]:
        return {"step": lab.gan.step if lab else 0, "playing": playing, "iterations": st["iterations"],
                "train_seconds": st["train_seconds"], "error": st["error"],
                "steps_per_sec": st["iterations"] / st["train_seconds"] if st["train_seconds"] > 0 else 0.0}

    while True:
        try:
            has_msg = conn.poll(0 if playing else 0.5)
        except (EOFError, OSError):
            return                                   # the server closed its end, or died
        now_m = time.monotonic()
        if now_m - last_parent_check > 1.0:
            if os.getppid() != first_parent:
                return                               # orphaned: the server and its forkserver are gone
            last_parent_check = now_m
        if has_msg:
            try:
                cmd, args = conn.recv()
            except (EOFError, OSError):
                return
            last_msg = now_m
            try:
                if cmd == "exit":
                    return
                if cmd == "reset":
                    lab = LabSession(*args)
                    playing, rate, budget = False, None, 0.0
                    st.update(iterations=0, train_seconds=0.0, error=None)
                    result: Any = lab.cfg
                elif cmd == "apply":
                    lab.gan.apply(args[0])
                    result = lab.cfg
                elif cmd == "play":
                    playing, st["error"] = True, None
                    last_tick = time.perf_counter()
                    result = None
                elif cmd == "pause":
                    playing, result = False, None
                elif cmd == "rate":
                    rate, budget, result = args[0], 0.0, None
                elif cmd == "step":
                    playing = False
                    lab.gan.single_step(args[0])
                    lab.evaluate_now()
                    result = None
                elif cmd == "state":
                    now = time.perf_counter()
                    stale = lab.metrics[-1]["step"] != lab.gan.step
                    if stale and (not playing or now - last_eval > 0.5):
                        lab.evaluate_now()
                        last_eval = now
                    result = lab.state()
                    result["stats"] = stats()
                elif cmd == "stats":
                    result = stats()
                elif cmd == "sample":
                    result = lab.gan.sample(*args)
                else:
                    raise ValueError(f"unknown command {cmd}")
                conn.send(("ok", result))
            except PlaygroundError as e:
                conn.send(("user_error", str(e)))
            except Exception as e:  # noqa: BLE001 - report, keep serving
                conn.send(("error", f"{type(e).__name__}: {e}"))
            continue
        if now_m - last_msg > exit_after:
            return                                   # nobody has asked for anything in a long while
        if playing and lab is not None:
            if now_m - last_msg > pause_after:
                playing = False        # nobody is watching any more
                continue
            try:
                t0 = time.perf_counter()
                if rate is None:
                    n = lab.gan.train_for(0.01)
                else:
                    budget = min(budget + (t0 - last_tick) * rate, max(1.0, rate * 0.2))
                    last_tick = t0
                    n = int(budget)
                    budget -= n
                    if n:
                        lab.gan.train(n)
                    else:
                        time.sleep(min(0.02, (1 - budget) / rate))
                st["iterations"] += n
                st["train_seconds"] += time.perf_counter() - t0 if n else 0.0
                # (only after steps ran: before the first one the last losses are NaN placeholders)
                if n and (not np.isfinite(lab.gan._last_d.item()) or not np.isfinite(lab.gan._last_g.item())):
                    raise FloatingPointError("a loss became NaN or infinite; lower the learning rates and reset")
            except Exception as e:  # noqa: BLE001 - shown on the page, training paused
                st["error"] = f"training stopped: {e}"
                playing = False
