"""Gradient estimators of the ELBO: unbiased against the closed-form gradient (linear-Gaussian model) and the
grid's gradient (a shipped VAE); the score function's variance is the larger."""

from pathlib import Path

import numpy as np
import pytest
import torch

from playground.errors import PlaygroundError
from playground.vae import estimators as E
from playground.vae import posterior as P
from playground.vae.linear_gaussian import LinearGaussian

ROOT = Path(__file__).resolve().parents[1]
DIGITS_2D = ROOT / "pretrained/vae/digits-2d.pt"


@pytest.fixture(scope="module")
def linear():
    lg = LinearGaussian.random(q_shift=(0.5, -0.4), q_scale=2.5)
    x = torch.tensor(np.random.default_rng(1).normal(size=(1, 1, 1, 6)))
    mu, lv = (t[0] for t in lg.encode(x))
    mu, lv = mu.clone().requires_grad_(True), lv.clone().requires_grad_(True)
    exact = torch.cat(torch.autograd.grad(lg.elbo(x, mu, lv), [mu, lv])).numpy()   # closed form, by autograd
    return lg, x, mu.detach().numpy(), lv.detach().numpy(), exact


def test_exact_gradient_is_the_closed_form_and_the_grid_elbos_slope(linear):
    lg, x, mu, lv, exact = linear
    assert np.abs(E.exact_gradient(lg, x, mu, lv) - exact).max() < 1e-8
    pg = P.posterior_grid(lg, x, n=120)                   # and the slope of the grid's ELBO, independently
    step, slope = 1e-4, []
    for i in range(4):
        d = np.zeros(4)
        d[i] = step
        hi, lo = np.concatenate([mu, lv]) + d, np.concatenate([mu, lv]) - d
        slope.append((P.elbo_on_grid(pg, hi[:2], hi[2:]) - P.elbo_on_grid(pg, lo[:2], lo[2:])) / (2 * step))
    assert np.abs(E.exact_gradient(lg, x, mu, lv) - slope).max() < 1e-4


def test_both_estimators_unbiased_and_score_function_noisier(linear):
    lg, x, mu, lv, exact = linear
    grads = E.per_sample_gradients(lg, x, mu, lv, samples=20000, seed=2)
    s = E.summarise(grads)
    for name in ("reparam", "score", "baseline"):
        assert np.all(np.abs(s[name]["mean"] - exact) < 4 * s[name]["se"]), name
    assert s["score"]["total_var"] > 5 * s["reparam"]["total_var"]
    assert s["reparam"]["total_var"] < s["baseline"]["total_var"] < s["score"]["total_var"]
    snr = E.snr(s)
    assert snr["reparam"] > snr["score"]


def test_variance_falls_as_one_over_samples(linear):
    lg, x, mu, lv, _ = linear
    rows = E.variance_vs_samples(E.per_sample_gradients(lg, x, mu, lv, samples=8000, seed=5), sizes=(1, 10, 100))
    assert [r["samples"] for r in rows] == [1, 10, 100]
    for r in rows:
        for name in ("reparam", "score"):
            assert 0.6 < r[name] / r[name + "_iid"] < 1.6
    assert rows[-1]["score"] < rows[0]["score"] / 50


@pytest.mark.skipif(not DIGITS_2D.is_file(), reason="pretrained VAEs missing: run make pretrained")
def test_shipped_vae_estimators_agree_with_the_exact_gradient():
    from playground.data import load_dataset
    from playground.vae.checkpoint import load_checkpoint

    model, _ = load_checkpoint(DIGITS_2D)
    x, y = P.test_image(model, load_dataset("digits", split="test"), 4)
    pg = P.posterior_grid(model, x, y, n=100, scan=80)
    exact = E.exact_gradient(model, x, pg.mu_q, pg.logvar_q, y)
    fine = P.posterior_grid(model, x, y, n=300, scan=80)      # the fine grid's ELBO slope, an independent check
    p0, slope = np.concatenate([pg.mu_q, pg.logvar_q]), []
    for i in range(4):
        d = np.eye(4)[i] * 1e-4
        slope.append((P.elbo_on_grid(fine, *np.split(p0 + d, 2)) - P.elbo_on_grid(fine, *np.split(p0 - d, 2))) / 2e-4)
    assert np.abs(exact - slope).max() < 1e-3 * max(1.0, np.abs(exact).max())
    s = E.summarise(E.per_sample_gradients(model, x, pg.mu_q, pg.logvar_q, y, samples=20000, seed=1))
    for name in ("reparam", "score", "baseline"):
        assert np.all(np.abs(s[name]["mean"] - exact) < 4.5 * s[name]["se"]), name
    assert s["score"]["total_var"] > 10 * s["reparam"]["total_var"]
    assert all(p.grad is None for p in model.parameters())


def test_sample_budget_checked(linear):
    lg, x, mu, lv, _ = linear
    with pytest.raises(PlaygroundError):
        E.per_sample_gradients(lg, x, mu, lv, samples=1)
