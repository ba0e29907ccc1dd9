"""Mode metrics and grid divergences against hand-computed and closed-form answers."""

import json
import math
import time

import numpy as np
import pytest
import torch

from playground.errors import PlaygroundError
from playground.toy.config import ToyConfig
from playground.toy.metrics import (
    evaluate,
    grid_divergences,
    grid_edges,
    grid_histogram,
    mode_metrics,
    target_grid_masses,
)
from playground.toy.targets import make_target

RING = make_target(ToyConfig(dist="ring8"))
HQ_2D = 1 - math.exp(-4.5)                       # P(chi2_2 < 9)


def ring_samples(n, seed=0):
    return RING.sample(n, torch.Generator().manual_seed(seed)).double().numpy()


def collapsed(n, mode=0, seed=0):
    rng = np.random.default_rng(seed)
    return RING.means[mode] + 0.02 * rng.standard_normal((n, 2))


# --------------------------------------------------------------------------- mode metrics
def test_mode_metrics_on_exact_ring8_samples():
    m = mode_metrics(ring_samples(40_000), RING.means, RING.covs)
    assert m["modes_covered"] == 8 and m["n_modes"] == 8
    assert abs(m["high_quality_frac"] - HQ_2D) < 0.003
    assert 0 <= m["mode_kl"] < 0.005


def test_mode_metrics_on_a_collapsed_sampler():
    x = np.repeat(RING.means[3:4], 500, axis=0)
    m = mode_metrics(x, RING.means, RING.covs, RING.weights)
    assert m["modes_covered"] == 1 and m["high_quality_frac"] == 1.0
    assert m["mode_kl"] == pytest.approx(math.log(8), rel=1e-12)


def test_mode_metrics_on_far_away_points():
    m = mode_metrics(np.full((100, 2), 50.0), RING.means, RING.covs)
    assert m == {"modes_covered": 0, "n_modes": 8, "high_quality_frac": 0.0, "mode_kl": None}
    m = mode_metrics(np.array([[np.nan, 0.0], [np.inf, 1.0]]), RING.means, RING.covs)
    assert m["high_quality_frac"] == 0.0 and m["mode_kl"] is None


def test_mode_metrics_hand_made_1d():
    means = np.array([[0.0], [10.0]])
    covs = np.array([[[1.0]], [[4.0]]])          # stds 1 and 2
    x = np.array([0.5, 2.9, 3.5, 9.0, 16.1, 100.0])[:, None]
    # Mahalanobis: 0.5 -> mode 0 (0.5, HQ); 2.9 -> mode 0 (2.9 < 3.55, HQ);
    # 3.5 -> mode 1 (3.25 < 3.5, not HQ); 9 -> mode 1 (0.5, HQ); 16.1 -> mode 1 (3.05, not HQ);
    # 100 -> not HQ. HQ counts: [2, 1].
    m = mode_metrics(x, means, covs)
    assert m["modes_covered"] == 2 and m["high_quality_frac"] == 0.5
    assert m["mode_kl"] == pytest.approx(2 / 3 * math.log(4 / 3) + 1 / 3 * math.log(2 / 3))
    m = mode_metrics(x, means, covs, weights=np.array([0.9, 0.1]))
    assert m["mode_kl"] == pytest.approx(2 / 3 * math.log((2 / 3) / 0.9) + 1 / 3 * math.log((1 / 3) / 0.1))


def test_mode_metrics_hand_made_2d_uses_mahalanobis_not_euclid():
    means = np.array([[0.0, 0.0], [3.0, 0.0]])
    covs = np.array([np.diag([4.0, 0.25]), np.eye(2)])
    # (1.8, 0) is nearer mode 1 in Euclidean distance (1.2 vs 1.8), nearer mode 0 in Mahalanobis (0.9 vs 1.2).
    m = mode_metrics(np.array([[1.8, 0.0]]), means, covs)
    assert m["modes_covered"] == 1 and m["mode_kl"] == pytest.approx(math.log(2))
    # (0, 1.6) is 3.2 from mode 0 (y std 0.5) and 3.4 from mode 1: not HQ, though 1.6 from mode 0 in Euclid.
    assert mode_metrics(np.array([[0.0, 1.6]]), means, covs)["high_quality_frac"] == 0.0
    assert mode_metrics(np.array([[0.0, 1.4]]), means, covs)["high_quality_frac"] == 1.0


def test_mode_metrics_matches_brute_force_with_full_covariances():
    rng = np.random.default_rng(0)
    k = 5
    means = rng.normal(size=(k, 2)) * 3
    a = rng.normal(size=(k, 2, 2))
    covs = a @ a.transpose(0, 2, 1) + 0.1 * np.eye(2)
    x = rng.normal(size=(400, 2)) * 3
    inv = [np.linalg.inv(c) for c in covs]
    d = np.array([[math.sqrt((xi - mu) @ P @ (xi - mu)) for mu, P in zip(means, inv)] for xi in x])
    nearest = d.argmin(axis=1)
    hq = d.min(axis=1) < 3
    m = mode_metrics(x, means, covs)
    assert m["high_quality_frac"] == pytest.approx(hq.mean())
    assert m["modes_covered"] == len(set(nearest[hq]))


def test_mode_metrics_is_fast():
    grid = make_target(ToyConfig(dist="grid25"))
    x = grid.sample(2500, torch.Generator().manual_seed(0)).numpy()
    mode_metrics(x, grid.means, grid.covs)
    start = time.perf_counter()
    for _ in range(20):
        m = mode_metrics(x, grid.means, grid.covs)
    assert (time.perf_counter() - start) / 20 < 0.02      # ~1-2 ms on an idle core
    assert m["modes_covered"] == 25


# --------------------------------------------------------------------------- grid divergences
def test_divergences_near_zero_for_many_exact_samples():
    d = grid_divergences(RING, ring_samples(200_000))
    assert d["kl"] < 0.005 and d["rkl"] < 0.005 and d["js"] < 0.002


def test_divergences_for_a_collapsed_sampler_match_closed_forms():
    # q = the target restricted to one mode: KL(q||p) = log 8 exactly; KL(p||q) is infinite (the estimate
    # saturates at log(1 + n)); JS = 1/2 [1/8 log(2/9) + 7/8 log 2] + 1/2 log(16/9).
    n = 100_000
    d = grid_divergences(RING, collapsed(n))
    assert d["rkl"] == pytest.approx(math.log(8), abs=0.01)
    js = 0.5 * (1 / 8 * math.log(2 / 9) + 7 / 8 * math.log(2)) + 0.5 * math.log(16 / 9)
    assert d["js"] == pytest.approx(js, abs=0.005)
    assert d["kl"] > 0.8 * math.log(1 + n) * 7 / 8
    assert d["kl"] <= math.log(1 + n) + 1e-9
    assert d["js"] <= math.log(2)


def test_divergences_rank_generators():
    exact = grid_divergences(RING, ring_samples(2500))
    bad = grid_divergences(RING, collapsed(2500))
    assert bad["kl"] > 5 and bad["kl"] > 20 * exact["kl"]
    assert bad["js"] > 10 * exact["js"]


def test_disjoint_samples_give_js_log2():
    d = grid_divergences(RING, np.full((1000, 2), 100.0))
    assert d["js"] == pytest.approx(math.log(2), abs=1e-9)
    assert d["kl"] == pytest.approx(math.log(1 + 1000), rel=1e-6)   # capped: one pseudo-sample shaped like p
    assert d["rkl"] > 100                                           # the target has no mass there


def test_samples_outside_the_grid_go_to_the_outside_cell():
    edges = grid_edges(RING, 4)
    lo, hi = RING.bounds[0], RING.bounds[1]
    x = np.array([[0.0, 0.0], [lo + 1e-9, lo + 1e-9], [hi + 0.01, 0.0], [hi, 0.0], [np.nan, 0.0],
                  [0.0, -np.inf]])
    counts = grid_histogram(x, edges)
    assert counts.shape == (17,) and counts.sum() == 6
    assert counts[-1] == 4                    # just outside, exactly on the upper edge, NaN, inf
    assert counts[0] == 1 and counts[2 * 4 + 2] == 1   # the corner cell and the cell holding the origin


def test_outside_cell_changes_the_answer():
    # Half the samples are exact, half far outside the grid. JS = 3/4 log(4/3) in closed form; dropping the
    # outside half would give ~0 and clipping it into an edge cell would change rkl from huge to moderate.
    x = np.concatenate([ring_samples(100_000), np.full((100_000, 2), 30.0)])
    d = grid_divergences(RING, x)
    assert d["js"] == pytest.approx(0.75 * math.log(4 / 3), abs=0.003)
    assert d["kl"] == pytest.approx(math.log(2), abs=0.01)
    assert d["rkl"] > 100
    dropped = grid_divergences(RING, x[:100_000])
    assert dropped["js"] < 0.002


def test_uniform1d_closed_forms_with_mass_outside_the_grid():
    # p = U(-2, 2) on a grid over [-2.4, 2.4]; q = U(-4, 4) puts 0.2 of its mass outside the grid.
    # KL(p||q) = log 2; JS = 1/2 log(4/3) + 1/2 [1/2 log(2/3) + 1/2 log 2] = 3/4 log(4/3).
    t = make_target(ToyConfig(dist="uniform1d"))
    x = np.random.default_rng(0).uniform(-4, 4, size=(200_000, 1))
    d = grid_divergences(t, x)
    assert d["kl"] == pytest.approx(math.log(2), abs=0.01)
    assert d["js"] == pytest.approx(0.75 * math.log(4 / 3), abs=0.005)
    assert d["rkl"] > 100                     # q has mass where p has none: infinite, floored to finite
    exact = grid_divergences(t, t.sample(200_000, torch.Generator().manual_seed(0)))
    assert exact["kl"] < 0.005 and exact["rkl"] < 0.005 and exact["js"] < 0.002


def test_one_d_mixture_divergence_and_bins():
    t = make_target(ToyConfig(dist="bimodal1d"))
    edges, p = target_grid_masses(t)
    assert len(edges) == 1 and len(p) == 201 and p.sum() == pytest.approx(1)
    x = t.sample(100_000, torch.Generator().manual_seed(0))
    assert grid_divergences(t, x)["kl"] < 0.005
    # Wrong weights (0.5/0.5, not 0.75/0.25): KL(p||q) = 0.75 log 1.5 + 0.25 log 0.5 (modes barely overlap).
    wrong = make_target(ToyConfig(dist="mixture1d", formula="0.5*N(-2,0.5)+0.5*N(2,0.5)"))
    d = grid_divergences(t, wrong.sample(200_000, torch.Generator().manual_seed(1)))
    assert d["kl"] == pytest.approx(0.75 * math.log(1.5) + 0.25 * math.log(0.5), abs=0.005)


def test_grid_divergences_is_fast_and_cached():
    t = make_target(ToyConfig(dist="spiral"))
    x = t.sample(2500, torch.Generator().manual_seed(0))
    grid_divergences(t, x)                     # computes and caches the target's cell masses
    start = time.perf_counter()
    for _ in range(20):
        grid_divergences(t, x)
    assert (time.perf_counter() - start) / 20 < 0.02       # ~1-2 ms on an idle core
    assert target_grid_masses(t)[1] is target_grid_masses(t)[1]


def test_custom_target_has_no_divergences():
    t = make_target(ToyConfig(dist="custom"), points=np.array([[0.0, 0.0], [1.0, 1.0]]))
    with pytest.raises(PlaygroundError, match="no known density"):
        grid_divergences(t, np.zeros((10, 2)))
    assert evaluate(t, np.zeros((10, 2))) == {}


# --------------------------------------------------------------------------- evaluate
def test_evaluate_merges_and_is_json_serialisable():
    out = evaluate(RING, torch.as_tensor(ring_samples(2500)))
    assert set(out) == {"modes_covered", "n_modes", "high_quality_frac", "mode_kl", "kl", "rkl", "js"}
    assert isinstance(out["modes_covered"], int) and isinstance(out["kl"], float)
    json.dumps(out, allow_nan=False)
    circle = make_target(ToyConfig(dist="circle"))
    out = evaluate(circle, circle.sample(2500, torch.Generator().manual_seed(0)))
    assert set(out) == {"kl", "rkl", "js"}
    far = evaluate(RING, np.full((50, 2), 1e6))
    assert far["mode_kl"] is None
    json.dumps(far, allow_nan=False)
