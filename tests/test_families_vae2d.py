"""VAE on toy data: its importance-weighted bound rises with K and stays below the model's true log-likelihood,
computed independently by quadrature over the latent (itself checked to converge and integrate to 1)."""

import io
import itertools
import math

import numpy as np
import pytest
import torch

from playground.errors import PlaygroundError
from playground.families import vae2d_views as views
from playground.families.config import FamilyConfig
from playground.families.scoreboard import scoreboard
from playground.families.trainer import FamilyTrainer
from playground.families.vae2d import VAE2D


def _trained(latent: int, dist: str = "two_gaussians", steps: int = 300) -> FamilyTrainer:
    cfg = FamilyConfig(model="vae", dist=dist, vae_latent_dim=latent, width=32, layers=2, batch_size=256,
                       lr=3e-3, steps=steps, seed=0, vae_iwae_k=16)
    tr = FamilyTrainer(cfg)
    tr.train(steps)
    return tr


@pytest.fixture(scope="module")
def vae1():
    return _trained(1)


def test_quadrature_converges_and_integrates_to_one(vae1):
    model, target = vae1.model, vae1.target
    x = target.sample(50, torch.Generator().manual_seed(0))
    coarse, fine = model.log_prob_quadrature(x, n_grid=1000), model.log_prob_quadrature(x, n_grid=4000)
    torch.testing.assert_close(coarse, fine, atol=1e-4, rtol=0)
    b = target.bounds
    gx, gy = np.meshgrid(np.linspace(b[0] - 1, b[1] + 1, 80), np.linspace(b[2] - 1, b[3] + 1, 80), indexing="ij")
    pts = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32)
    cell = ((b[1] - b[0] + 2) / 79) * ((b[3] - b[2] + 2) / 79)
    assert torch.exp(model.log_prob_quadrature(pts, n_grid=1000)).sum().item() * cell == pytest.approx(1, abs=0.03)


def test_iwae_bound_rises_with_k_and_stays_below_log_likelihood(vae1):
    model, target = vae1.model, vae1.target
    x = target.sample(300, torch.Generator().manual_seed(1))
    exact = model.log_prob_quadrature(x).mean().item()
    means = [model.log_prob(x, k=k, seed=7).mean().item() for k in (1, 4, 32, 256)]
    assert all(a < b + 1e-3 for a, b in itertools.pairwise(means)), means
    assert means[-1] - means[0] > 0.005                                 # the bound is not flat in K
    assert all(m <= exact + 0.01 for m in means), (means, exact)
    assert exact - means[-1] < exact - means[0]                          # K closes the gap
    # per point, the K-sample estimate averaged over independent draws is below log q(x)
    rep = torch.stack([model.iwae_bound(x[:20], 4, torch.Generator().manual_seed(s)) for s in range(200)])
    se = rep.std(0) / math.sqrt(200)
    assert torch.all(rep.mean(0) <= model.log_prob_quadrature(x[:20]) + 4 * se + 1e-4)


def test_2d_latent_bound_below_quadrature_and_views():
    tr = _trained(2, steps=150)
    model = tr.model
    x = tr.target.sample(40, torch.Generator().manual_seed(2))
    exact = model.log_prob_quadrature(x, n_grid=300).mean().item()
    assert model.log_prob(x, k=64).mean().item() <= exact + 0.01
    m = views.encoder_map(model, x.numpy())
    assert m["means"].shape == (40, 2) and m["ellipses"].shape == (40, 33, 2)
    np.testing.assert_allclose(m["ellipses"][:, 0], m["means"] + m["stds"] * [1, 0], atol=1e-9)
    d = views.decoded(model, 25, seed=3)
    np.testing.assert_allclose(d["samples"], model.sample(25, torch.Generator().manual_seed(3)).numpy(), atol=1e-5)
    b = views.bounds_vs_k(model, x.numpy(), [1, 8], seed=0, target=tr.target)
    assert b["bound"].shape == (2,) and b["bound"][0] <= float(b["model_log_prob"]) + 0.01
    assert float(b["target_log_prob"]) == pytest.approx(float(np.mean(tr.target.log_prob(x.numpy()))))


def test_1d_data_scoreboard_reports_a_bound_and_save_load():
    tr = _trained(1, dist="bimodal1d", steps=100)
    row = scoreboard(tr.model, tr.target, n=500)
    assert row["likelihood"] == "bound" and row["kl"] is None and row["nll"] is None
    assert row["kl_bound"] is not None and row["kl_bound"] > -0.05          # an upper bound on KL >= 0
    buf = io.BytesIO()
    torch.save(tr.model.state_dict(), buf)
    buf.seek(0)
    other = FamilyTrainer(FamilyConfig(**{**tr.cfg.__dict__, "seed": 5})).model
    other.load_state_dict(torch.load(buf, weights_only=True))
    x = torch.linspace(-3, 3, 7)[:, None]
    torch.testing.assert_close(other.log_prob(x, seed=0), tr.model.log_prob(x, seed=0))
    with pytest.raises(PlaygroundError):
        VAE2D(tr.model.scale, latent_dim=3)
    with pytest.raises(PlaygroundError, match="column"):
        tr.model.log_prob(torch.zeros(3, 2))
