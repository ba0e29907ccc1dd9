"""Training processes for live pages: one per browser session, so training and the web server each get a core.

In one process, a training loop and the server fight over the GIL (tiny networks are all Python overhead). A
lab worker's child process owns the training session and answers the page's commands between short training
chunks. The pipe only ever carries our own objects between our own processes (configs, numpy arrays); nothing
user-supplied is unpickled. Every lab (GAN lab, families lab) shares what is here: the forkserver, the
registry of this server's workers and its cap (playground.toy.worker_limits), the command pipe, and the
child's loop with its idle pause, idle exit and orphan check.

Each process holds about 0.4 GB, so their lifetime is bounded three ways: the page closes its worker when the
browser session ends; a worker pauses after `pause_after` seconds without a request (a hidden tab) and ends
after `exit_after` (worker_limits.idle_exit_s); and it ends as soon as the server process is gone.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
import time
import types
from typing import Any

from playground.errors import PlaygroundError
from playground.toy.worker_limits import WorkerLimitError, idle_exit_s, max_workers

# Imported once in the forkserver, so each worker forks with them loaded. torch._dynamo: torch.optim imports
# it on first use, which took 1.5 to 5 s in every new worker. One list for every lab: the forkserver is
# started once, by whichever lab is used first.
PRELOAD = ("torch._dynamo", "playground.toy.lab", "playground.families.live")
_CTX = None
_live: set[Worker] = set()     # this server's workers, pruned of finished ones before each count
_live_lock = threading.Lock()


def context():
    """forkserver: a clean server process, torch preloaded, forks each worker in milliseconds."""
    global _CTX
    if _CTX is None:
        try:
            _CTX = mp.get_context("forkserver")
            _CTX.set_forkserver_preload(list(PRELOAD))
        except ValueError:  # platforms without forkserver
            _CTX = mp.get_context("spawn")
    return _CTX


def live_workers() -> list[Worker]:
    """The training processes of this server (of every lab) that are still running."""
    with _live_lock:
        _live.difference_update([w for w in _live if not w.alive])
        return list(_live)


class Session:
    """The child side of a worker: what it trains and how it answers. Subclasses set `playing` and implement
    `handle` (one command, returning plain data; PlaygroundError for what the user caused) and `train_chunk`
    (a few milliseconds of training while playing; it reports its own errors and stops playing)."""

    playing = False

    def handle(self, cmd: str, args: tuple) -> Any:
        raise NotImplementedError

    def train_chunk(self) -> None:
        raise NotImplementedError

    def idle_pause(self) -> None:
        """Nobody has asked for anything in `pause_after` seconds: stop training."""
        self.playing = False


class Worker:
    """Parent-side handle on a training process running `session` (a Session subclass, importable by name).
    Calls are thread-safe (one command at a time on the pipe) and return plain data.

    Raises WorkerLimitError when the server already runs max_workers() of them (of every lab together)."""

    process_name = "lab-worker"      # the name in the process table (/proc/PID/comm, `ps -o comm`), <= 15 chars

    def __init__(self, session: type[Session], *, pause_after: float = 10.0, exit_after: float | None = None):
        exit_after = idle_exit_s() if exit_after is None else exit_after
        self._closing = False
        ctx = context()
        with _live_lock:
            _live.difference_update([w for w in _live if not w.alive])
            cap = max_workers()
            if len(_live) >= cap:
                raise WorkerLimitError(cap)
            self._conn, child = ctx.Pipe()
            self._proc = ctx.Process(target=serve, args=(child, session, self.process_name, pause_after,
                                                         exit_after), daemon=True, name=self.process_name)
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
            threading.Thread(target=self.close, name=f"close-{self.process_name}", daemon=True).start()
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


def _name_process(name: str) -> None:
    """Show `name` as this process's command name (Linux /proc/PID/comm), so tools and tests can tell the
    training processes from the other forkserver children."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)     # 15 = PR_SET_NAME
    except (OSError, AttributeError):
        pass


def serve(conn, session: type[Session], name: str, pause_after: float, exit_after: float) -> None:
    """The child's loop: answer commands as they come, train in chunks while playing, end when told, when idle
    for `exit_after` seconds, or when orphaned."""
    import torch

    _name_process(name)
    first_parent = os.getppid()       # the forkserver, which itself ends when the server does
    try:
        # A session of its own is a scheduling group of its own where the kernel groups by session
        # (Linux autogroup, on by default on desktops): the browser's and the server's many threads then
        # share the CPU with training group against group instead of thread against thread.
        os.setsid()
    except OSError:
        pass
    torch.set_num_threads(1)
    lab = session()
    last_msg = last_parent_check = time.monotonic()
    while True:
        try:
            has_msg = conn.poll(0 if lab.playing else 0.5)
        except (EOFError, OSError):
            return                                   # the server closed its end, or died
        now = time.monotonic()
        if now - last_parent_check > 1.0:
            if os.getppid() != first_parent:
                return                               # orphaned: the server and its forkserver are gone
            last_parent_check = now
        if has_msg:
            try:
                cmd, args = conn.recv()
            except (EOFError, OSError):
                return
            last_msg = now
            if cmd == "exit":
                return
            try:
                conn.send(("ok", lab.handle(cmd, args)))
            except PlaygroundError as e:
                conn.send(("user_error", str(e)))
            except Exception as e:  # noqa: BLE001 - report, keep serving
                conn.send(("error", f"{type(e).__name__}: {e}"))
            continue
        if now - last_msg > exit_after:
            return                                   # nobody has asked for anything in a long while
        if lab.playing:
            if now - last_msg > pause_after:
                lab.idle_pause()                     # nobody is watching any more
                continue
            lab.train_chunk()
