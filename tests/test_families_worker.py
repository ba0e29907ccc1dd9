"""The families lab's training process (FamiliesWorker): commands round-trip, frames arrive while it plays, its
training is the same as ticking by hand, pause/step/branch/export work, bad settings keep the old models, and it
pauses and then ends by itself when nobody asks for anything."""

import time

import numpy as np
import pytest
import torch

from playground.errors import PlaygroundError
from playground.families.config import FamilyConfig
from playground.families.live import LiveLab
from playground.families.lockstep import Lockstep
from playground.families.worker import PROCESS_NAME, FamiliesWorker
from playground.toy.worker_limits import ENV_IDLE_EXIT
from playground.workers import live_workers
from tests.test_toy_worker import running, wait_until

pytestmark = pytest.mark.timeout(180)
CFGS = [FamilyConfig(model=m, batch_size=32, steps=40, width=8, layers=1, flow_layers=2, flow_bins=4,
                     sample_steps=4, eval_samples=200) for m in ("flow", "flow_matching")]


def ticked(n: int) -> Lockstep:
    ref = Lockstep(CFGS)
    for _ in range(n):
        ref.tick()
    return ref


def samples(ls: Lockstep, k: int) -> np.ndarray:
    """What FamiliesWorker.samples(k) draws, computed here from a lockstep of our own."""
    tr = ls.trainers[k]
    with torch.no_grad():
        return tr.model.sample(tr.cfg.eval_samples, torch.Generator().manual_seed(0)).double().numpy()


@pytest.fixture
def worker():
    w = FamiliesWorker(CFGS)
    yield w
    w.close()


def test_train_chunks_are_plain_ticks():
    lab = LiveLab(CFGS)
    assert lab.train_chunk(1.0) == 0                      # paused: nothing happens
    lab.playing = True
    while lab.train_chunk(0.005):
        lab.frame()
    assert lab.step == 40 and not lab.playing and len(lab.history) >= 2
    for tr, other in zip(lab.ls.trainers, ticked(40).trainers):
        for a, b in zip(tr.model.parameters(), other.model.parameters()):
            assert torch.equal(a, b)


def test_it_plays_to_the_end_with_frames_and_trains_like_plain_ticks(worker):
    assert worker.step == 0 and not worker.playing and worker.generation == 1
    assert worker.cfgs == CFGS and worker.target.name == "ring8" and worker.target.dim == 2
    assert worker.firsts == [None, None] and worker.history_steps == [0]
    worker.play()
    steps = []
    deadline = time.monotonic() + 60
    while not worker.done:
        assert time.monotonic() < deadline
        snap = worker.frame([{}, {"t": 0.25}])
        steps.append(snap["step"])
        assert [m["family"] for m in snap["models"]] == ["flow", "flow_matching"]
        assert snap["models"][1]["t"] == 0.25                          # the view setting went through
    assert steps == sorted(steps) and worker.step == 40 and not worker.playing
    assert len(worker.history_steps) >= 2 and worker.history_steps[-1] <= 40
    ref = ticked(40)
    for k in range(2):
        np.testing.assert_array_equal(worker.samples(k), samples(ref, k))


def test_pause_step_look_back_branch_and_export(worker):
    worker.play()
    wait_until(lambda: worker.frame()["step"] > 3, 30)
    worker.pause()
    at = worker.step
    time.sleep(0.2)
    worker.refresh()
    assert worker.step == at and not worker.playing                   # paused: no more training
    worker.step_once(2)
    assert worker.step == at + 2 and worker.history_steps[-1] == at + 2
    worker.look_back()
    i, step = worker.branch_point(len(worker.history_steps) - 1)
    assert step == at + 2
    first = worker.history_frame(0)
    assert first["step"] == 0 and first["models"][0]["step"] == 0     # the recorded frame, not now
    changed = [FamilyConfig(**{**CFGS[0].__dict__, "flow_objective": "reverse_kl"}), CFGS[1]]
    assert worker.branch(0, changed) == 0
    assert worker.step == 0 and worker.cfgs[0].flow_objective == "reverse_kl" and worker.history_steps == [0]
    assert worker.generation == 1                                      # a branch is not a reset
    gif = worker.animation("gif")
    assert gif[:6] == b"GIF89a"
    rows = worker.evaluate()
    assert [r["evaluated_at"] for r in rows] == [0, 0] and worker.scores == rows
    with pytest.raises(PlaygroundError, match="gif or mp4"):
        worker.animation("avi")


def test_frames_carry_only_the_views_redrawn_since_the_last_one(worker):
    first = worker.frame()
    assert first["changed"] == [True, True]
    again = worker.frame()                                             # paused, nothing new: nothing resent
    assert again["changed"] == [False, False]
    for m, k in zip(again["models"], first["models"]):                 # ...and filled in from the last ones
        np.testing.assert_array_equal(m["samples"], k["samples"])
    worker.step_once()
    moved = worker.frame()
    assert moved["changed"] == [True, True] and [m["step"] for m in moved["models"]] == [1, 1]
    assert worker.frame([{}, {"t": 0.3}])["changed"] == [False, True]   # a new view setting
    worker.reset(CFGS)
    assert worker.frame()["changed"] == [True, True]                   # new models: everything anew


def test_bad_settings_keep_the_old_models_and_a_reset_rebuilds_them(worker):
    worker.step_once(3)
    with pytest.raises(PlaygroundError, match="reset"):
        worker.apply([CFGS[0]])                                        # fewer models: needs a reset
    with pytest.raises(PlaygroundError, match="custom"):
        worker.reset([FamilyConfig(**{**c.__dict__, "dist": "custom"}) for c in CFGS])   # no points
    worker.refresh()
    assert worker.alive and worker.step == 3 and worker.generation == 1 and worker.cfgs == CFGS
    pts = np.random.default_rng(0).normal(size=(50, 2))
    worker.reset([FamilyConfig(**{**c.__dict__, "dist": "custom"}) for c in CFGS], pts)
    assert worker.step == 0 and worker.generation == 2 and worker.target.name == "custom"
    worker.apply([FamilyConfig(**{**c.__dict__, "dist": "custom", "batch_size": 16}) for c in CFGS])
    assert worker.cfgs[0].batch_size == 16 and worker.step == 0       # a live setting: no reset


def test_an_unwatched_worker_pauses_then_ends_and_frees_its_slot(monkeypatch):
    monkeypatch.setenv(ENV_IDLE_EXIT, "2.0")
    w = FamiliesWorker([FamilyConfig(**{**CFGS[0].__dict__, "steps": 10_000_000})], pause_after=0.5)
    try:
        assert open(f"/proc/{w.pid}/comm").read().strip() == PROCESS_NAME   # findable in the process table
        assert w in live_workers()
        w.play()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.5:                 # frames asked for: it keeps playing
            assert w.frame()["playing"]
            time.sleep(0.2)
        time.sleep(1.0)                                    # nobody asks: it pauses itself
        w.refresh()
        assert not w.playing and w.step > 0
        waited = wait_until(lambda: not running(w.pid), 15)   # and then ends by itself
        assert waited > 1.0                                # ...after the idle time, not at once
        assert w not in live_workers()
        with pytest.raises(PlaygroundError, match="stopped"):
            w.refresh()
    finally:
        w.close()


def test_a_feed_stop_reruns_the_page_once():
    """The live figure keeps its last value ({"event": "stopped", "nonce": n}) across runs: acting on it in
    every run made the page rerun without end once Play was pressed again after a pause."""
    from app.components.families_history import new_stop

    state: dict = {}
    stopped = {"event": "stopped", "nonce": 3}
    assert new_stop(stopped, state) and not new_stop(stopped, state)
    assert new_stop({**stopped, "nonce": 4}, state)
    assert not new_stop(None, state) and not new_stop({"points": []}, state)
