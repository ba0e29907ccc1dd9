"""The GAN lab's training processes end when unused or orphaned, are capped per server, and reset in place."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from playground.errors import PlaygroundError
from playground.toy.config import ToyConfig
from playground.toy.worker import PROCESS_NAME, LabWorker, live_workers
from playground.toy.worker_limits import (
    ENV_IDLE_EXIT,
    ENV_MAX_WORKERS,
    WorkerLimitError,
    default_max_workers,
    idle_exit_s,
    max_workers,
)

pytestmark = pytest.mark.timeout(120)
SMALL = ToyConfig(g_width=16, d_width=16, g_layers=1, d_layers=1, batch_size=32, eval_samples=500)
ROOT = Path(__file__).resolve().parents[1]
GiB = 2**30


def running(pid: int) -> bool:
    """True while `pid` is a live process (a zombie waiting to be reaped counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_until(predicate, seconds: float) -> float:
    """Seconds until `predicate()` held; fails after `seconds`."""
    t0 = time.monotonic()
    while not predicate():
        assert time.monotonic() - t0 < seconds, f"still not true after {seconds} s"
        time.sleep(0.1)
    return time.monotonic() - t0


def test_default_cap_is_two_per_core_within_half_the_memory():
    assert default_max_workers(2, 8 * GiB) == 4           # cores decide: 2 x 2
    assert default_max_workers(16, 4 * GiB) == 8          # memory decides: 2 GiB / 256 MiB
    assert default_max_workers(1, GiB // 10) == 1         # never below one


def test_settings_come_from_the_environment_and_bad_values_are_explained(monkeypatch):
    monkeypatch.setenv(ENV_MAX_WORKERS, "7")
    monkeypatch.setenv(ENV_IDLE_EXIT, "2.5")
    assert (max_workers(), idle_exit_s()) == (7, 2.5)
    monkeypatch.setenv(ENV_MAX_WORKERS, "0")
    with pytest.raises(PlaygroundError, match=ENV_MAX_WORKERS):
        max_workers()
    monkeypatch.setenv(ENV_IDLE_EXIT, "soon")
    with pytest.raises(PlaygroundError, match="soon"):
        idle_exit_s()
    monkeypatch.delenv(ENV_MAX_WORKERS)
    monkeypatch.delenv(ENV_IDLE_EXIT)
    assert max_workers() >= 1 and idle_exit_s() == 300.0


def test_the_number_of_live_workers_is_capped_and_a_closed_one_frees_its_slot(monkeypatch):
    monkeypatch.setenv(ENV_MAX_WORKERS, str(len(live_workers()) + 2))   # others of this test run may live
    a, b = LabWorker(SMALL), LabWorker(SMALL)
    try:
        with pytest.raises(WorkerLimitError, match="in use"):
            LabWorker(SMALL)
        a.close()
        assert not running(a.pid)
        c = LabWorker(SMALL)                      # the closed one's slot
        assert c in live_workers() and a not in live_workers()
        c.close()
    finally:
        a.close()
        b.close()


def test_an_unused_worker_ends_after_the_idle_time_and_frees_its_slot(monkeypatch):
    monkeypatch.setenv(ENV_IDLE_EXIT, "1.5")
    w = LabWorker(SMALL)
    try:
        assert Path(f"/proc/{w.pid}/comm").read_text().strip() == PROCESS_NAME   # findable in the process table
        w.play()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3.0:        # frames requested: it lives past its idle time
            assert w.snapshot()["stats"]["playing"]
            time.sleep(0.3)
        assert w.alive
        waited = wait_until(lambda: not running(w.pid), 10)   # no more requests: it ends by itself
        assert waited > 1.0                       # ...after the idle time, not at once
        assert w not in live_workers()
        with pytest.raises(PlaygroundError, match="stopped"):
            w.stats()
    finally:
        w.close()


def test_a_worker_ends_when_its_server_process_dies():
    code = ("import time, sys\nfrom playground.toy.config import ToyConfig\n"
            "from playground.toy.worker import LabWorker\n"
            "w = LabWorker(ToyConfig(g_width=16, d_width=16, g_layers=1, d_layers=1))\nw.play()\n"
            "print(w.pid, flush=True)\ntime.sleep(600)\n")
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, ENV_IDLE_EXIT: "3600"})
    try:
        pid = int(server.stdout.readline())
        assert running(pid)
        server.send_signal(signal.SIGKILL)          # no clean-up code runs in the server
        server.wait(timeout=10)
        wait_until(lambda: not running(pid), 15)
    finally:
        server.kill()


def test_reset_reuses_the_process_paused_at_full_speed():
    w = LabWorker(SMALL)
    try:
        pid = w.pid
        w.set_rate(1.0)
        w.play()
        w.reset(ToyConfig(dist="two_moons", g_width=16, d_width=16, g_layers=1, d_layers=1))
        s = w.stats()
        assert w.pid == pid and not s["playing"] and s["step"] == 0 and w.cfg.dist == "two_moons"
        w.play()
        time.sleep(1.0)
        assert w.stats()["step"] > 20              # the 1 step/s cap went with the reset
        t0 = time.perf_counter()
        w.close(wait=False)                        # for Streamlit's event loop: returns at once
        assert time.perf_counter() - t0 < 0.2
        assert not w.alive and w not in live_workers()     # a reconnecting page starts a new one
        wait_until(lambda: not running(pid), 10)
    finally:
        w.close()
