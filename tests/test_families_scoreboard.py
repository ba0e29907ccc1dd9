"""The scoreboard scores a perfect model (the target itself) at about zero, and keeps bounds apart."""

import math

import pytest
import torch

from playground.families.base import FamilyModel
from playground.families.config import FamilyConfig
from playground.families.scoreboard import format_table, scoreboard
from playground.toy.targets import make_target


class TargetItself(FamilyModel):
    """A 'model' whose samples and log density are the target's own (optionally shifted / a bound)."""

    def __init__(self, target, likelihood="exact", log_shift=0.0):
        super().__init__()
        self.target, self.log_shift = target, log_shift
        self.likelihood = likelihood
        self.family = "perfect"
        self.w = torch.nn.Parameter(torch.zeros(3))

    def sample(self, n, generator):
        return self.target.sample(n, generator)

    def log_prob(self, x):
        return torch.as_tensor(self.target.log_prob(x.numpy())) + self.log_shift


@pytest.mark.parametrize("dist", ["ring8", "two_moons", "bimodal1d"])
def test_a_perfect_model_scores_about_zero(dist):
    target = make_target(FamilyConfig(dist=dist))
    row = scoreboard(TargetItself(target), target, n=4000, steps=10, seconds=2.0)
    assert row["kl"] == pytest.approx(0.0, abs=1e-9) and row["nll"] == pytest.approx(row["target_entropy"])
    assert row["kl_bound"] is None and row["params"] == 3 and row["steps_per_sec"] == 5.0
    assert row["grid_js"] < 0.03 and row["samples_per_sec"] > 0
    if target.means is not None:
        assert row["modes_covered"] == row["n_modes"] and row["high_quality"] > 0.97
    # an independent check of the entropy: ring8's modes barely overlap, so H = log 8 + log(2 pi e std^2)
    if dist == "ring8":
        h = math.log(8) + math.log(2 * math.pi * math.e * 0.02**2)
        assert row["target_entropy"] == pytest.approx(h, abs=4 * row["target_entropy_se"])


def test_kl_of_a_shifted_density_and_bounds_kept_apart():
    target = make_target(FamilyConfig(dist="two_gaussians"))
    off = scoreboard(TargetItself(target, log_shift=-0.3), target, n=2000)
    assert off["kl"] == pytest.approx(0.3, abs=1e-9) and off["kl_se"] == pytest.approx(0.0, abs=1e-9)
    bound = scoreboard(TargetItself(target, likelihood="bound", log_shift=-0.2), target, n=2000)
    assert bound["kl"] is None and bound["nll"] is None
    assert bound["kl_bound"] == pytest.approx(0.2, abs=1e-9)
    none = scoreboard(TargetItself(target, likelihood="none"), target, n=2000)
    assert none["kl"] is None and none["kl_bound"] is None and none["target_entropy"] is not None
    table = format_table([off, bound, none])
    assert len(table.splitlines()) == 4 and "kl_bound" in table.splitlines()[0]


def test_monte_carlo_error_of_a_wrong_model():
    """q = N(0, 1) against the 1D target p = N(0, 2^2): KL(p||q) = log(1/2) + 4/2 - 1/2 = 1.5 - log 2."""
    target = make_target(FamilyConfig(dist="mixture1d", formula="N(0,2)"))

    class StdNormal(TargetItself):
        def log_prob(self, x):
            return -0.5 * x[:, 0].double() ** 2 - 0.5 * math.log(2 * math.pi)

    row = scoreboard(StdNormal(target), target, n=20_000)
    assert row["kl"] == pytest.approx(1.5 - math.log(2), abs=4 * row["kl_se"])


def test_custom_points_have_no_density_columns():
    import numpy as np

    target = make_target(FamilyConfig(dist="custom"), points=np.random.default_rng(0).normal(size=(200, 2)))
    row = scoreboard(TargetItself(target, likelihood="none"), target, n=300)
    assert row["kl"] is None and row["target_entropy"] is None and row["grid_js"] is None
    assert row["modes_covered"] is None and row["samples_per_sec"] > 0
