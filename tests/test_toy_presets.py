"""The lesson presets reproduce their lessons (not just load): saturation, its cure, mode collapse."""

from dataclasses import replace

import numpy as np
import pytest

from playground.toy.metrics import evaluate
from playground.toy.config import ToyConfig
from playground.toy.presets import PRESETS
from playground.toy.trainer import ToyGAN


def _gan(name: str, **changes) -> ToyGAN:
    return ToyGAN(replace(PRESETS[name].config(ToyConfig), **changes))


def _distance_to_data(gan: ToyGAN) -> float:
    x = gan.sample(1000, seed=0)
    d = np.linalg.norm(x[:, None, :] - gan.target.means[None], axis=-1).min(axis=1)
    return float(np.median(d))


def test_minimax_saturates_from_a_bad_start_and_non_saturating_walks_to_the_data():
    mm, ns = _gan("minimax_bad_start"), _gan("nonsaturating_bad_start")
    start = _distance_to_data(mm)
    assert start == pytest.approx(_distance_to_data(ns)) and start > 2.5     # same bad start
    mm.train(300)
    ns.train(300)
    # The arrows: minimax's generator gradient vanishes where D rejects the samples.
    g_mm = np.linalg.norm(mm.sample_gradients(mm.sample(500, seed=1)), axis=1).mean()
    g_ns = np.linalg.norm(ns.sample_gradients(ns.sample(500, seed=1)), axis=1).mean()
    assert g_mm < 0.05 * g_ns, (g_mm, g_ns)
    assert _distance_to_data(ns) < 0.5 * _distance_to_data(mm)


@pytest.mark.slow
def test_mode_collapse_preset_covers_few_of_the_eight_modes():
    gan = _gan("mode_collapse_ring8", seed=0)
    covered = []
    for _ in range(4):
        gan.train(500)
        covered.append(evaluate(gan.target, gan.sample(2500, seed=0))["modes_covered"])
    assert max(covered) <= 2, covered
