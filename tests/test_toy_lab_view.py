"""The server-side LabView redraws exactly what the training process's own LabSession would draw."""

import dataclasses
import pickle

import numpy as np
import pytest

from playground.toy.config import ToyConfig
from playground.toy.lab import LabSession, LabView

SMALL = ToyConfig(g_width=32, d_width=32, g_layers=2, d_layers=2, batch_size=64)


def assert_same(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for k in a:
        if isinstance(a[k], np.ndarray):
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        elif k == "manifold" and a[k] is not None:
            for la, lb in zip(a[k], b[k]):
                np.testing.assert_array_equal(la, lb)
        else:
            assert a[k] == b[k], k


@pytest.mark.parametrize("cfg", [
    SMALL,
    dataclasses.replace(SMALL, spectral_norm=True, loss="hinge"),     # SN's u, v buffers travel too
    dataclasses.replace(SMALL, dist="bimodal1d", latent_dim=1),
], ids=["ring8", "spectral-norm", "1d"])
def test_view_from_shipped_state_matches_the_session(cfg):
    lab = LabSession(cfg)
    view = LabView(lab.cfg)
    lab.gan.train(30)
    state = pickle.loads(pickle.dumps(lab.state()))       # as it crosses the pipe
    assert_same(view.snapshot(state, show_manifold=True), lab.snapshot(show_manifold=True))
    # a live change of objective changes the arrows and D's display scale; the view follows it
    lab.gan.apply(dataclasses.replace(lab.cfg, loss="wgan_gp"))
    lab.gan.train(5)
    before = view.snapshot(state)
    after = view.snapshot(lab.state())
    assert_same(after, lab.snapshot())
    assert not np.array_equal(before["fake"], after["fake"])


def test_the_state_is_small_and_plain():
    lab = LabSession(ToyConfig())
    state = lab.state()
    assert all(isinstance(v, np.ndarray) for k in ("g", "d") for v in state[k].values())
    assert len(pickle.dumps(state)) < 150_000
