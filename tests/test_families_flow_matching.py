"""Flow matching: the exact ODE log-likelihood against a closed form, a Hutchinson estimate and a grid
integral; optimal-transport pairing against brute force; solvers; views."""

import itertools
import math

import numpy as np
import pytest
import torch

from playground.errors import PlaygroundError
from playground.families import fm_views
from playground.families.config import FamilyConfig
from playground.families.flow_matching import FlowMatching, ot_pairing
from playground.families.time_nets import DataScale
from playground.families.trainer import FamilyTrainer

MU = torch.tensor([0.7, -0.4])      # in scaled units
S = 0.3
SCALE = DataScale(torch.tensor([0.2, 0.1]), 1.7)


class LinearField(torch.nn.Module):
    """z_t = t MU + (1 - t + t S) z0 carries N(0, I) at t = 0 to N(MU, S^2 I) at t = 1; its velocity is
    MU + (S - 1) z0 = MU + (S - 1) (z - t MU) / (1 - t + t S), linear in z."""

    def forward(self, z, t):
        t = torch.as_tensor(t, dtype=z.dtype).reshape(-1, 1)
        return MU + (S - 1) * (z - MU * t) / (1 - t + t * S)


def _linear_model() -> FlowMatching:
    model = FlowMatching(SCALE, width=8, layers=1)
    model.net = LinearField()
    return model


def _gaussian_log_density(x: torch.Tensor) -> torch.Tensor:
    centre, sd = SCALE.mean + SCALE.spread * MU, float(SCALE.spread) * S
    return (-0.5 * ((x - centre) / sd) ** 2 - math.log(sd) - 0.5 * math.log(2 * math.pi)).sum(1)


def test_log_prob_of_a_linear_field_is_the_gaussian_density():
    model = _linear_model()
    x = SCALE.mean + SCALE.spread * MU + torch.randn(300, 2, generator=torch.Generator().manual_seed(0))
    lq = model.log_prob(x, steps=100)
    assert lq.dtype == torch.float64
    torch.testing.assert_close(lq, _gaussian_log_density(x).double(), atol=1e-3, rtol=0)


@pytest.mark.parametrize("solver", ["euler", "midpoint"])
def test_samples_of_a_linear_field_are_the_gaussian(solver):
    model = _linear_model()
    x = model.sample(20_000, torch.Generator().manual_seed(1), steps=200, solver=solver)
    sd = float(SCALE.spread) * S
    torch.testing.assert_close(x.mean(0), (SCALE.mean + SCALE.spread * MU)[0], atol=5 * sd / math.sqrt(2e4), rtol=0)
    torch.testing.assert_close(x.std(0), torch.full((2,), sd), rtol=0.03, atol=0)


class Rotation(torch.nn.Module):
    """dz/dt = (-z_2, z_1): curved paths (the linear field's are straight, which Euler solves exactly)."""

    def forward(self, z, t):
        return torch.stack([-z[:, 1], z[:, 0]], dim=1)


def test_midpoint_converges_faster_than_euler():
    model = FlowMatching(SCALE, width=8, layers=1)
    model.net = Rotation()
    z0 = torch.randn(500, 2, generator=torch.Generator().manual_seed(2))
    c, s = math.cos(1.0), math.sin(1.0)
    exact = torch.stack([c * z0[:, 0] - s * z0[:, 1], s * z0[:, 0] + c * z0[:, 1]], dim=1)
    err = {k: {n: (model.integrate(z0, n, k)[-1] - exact).abs().max().item() for n in (8, 16)}
           for k in ("euler", "midpoint")}
    assert err["euler"][8] / err["euler"][16] == pytest.approx(2, rel=0.2)          # first order
    assert err["midpoint"][8] / err["midpoint"][16] == pytest.approx(4, rel=0.2)    # second order
    assert err["midpoint"][8] < err["euler"][8] / 5


def test_ot_pairing_is_the_minimum_cost_matching():
    g = torch.Generator().manual_seed(3)
    z0, z1 = torch.randn(6, 2, generator=g), torch.randn(6, 2, generator=g)
    paired = ot_pairing(z0, z1)
    assert sorted(map(tuple, paired.tolist())) == sorted(map(tuple, z0.tolist()))     # a permutation of z0
    cost = ((paired - z1) ** 2).sum().item()
    best = min(((z0[list(p)] - z1) ** 2).sum().item() for p in itertools.permutations(range(6)))
    assert cost == pytest.approx(best, abs=1e-5)


@pytest.fixture(scope="module")
def trained():
    # A plain MLP (no input octaves): its density is smooth enough for a 50 x 50 grid; the 1D test below
    # checks the default network with sine features of the input on a fine grid.
    cfg = FamilyConfig(model="flow_matching", dist="two_gaussians", width=32, layers=2, batch_size=256,
                       lr=3e-3, steps=300, seed=0, fm_logprob_steps=40, fm_ot=True, input_octaves=0)
    tr = FamilyTrainer(cfg)
    tr.train(cfg.steps)
    return tr


def test_exact_divergence_agrees_with_hutchinson(trained):
    """The same backward ODE with the divergence estimated by Rademacher probes (E[e^T J e] = tr J):
    averaged over R independent runs, it agrees with the exact trace within its standard error."""
    model = trained.model
    x = trained.target.sample(16, torch.Generator().manual_seed(4))
    exact = model.log_prob(x)
    g = torch.Generator().manual_seed(5)

    def hutchinson(z, v):
        e = torch.randint(0, 2, z.shape, generator=g).float() * 2 - 1
        (jv,) = torch.autograd.grad((v * e).sum(), z)
        return (jv * e).sum(1)

    runs = 200
    est = model.log_prob(x.repeat(runs, 1), divergence=hutchinson).reshape(runs, -1)
    mean, se = est.mean(0), est.std(0) / math.sqrt(runs)
    assert float(se.max()) < 0.2                               # the estimate is informative
    assert float(((mean - exact).abs() / (se + 1e-6)).max()) < 4.5


def test_density_integrates_to_one_on_a_grid(trained):
    b = trained.target.bounds
    _, logq = fm_views.density_grid(trained.model, b, n_grid=50)
    cell = (b[1] - b[0]) / 49 * (b[3] - b[2]) / 49
    assert np.exp(logq).sum() * cell == pytest.approx(1.0, abs=0.04)


def test_1d_density_integrates_to_one_and_dry_run():
    cfg = FamilyConfig(model="flow_matching", dist="bimodal1d", width=32, layers=2, batch_size=256, lr=3e-3,
                       steps=150, seed=1, fm_logprob_steps=40)
    tr = FamilyTrainer(cfg)
    tr.train(cfg.steps)
    lo, hi = tr.target.bounds
    assert cfg.input_octaves > 0
    pts = torch.linspace(lo - 2, hi + 2, 2000)[:, None]
    mass = torch.exp(tr.model.log_prob(pts)).sum().item() * (hi - lo + 4) / 1999
    assert mass == pytest.approx(1.0, abs=0.02)
    with pytest.raises(PlaygroundError, match="column"):
        tr.model.log_prob(torch.zeros(3, 2))


def test_views_shapes_and_straightness(trained):
    model = trained.model
    pts, vel = fm_views.velocity_field(model, 0.5, trained.target.bounds, n_grid=9)
    assert pts.shape == (81, 2) and vel.shape == (81, 2) and np.all(np.isfinite(vel))
    times, path = fm_views.trajectories(model, 32, seed=0, steps=10, solver="euler")
    assert times.shape == (11,) and path.shape == (11, 32, 2)
    np.testing.assert_allclose(path[-1], fm_views.samples(model, 32, seed=0, steps=10, solver="euler"), atol=1e-5)
    st = fm_views.straightness(path)
    assert st.shape == (32,) and np.all(st >= 1 - 1e-6)
    line = np.linspace(0, 1, 5)[:, None, None] * np.ones((1, 3, 2))
    np.testing.assert_allclose(fm_views.straightness(line), 1.0)
    with pytest.raises(PlaygroundError):
        model.integrate(torch.zeros(2, 2), 0)
