"""Per-example inference: the optimised q beats the encoder, never log p(x), and reaches the best Gaussian,
whose closed form is known for the linear-Gaussian model."""

from pathlib import Path

import numpy as np
import pytest
import torch

from playground.errors import PlaygroundError
from playground.vae import amortisation as A
from playground.vae import posterior as P
from playground.vae.linear_gaussian import LinearGaussian

ROOT = Path(__file__).resolve().parents[1]
DIGITS_2D = ROOT / "pretrained/vae/digits-2d.pt"


def test_linear_gaussian_reaches_the_closed_form_best_gaussian():
    lg = LinearGaussian.random(q_shift=(0.5, -0.4), q_scale=2.5)
    x = torch.tensor(np.random.default_rng(1).normal(size=(1, 1, 1, 6)))
    pg = P.posterior_grid(lg, x, n=120)
    # argmax of the ELBO over diagonal Gaussians for p(z|x) = N(m, S): mean m, variances 1 / diag(S⁻¹)
    m, S = lg.posterior(x)
    lv_best = np.log(1.0 / np.diag(np.linalg.inv(S)))
    best = A.best_gaussian(pg)
    assert np.abs(best["mu"] - m).max() < 1e-3 and np.abs(best["logvar"] - lv_best).max() < 1e-3
    exact_best = float(lg.elbo(x, torch.tensor(m), torch.tensor(lv_best)))
    assert abs(best["elbo"] - exact_best) < 1e-3
    hist = list(A.optimise_q(lg, x, pg, steps=150, every=50))
    assert [h["step"] for h in hist] == [0, 50, 100, 150]
    assert np.abs(hist[-1]["mu"] - m).max() < 0.05
    g = A.gaps(pg, hist[-1], best)
    assert g["amortisation_gap"] > 1.0 and g["closed"] > 0.98
    assert abs(g["family_gap"] - (lg.log_marginal(x) - exact_best)) < 1e-3 and g["family_gap"] > 0.05


@pytest.mark.skipif(not DIGITS_2D.is_file(), reason="pretrained VAEs missing: run make pretrained")
@pytest.mark.parametrize("index", [0, 7])
def test_optimised_elbo_between_the_encoder_and_log_px(index):
    from playground.data import load_dataset
    from playground.vae.checkpoint import load_checkpoint

    model, _ = load_checkpoint(DIGITS_2D)
    x, y = P.test_image(model, load_dataset("digits", split="test"), index)
    pg = P.posterior_grid(model, x, y, n=80, scan=64)
    before = [p.detach().clone() for p in model.parameters()]
    hist = list(A.optimise_q(model, x, pg, y, steps=200, every=20))
    encoder = P.elbo_gauss_hermite(model, x, y, pg.mu_q, pg.logvar_q)
    assert hist[0]["elbo"] == pytest.approx(encoder) and encoder == pytest.approx(
        P.elbo_on_grid(pg, pg.mu_q, pg.logvar_q), abs=1e-3)        # the grid agrees where it resolves q
    assert encoder < hist[-1]["elbo"] <= pg.log_px
    best = A.best_gaussian(pg, elbo=A.elbo_of(model, x, y))
    assert hist[-1]["elbo"] <= best["elbo"] + 1e-4 <= pg.log_px
    assert A.gaps(pg, hist[-1], best, A.elbo_of(model, x, y))["closed"] > 0.8
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))    # the model is not trained
    assert all(p.grad is None for p in model.parameters())


def test_gauss_hermite_elbo_is_the_closed_form_even_where_q_is_narrower_than_the_cells():
    lg = LinearGaussian.random(sigma=0.05)                  # a sharp posterior: sd about 0.05
    x = torch.tensor(np.random.default_rng(2).normal(size=(1, 1, 1, 6)))
    for mu, lv in (([0.3, -0.2], [-1.0, 0.5]), ([0.0, 0.1], [-9.0, -8.0])):
        exact = float(lg.elbo(x, torch.tensor(mu, dtype=torch.float64), torch.tensor(lv, dtype=torch.float64)))
        assert P.elbo_gauss_hermite(lg, x, None, mu, lv) == pytest.approx(exact, abs=1e-8)
    # the best Gaussian on a grid whose cells are wider than the posterior: the grid alone stops at its
    # one-cell floor; polished on the quadrature it reaches the closed form
    pg = P.posterior_grid(lg, x, n=16, scan=32)
    m, S = lg.posterior(x)
    lv_best = np.log(1.0 / np.diag(np.linalg.inv(S)))
    exact_best = float(lg.elbo(x, torch.tensor(m), torch.tensor(lv_best)))
    polished = A.best_gaussian(pg, elbo=A.elbo_of(lg, x))
    assert polished["elbo"] == pytest.approx(exact_best, abs=1e-4)
    assert np.abs(polished["logvar"] - lv_best).max() < 0.05
    assert A.best_gaussian(pg)["elbo"] < exact_best - 1e-3       # what the grid alone gave


def test_bad_budgets_refused():
    lg = LinearGaussian.random()
    x = torch.zeros(1, 1, 1, 6, dtype=torch.float64)
    pg = P.posterior_grid(lg, x, n=32, scan=32)
    with pytest.raises(PlaygroundError):
        next(A.optimise_q(lg, x, pg, steps=0))
