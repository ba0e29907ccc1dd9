"""History of a live page: bounded frames and states, scrubbing returns what was recorded, branching restores
training exactly, and the history exports as an animated GIF (and MP4)."""

import io

import numpy as np
import pytest
import torch

from playground.errors import PlaygroundError
from playground.families.config import FamilyConfig
from playground.families.live import LiveLab
from playground.families.lockstep import Lockstep
from playground.history import History, encode_gif, encode_mp4, mp4_available

TINY = dict(width=8, layers=1, flow_layers=2, flow_bins=4, ar_components=3, sample_steps=5, diffusion_timesteps=20,
            fm_logprob_steps=5, eval_samples=200, batch_size=64, steps=1000, seed=5)


def cfg(model, **kw):
    return FamilyConfig(model=model, **{**TINY, **kw})


def weights(ls: Lockstep) -> list[dict]:
    return [{k: v.clone() for k, v in tr.model.state_dict().items()} for tr in ls.trainers]


def same(a: list[dict], b: list[dict]) -> bool:
    return all(torch.equal(x[k], y[k]) for x, y in zip(a, b) for k in x)


# ------------------------------------------------------------------ the History itself
def test_scrub_returns_the_recorded_frame_and_memory_stays_bounded():
    h = History(max_frames=10, max_states=3, max_state_bytes=10_000, every=1)
    frames = {}
    for step in range(0, 100, 2):
        frames[step] = {"step": step, "x": np.full(3, step, dtype=np.float32)}
        h.record(step, frames[step], state={"w": step}, nbytes=1000, force=step == 98)   # e.g. a pause
        assert len(h) <= 10 and sum(e.state is not None for e in h.entries) <= 3
    steps = h.steps
    assert steps[0] == 0 and steps[-1] == 98 and steps == sorted(steps)      # first and newest always kept
    assert h.every > 1                                                      # thinning slowed the recording
    for i, s in enumerate(steps):
        e = h.frame(i)
        assert e.step == s and e.frame is frames[s]                          # exactly what was recorded
    held = [e.step for e in h.entries if e.state is not None]
    assert held[0] == 0 and held[-1] == 98
    # branching from a frame without a state goes back to the nearest earlier one with a state
    i = next(i for i, e in enumerate(h.entries) if e.state is None and e.step > held[0])
    j, entry = h.branch_point(i)
    assert j < i and entry.state is not None and all(h.entries[k].state is None for k in range(j + 1, i + 1))
    h.truncate(j)
    assert h.steps[-1] == entry.step
    with pytest.raises(PlaygroundError):
        h.record(entry.step - 1, {})                                         # history only goes forward
    with pytest.raises(PlaygroundError):
        h.frame(len(h))
    assert not h.record(entry.step + 1, {}) or h.every == 1                  # not due yet


def test_the_byte_budget_drops_states_but_keeps_frames():
    h = History(max_frames=50, max_states=50, max_state_bytes=3_500, every=1)
    for step in range(10):
        h.record(step, step, state=step, nbytes=1000)
    assert len(h) == 10 and h.state_bytes() <= 3_500
    assert h.entries[0].state == 0 and h.entries[-1].state == 9


# ------------------------------------------------------------------ branching a lockstep
def test_branch_restores_training_exactly():
    """Training on from a branch equals training on from the saved state, and equals never having gone back."""
    models = [cfg("flow"), cfg("autoregressive"), cfg("gan"), cfg("flow_matching")]
    lab = LiveLab(models)
    lab.history.every = 1
    for _ in range(4):
        lab.step_once()
    at = len(lab.history) - 1
    saved = lab.ls.capture()
    for _ in range(4):
        lab.step_once()
    straight = weights(lab.ls)
    assert lab.step == 8
    # a fresh lockstep restored from the captured state
    other = Lockstep(models)
    other.restore(saved)
    for _ in range(4):
        other.tick()
    assert same(weights(other), straight)
    # branch in the lab from the frame at step 4: same again, and the later frames are gone
    assert lab.branch(at, models) == 4
    assert lab.history.steps[-1] == 4 and lab.step == 4
    for _ in range(4):
        lab.step_once()
    assert same(weights(lab.ls), straight)
    assert torch.equal(lab.ls.rng.get_state(), other.rng.get_state())


def test_branch_with_changed_settings_keeps_the_weights():
    lab = LiveLab([cfg("flow", dist="two_gaussians")])
    lab.history.every = 1
    for _ in range(3):
        lab.step_once()
    before = weights(lab.ls)
    lab.branch(len(lab.history) - 1, [cfg("flow", dist="two_gaussians", flow_objective="reverse_kl", lr=1e-2)])
    assert lab.ls.cfgs[0].flow_objective == "reverse_kl" and same(weights(lab.ls), before) and lab.step == 3
    lab.step_once()
    assert lab.step == 4 and not same(weights(lab.ls), before)
    with pytest.raises(PlaygroundError, match="shape"):
        lab.branch(0, [cfg("flow", dist="two_gaussians", width=16)])
    with pytest.raises(PlaygroundError, match="target"):
        lab.branch(0, [cfg("flow", dist="ring8")])


# ------------------------------------------------------------------ export
def test_history_exports_as_an_animated_gif_and_mp4():
    import imageio.v3 as iio

    lab = LiveLab([cfg("flow"), cfg("diffusion")])
    lab.history.every = 1
    for _ in range(3):
        lab.step_once()
    gif = lab.animation("gif")
    assert gif[:6] == b"GIF89a"
    frames = iio.imread(io.BytesIO(gif), index=None, extension=".gif")
    assert frames.shape[0] == len(lab.history) == 4 and frames.shape[2] > frames.shape[1]    # two views side by side
    assert not np.array_equal(frames[0], frames[-1])
    if mp4_available():
        mp4 = lab.animation("mp4")
        assert mp4[4:8] == b"ftyp" and len(mp4) > 1000
    with pytest.raises(PlaygroundError):
        encode_gif([])
    with pytest.raises(PlaygroundError):
        encode_mp4([])
