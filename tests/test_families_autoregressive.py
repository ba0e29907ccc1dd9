"""Autoregressive mixture-density models: the joint density integrates to 1, its marginal and conditional views
agree with integrals of the joint, samples follow the density, both orders, 1D, training and save/load."""

import io

import numpy as np
import pytest
import torch
from scipy.stats import chi2

from playground.errors import PlaygroundError
from playground.families.ar_views import conditional, density_grid, marginal, variable_names
from playground.families.base import build
from playground.families.config import FamilyConfig
from playground.toy.targets import make_target

torch.set_num_threads(1)


def model_for(dist="ring8", order="x1_first", perturb=0.3, seed=0, **kw):
    cfg = FamilyConfig(model="autoregressive", dist=dist, ar_order=order, ar_components=5, width=16, layers=2,
                       seed=seed, **kw)
    target = make_target(cfg)
    model = build(cfg, target)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * perturb)
    return cfg, target, model


def wide_box(model, half=8.0):
    c, s = model.center[0].double().numpy(), float(model.scale)
    return tuple(v for ci in c for v in (ci - half * s, ci + half * s))


@pytest.mark.parametrize("order", ["x1_first", "x2_first"])
def test_joint_integrates_to_one_and_views_are_its_marginal_and_conditional(order):
    _, _, model = model_for(order=order)
    box, n = wide_box(model), 300
    grid = density_grid(model, box, n=n)
    dx, dy = (box[1] - box[0]) / n, (box[3] - box[2]) / n
    q = np.exp(grid["log_q"])                                          # rows along y
    assert abs(q.sum() * dx * dy - 1) < 2e-3
    # The marginal view equals the joint integrated over the second variable (a fine 1D midpoint rule), and
    # the conditional view equals joint / marginal, at a few slices.
    first = model.first
    m = marginal(model, box, n=n)
    assert m["variable"] == ("x1" if order == "x1_first" else "x2") == variable_names(model)[0]
    lo, hi = box[2 * (1 - first)], box[2 * (1 - first) + 1]
    v = lo + (np.arange(40_000) + 0.5) * (hi - lo) / 40_000
    for j in (n // 2 - 40, n // 2 + 17, n // 2 + 60):
        given = m["x"][j]
        pts = np.zeros((len(v), 2))
        pts[:, first], pts[:, 1 - first] = given, v
        with torch.no_grad():
            joint = model.log_prob(torch.as_tensor(pts, dtype=torch.float32)).double().numpy()
        assert np.isclose(np.exp(joint).sum() * (hi - lo) / len(v), np.exp(m["log_q"][j]), rtol=1e-4)
        c = conditional(model, given, (lo, hi, lo, hi), n=50)
        assert c["variable"] == variable_names(model)[1] and c["given"] == given
        pts = np.zeros((50, 2))
        pts[:, first], pts[:, 1 - first] = given, c["x"]
        with torch.no_grad():
            joint = model.log_prob(torch.as_tensor(pts, dtype=torch.float32)).double().numpy()
        np.testing.assert_allclose(c["log_q"], joint - m["log_q"][j], atol=2e-4)


@pytest.mark.parametrize("dist", ["ring8", "bimodal1d"])
def test_samples_follow_the_density(dist):
    _, target, model = model_for(dist)
    box, n, k = wide_box(model), 200, 20
    grid = density_grid(model, box, n=n)
    cell = np.prod([(box[2 * i + 1] - box[2 * i]) / n for i in range(target.dim)])
    q = np.exp(grid["log_q"]) * cell
    x = model.sample(30_000, torch.Generator().manual_seed(3)).double().numpy()
    edges = [np.linspace(box[2 * i], box[2 * i + 1], k + 1) for i in range(target.dim)]
    if target.dim == 2:
        p = q.reshape(k, n // k, k, n // k).sum(axis=(1, 3)).ravel()
        counts = np.histogram2d(x[:, 1], x[:, 0], bins=[edges[1], edges[0]])[0].ravel()
    else:
        p = q.reshape(k, -1).sum(1)
        counts = np.histogram(x[:, 0], bins=edges[0])[0]
    keep = p * len(x) > 5
    exp = p[keep] / p[keep].sum() * counts[keep].sum()
    stat = ((counts[keep] - exp) ** 2 / exp).sum()
    assert chi2.sf(stat, keep.sum() - 1) > 1e-3


def test_training_fits_three_blobs_and_the_order_is_a_real_switch():
    _, target, model = model_for("three_blobs", perturb=0)
    x_eval = target.sample(4000, torch.Generator().manual_seed(11))
    lp = target.log_prob(x_eval.double().numpy())

    def kl(m):
        with torch.no_grad():
            return float(np.mean(lp - m.log_prob(x_eval).double().numpy()))

    before = kl(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    for _ in range(100):
        loss = model.training_loss(target.sample(256, g), g)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert kl(model) < min(0.1, before / 5), (before, kl(model))
    _, _, other = model_for("three_blobs", order="x2_first", perturb=0)
    x = torch.tensor([[2.0, 0.0]])
    assert other.first == 1 and not torch.allclose(other.log_prob(x), model.log_prob(x))


def test_one_dimensional_model_and_errors():
    _, target, model = model_for("bimodal1d")
    assert model.net is None and model.first == 0
    with pytest.raises(PlaygroundError, match="no conditional"):
        conditional(model, 0.0, target.bounds)
    with pytest.raises(PlaygroundError, match="ar_order"):
        from playground.families.autoregressive import Autoregressive

        Autoregressive(2, torch.zeros(2), 1.0, order="sideways")


def test_save_and_load_round_trip():
    cfg, target, model = model_for()
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    buf.seek(0)
    other = build(FamilyConfig(**{**cfg.__dict__, "seed": 5}), target)
    other.load_state_dict(torch.load(buf, weights_only=True))
    x = target.sample(64, torch.Generator().manual_seed(0))
    assert torch.equal(other.log_prob(x), model.log_prob(x))
    assert torch.equal(other.sample(20, torch.Generator().manual_seed(1)),
                       model.sample(20, torch.Generator().manual_seed(1)))
