"""Normalizing flows: the spline's algebra, exact densities (integrate to 1, match their samples, log-det vs
autograd Jacobians), both objectives, save/load, and the page's views."""

import io

import numpy as np
import pytest
import torch
from scipy.stats import chi2

from playground.errors import PlaygroundError
from playground.families.base import build
from playground.families.config import FamilyConfig
from playground.families.flow_views import density_grid, grid_axes, noise_grid, samples, warp_stages
from playground.families.splines import n_params, rq_spline
from playground.toy.targets import make_target

torch.set_num_threads(1)


def flow(dist="ring8", perturb=0.2, seed=0, **kw):
    """A small flow whose parameters are randomly perturbed away from the identity."""
    kw.setdefault("flow_bins", 8)          # random 16-bin splines are too spiky for the test grids
    cfg = FamilyConfig(model="flow", dist=dist, width=16, layers=2, flow_layers=3, seed=seed, **kw)
    target = make_target(cfg)
    model = build(cfg, target)
    if perturb:
        g = torch.Generator().manual_seed(seed + 1)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn(p.shape, generator=g) * perturb)
    return cfg, target, model


# ------------------------------------------------------------------ the spline
def test_spline_inverse_log_det_and_tails():
    g = torch.Generator().manual_seed(0)
    x = torch.linspace(-7, 7, 4001, dtype=torch.float64)
    params = torch.randn(len(x), n_params(6), generator=g, dtype=torch.float64) * 1.5
    y, ld = rq_spline(x, params, 5.0)
    back, ld_inv = rq_spline(y, params, 5.0, inverse=True)
    np.testing.assert_allclose(back, x, atol=1e-8)
    np.testing.assert_allclose(ld_inv, -ld, atol=1e-8)
    xg = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(rq_spline(xg, params, 5.0)[0].sum(), xg)
    np.testing.assert_allclose(torch.log(grad), ld, atol=1e-9)
    tails = x.abs() >= 5
    assert torch.equal(y[tails], x[tails]) and torch.all(ld[tails] == 0)
    one = params[:1].expand(len(x), -1)                      # one spline over the whole line: increasing
    assert torch.all(torch.diff(rq_spline(x, one, 5.0)[0]) > 0)
    y0, ld0 = rq_spline(x, torch.zeros_like(params), 5.0)    # zero parameters: the identity
    np.testing.assert_allclose(y0, x, atol=1e-12)
    np.testing.assert_allclose(ld0, 0, atol=1e-12)


# ------------------------------------------------------------------ exact densities
@pytest.mark.parametrize("transform", ["spline", "affine"])
def test_flow_log_det_matches_autograd_jacobian_and_inverts(transform):
    _, target, model = flow(flow_transform=transform)
    model.double()
    x = target.sample(20, torch.Generator().manual_seed(3)).double() * 1.3
    with torch.no_grad():
        z, ld = model.to_noise(x)
    for i in range(len(x)):
        jac = torch.autograd.functional.jacobian(lambda v: model.to_noise(v[None])[0][0], x[i])
        assert torch.isclose(torch.linalg.slogdet(jac)[1], ld[i], atol=1e-8)
    with torch.no_grad():
        back, ld_back = model.to_data(z)
    np.testing.assert_allclose(back, x, atol=1e-8)
    np.testing.assert_allclose(ld_back, -ld, atol=1e-8)


@pytest.mark.parametrize("dist,transform", [("ring8", "spline"), ("two_moons", "affine"), ("bimodal1d", "spline")])
def test_flow_density_integrates_to_one_and_matches_its_samples(dist, transform):
    _, target, model = flow(dist, flow_transform=transform)
    c, s = model.center[0].double().numpy(), float(model.scale)
    half = 9 * s                                              # the box holds the pushed-forward Gaussian
    bounds = tuple(v for ci in c for v in (ci - half, ci + half))
    n = 400 if target.dim == 2 else 4000
    grid = density_grid(model, bounds, n=n)
    cell = np.prod([(bounds[2 * i + 1] - bounds[2 * i]) / n for i in range(target.dim)])
    q = np.exp(grid["log_q"])
    assert abs(q.sum() * cell - 1) < 2e-3
    # A chi-square test of 40,000 samples against the integrated density on a coarse grid.
    x = samples(model, 40_000, seed=5)
    k = 20
    coarse = q.reshape(k, n // k, k, n // k).sum(axis=(1, 3)) if target.dim == 2 else q.reshape(k, -1).sum(1)
    p = (coarse * cell).ravel()
    edges = [np.linspace(bounds[2 * i], bounds[2 * i + 1], k + 1) for i in range(target.dim)]
    if target.dim == 2:
        counts = np.histogram2d(x[:, 1], x[:, 0], bins=[edges[1], edges[0]])[0].ravel()   # rows along y
    else:
        counts = np.histogram(x[:, 0], bins=edges[0])[0]
    keep = p * len(x) > 5
    obs, exp = counts[keep], len(x) * p[keep] / p[keep].sum() * counts[keep].sum() / len(x)
    stat = ((obs - exp) ** 2 / exp).sum()
    assert chi2.sf(stat, keep.sum() - 1) > 1e-3


# ------------------------------------------------------------------ objectives
def train(model, target, steps, lr=3e-3, batch=256):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(0)
    for _ in range(steps):
        loss = model.training_loss(target.sample(batch, g), g)
        opt.zero_grad()
        loss.backward()
        opt.step()


def reverse_kl(model, target, n=4000):
    with torch.no_grad():
        x, log_q = model.sample_with_log_prob(n, torch.Generator().manual_seed(9))
        return float((log_q - target.log_prob_torch(x)).mean())


def test_reverse_kl_training_reduces_reverse_kl_on_a_gaussian_target():
    _, target, model = flow("two_gaussians", perturb=0, flow_objective="reverse_kl")
    before = reverse_kl(model, target)
    train(model, target, 60, batch=128)
    after = reverse_kl(model, target)
    assert before > 3 and after < 1, (before, after)      # at most log 2 = 0.69 if it keeps only one mode


def test_forward_kl_training_reduces_the_exact_kl_1d():
    _, target, model = flow("bimodal1d", perturb=0)
    x = target.sample(4000, torch.Generator().manual_seed(2))
    lp = target.log_prob(x.double().numpy())

    def kl():
        with torch.no_grad():
            return float(np.mean(lp - model.log_prob(x).double().numpy()))

    before = kl()
    train(model, target, 150)
    assert kl() < min(0.1, before / 4), (before, kl())


def test_reverse_kl_is_refused_for_targets_without_a_smooth_density():
    for dist in ("uniform1d",):
        cfg = FamilyConfig(model="flow", dist=dist, flow_objective="reverse_kl")
        with pytest.raises(PlaygroundError, match="reverse KL"):
            build(cfg, make_target(cfg))
    cfg = FamilyConfig(model="flow", dist="custom", flow_objective="reverse_kl")
    with pytest.raises(PlaygroundError, match="reverse KL"):
        build(cfg, make_target(cfg, points=np.random.default_rng(0).normal(size=(50, 2))))


def test_save_and_load_round_trip():
    cfg, target, model = flow("ring8")
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    buf.seek(0)
    other = build(FamilyConfig(**{**cfg.__dict__, "seed": 7}), target)
    x = target.sample(100, torch.Generator().manual_seed(0))
    assert not torch.allclose(other.log_prob(x), model.log_prob(x))
    other.load_state_dict(torch.load(buf, weights_only=True))
    assert torch.equal(other.log_prob(x), model.log_prob(x))
    g1, g2 = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    assert torch.equal(other.sample(50, g1), model.sample(50, g2))


# ------------------------------------------------------------------ views
def test_views_2d_and_1d():
    _, target, model = flow("ring8")
    grid = density_grid(model, target.bounds, n=30)
    assert grid["log_q"].shape == (30, 30) and np.all(np.isfinite(grid["log_q"]))
    # Rows follow y: the value at row i, column j is log q at (x_j, y_i).
    xj, yi = grid["x"][4], grid["y"][21]
    with torch.no_grad():
        direct = model.log_prob(torch.tensor([[xj, yi]], dtype=torch.float32))[0]
    assert np.isclose(grid["log_q"][21, 4], float(direct), atol=1e-5)
    z = noise_grid(2, lines=5, points=7)
    assert z.shape == (10, 7, 2)
    stages = warp_stages(model, z)
    assert len(stages) == 4 and all(s.shape == z.shape for s in stages)
    np.testing.assert_allclose(stages[0], model.center.numpy() + float(model.scale) * z, rtol=1e-6)
    with torch.no_grad():
        final = model.to_data(torch.from_numpy(z.reshape(-1, 2).astype(np.float32)))[0].numpy()
    np.testing.assert_allclose(stages[-1].reshape(-1, 2), final, rtol=1e-5, atol=1e-6)
    _, t1, m1 = flow("bimodal1d")
    g1 = density_grid(m1, t1.bounds, n=50)
    assert g1["log_q"].shape == (50,) and len(grid_axes(t1.bounds, 50)) == 1
    assert [s.shape for s in warp_stages(m1, noise_grid(1, points=9))] == [(9, 1)] * 4
    assert samples(m1, 10).shape == (10, 1)
