"""The families lab's training thread (the page's frame-feed path): it trains while playing, frames are recorded
from it, pausing stops it, and its training is the same as ticking by hand (frames never touch the run)."""

import time

import torch

from playground.families import live
from playground.families.config import FamilyConfig
from playground.families.live import LiveLab
from playground.families.lockstep import Lockstep

CFGS = [FamilyConfig(model=m, batch_size=32, steps=40, width=8, layers=1, flow_layers=2, flow_bins=4,
                     sample_steps=4, eval_samples=200) for m in ("flow", "flow_matching")]


def _wait(cond, timeout=60.0):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_the_thread_trains_to_the_end_like_plain_ticks():
    lab = LiveLab(CFGS)
    lab.playing = True
    lab.start()
    frames = []
    _wait(lambda: frames.append(lab.frame()["step"]) or lab.done)
    lab.stop()
    assert lab.step == 40 and not lab.playing and lab._thread is not None and not lab._thread.is_alive()
    assert frames == sorted(frames) and frames[-1] == 40 and len(lab.history) >= 2
    ref = Lockstep(CFGS)
    for _ in range(40):
        ref.tick()
    for tr, other in zip(lab.ls.trainers, ref.trainers):
        for a, b in zip(tr.model.parameters(), other.model.parameters()):
            assert torch.equal(a, b)


def test_pause_stops_the_thread_and_an_unwatched_lab_stops_training(monkeypatch):
    lab = LiveLab([FamilyConfig(**{**CFGS[0].__dict__, "steps": 10_000_000})])
    lab.playing = True
    lab.start()
    _wait(lambda: lab.step > 2)
    lab.stop()
    at = lab.step
    time.sleep(0.1)
    assert lab.step == at and not lab._thread.is_alive()
    monkeypatch.setattr(live, "IDLE_STOP_S", 0.05)           # nobody asks for frames: the thread ends by itself
    lab.playing = True
    lab.start()
    _wait(lambda: not lab._thread.is_alive())
    assert lab.playing and lab.step > at                     # still "playing": the next frame restarts it
    monkeypatch.setattr(live, "IDLE_STOP_S", 60.0)
    lab.frame()
    assert lab._thread.is_alive()
    lab.stop()


def test_a_feed_stop_reruns_the_page_once():
    """The live figure keeps its last value ({"event": "stopped", "nonce": n}) across runs: acting on it in
    every run made the page rerun without end once Play was pressed again after a pause."""
    from app.components.families_history import new_stop

    state: dict = {}
    stopped = {"event": "stopped", "nonce": 3}
    assert new_stop(stopped, state) and not new_stop(stopped, state)
    assert new_stop({**stopped, "nonce": 4}, state)
    assert not new_stop(None, state) and not new_stop({"points": []}, state)

