"""Diffusion family: schedules, both samplers and the score against closed forms on a Gaussian target."""

import io
import itertools
import math

import numpy as np
import pytest
import torch

from playground.diffusion_core import AB_MIN, alpha_bars
from playground.errors import PlaygroundError
from playground.families import diffusion_views as views
from playground.families.config import FamilyConfig
from playground.families.diffusion import Diffusion
from playground.families.time_nets import DataScale
from playground.families.trainer import FamilyTrainer

MU = torch.tensor([[1.0, -0.5]])     # a Gaussian target N(MU, SD^2 I) in data coordinates
SD = 0.3


def _gaussian_model(timesteps: int = 1000) -> Diffusion:
    """A model whose network is the exact noise predictor of N(MU, SD^2 I): with z0 ~ N(m, v I) in scaled
    units, z_i ~ N(sqrt(ab) m, (ab v + 1 - ab) I) and E[eps | z_i] = sqrt(1 - ab) (z_i - sqrt(ab) m) /
    (ab v + 1 - ab)."""
    scale = DataScale(torch.tensor([0.2, 0.1]), 1.7)
    model = Diffusion(scale, width=8, layers=1, timesteps=timesteps, schedule="cosine")
    m = (MU - scale.mean) / scale.spread
    v = SD**2 / float(scale.spread) ** 2

    class Exact(torch.nn.Module):
        def forward(self, z, t):
            i = (torch.as_tensor(t) * timesteps).round().long().reshape(-1)
            ab = model.alpha_bar[i].float().reshape(-1, 1)
            return (1 - ab).sqrt() * (z - ab.sqrt() * m) / (ab * v + 1 - ab)

    model.net = Exact()
    return model


def test_schedules_start_at_data_and_end_near_noise():
    for schedule in ("cosine", "linear"):
        ab = alpha_bars(schedule, 1000)
        assert ab[0] == 1.0 and torch.all(ab[1:] < ab[:-1])
        assert AB_MIN <= ab[-1] < 1e-3
    lin = alpha_bars("linear", 1000)
    assert float(1 - (lin[1] - AB_MIN) / (1 - AB_MIN)) == pytest.approx(1e-4, rel=1e-6)   # Ho et al.'s beta_1
    with pytest.raises(PlaygroundError):
        alpha_bars("quadratic", 10)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_samplers_with_the_exact_noise_predictor_draw_the_target(sampler):
    model = _gaussian_model()
    x = model.sample(6000, torch.Generator().manual_seed(0), sampler=sampler, steps=1000)
    se_mean = SD / math.sqrt(len(x))
    assert torch.allclose(x.mean(0), MU[0], atol=5 * se_mean + 3e-3)
    assert torch.allclose(x.std(0), torch.full((2,), SD), rtol=0.03)


def test_score_has_the_closed_form_of_the_noised_marginal():
    """In data coordinates x_i = mean + scale z_i ~ N(mean + scale sqrt(ab) m, scale^2 (ab v + 1 - ab) I), whose
    score is -(x - centre) / variance: checks the sign and both scale factors of -eps_hat / sigma."""
    model = _gaussian_model()
    scale, mean = float(model.scale.spread), model.scale.mean
    m = (MU - mean) / scale
    v = SD**2 / scale**2
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(1)) * 2
    for t in (0.02, 0.3, 0.9):
        i = views.level(model, t)
        ab = float(model.alpha_bar[i])
        centre = mean + scale * math.sqrt(ab) * m
        var = scale**2 * (ab * v + 1 - ab)
        pts, s = views.score_field(model, t, (-3, 3, -3, 3), n_grid=7)
        true = -(torch.as_tensor(pts, dtype=torch.float32) - centre) / var
        np.testing.assert_allclose(s, true.numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(model.score(x, i).numpy(), (-(x - centre) / var).numpy(), rtol=1e-4, atol=1e-4)


def test_a_trained_model_learns_the_gaussian_score():
    cfg = FamilyConfig(model="diffusion", dist="ring8", n_modes=1, radius=1.0, std=0.5, width=32, layers=2,
                       batch_size=128, lr=5e-3, steps=400, seed=0)
    tr = FamilyTrainer(cfg)
    tr.train(cfg.steps)
    model = tr.model
    scale, mean = float(model.scale.spread), model.scale.mean
    m = (torch.tensor([[1.0, 0.0]]) - mean) / scale
    v = 0.25 / scale**2
    for t in (0.2, 0.5):
        i = views.level(model, t)
        ab = float(model.alpha_bar[i])
        centre = mean + scale * math.sqrt(ab) * m
        var = scale**2 * (ab * v + 1 - ab)
        x = centre + math.sqrt(var) * torch.randn(400, 2, generator=torch.Generator().manual_seed(2))
        true = -(x - centre) / var
        err = (model.score(x, i) - true).norm(dim=1).mean() / true.norm(dim=1).mean()
        assert err < 0.25, (t, float(err))


def test_views_forward_noising_and_reverse_path():
    model = _gaussian_model()
    x0 = np.array([[1.0, -0.5], [0.0, 2.0], [3.0, 1.0]])
    np.testing.assert_allclose(views.forward_noising(model, x0, 0.0, seed=3), x0, atol=1e-5)
    path = views.forward_noising(model, x0, np.array([0.0, 0.5, 1.0]), seed=3)
    assert path.shape == (3, 3, 2)
    np.testing.assert_allclose(path[1], views.forward_noising(model, x0, 0.5, seed=3))
    far = views.forward_noising(model, np.zeros((20_000, 2)), 1.0, seed=4)     # ~ mean + scale * N(0, I)
    assert far.std(0) == pytest.approx([1.7, 1.7], rel=0.03)
    times, traj = views.reverse_trajectory(model, 64, seed=5, sampler="ddim", steps=20)
    assert times.shape == (21,) and traj.shape == (21, 64, 2) and times[0] == 1.0 and times[-1] == 0.0
    last = model.sample(64, torch.Generator().manual_seed(5), sampler="ddim", steps=20)
    np.testing.assert_allclose(traj[-1], last.numpy(), atol=1e-5)
    _, ddpm = views.reverse_trajectory(model, 64, seed=5, sampler="ddpm", steps=20)
    np.testing.assert_allclose(ddpm[0], traj[0])            # same seed, same starting noise


def test_quality_vs_steps_and_levels():
    model = _gaussian_model(timesteps=100)
    model.spacing = "uniform"
    assert model.levels(4) == [100, 75, 50, 25, 0]
    assert len(model.levels(100)) == 101
    with pytest.raises(PlaygroundError):
        model.levels(101)
    model.spacing = "quadratic"                      # k + round((T - K) (k / K)^2)
    assert model.levels(4) == [100, 57, 26, 7, 0]
    lv = model.levels(50)
    assert len(lv) == 51 and lv[-3:] == [2, 1, 0] and all(a > b for a, b in itertools.pairwise(lv))
    assert model.levels(100) == list(range(100, -1, -1))
    cfg = FamilyConfig(dist="ring8", n_modes=1, radius=1.0, std=0.3)
    from playground.toy.targets import make_target

    q = views.quality_vs_steps(model, make_target(cfg), [1, 10, 100], n=2000, seed=0, sampler="ddim")
    assert list(q["steps"]) == [1, 10, 100] and q["grid_js"].shape == (3,)


def test_dry_run_no_density_and_save_load():
    cfg = FamilyConfig(model="diffusion", width=16, layers=1, batch_size=32, steps=5, diffusion_timesteps=50,
                       sample_steps=10)
    tr = FamilyTrainer(cfg)
    tr.train(1)
    assert tr.step == 1 and math.isfinite(tr.losses[0])
    assert tr.model.likelihood == "none"
    with pytest.raises(PlaygroundError, match="no density"):
        tr.model.log_prob(torch.zeros(3, 2))
    buf = io.BytesIO()
    torch.save(tr.model.state_dict(), buf)
    buf.seek(0)
    other = FamilyTrainer(FamilyConfig(**{**cfg.__dict__, "seed": 9})).model
    other.load_state_dict(torch.load(buf, weights_only=True))
    a = tr.model.sample(16, torch.Generator().manual_seed(0))
    b = other.sample(16, torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    with pytest.raises(PlaygroundError, match="sample_steps"):
        FamilyTrainer(FamilyConfig(model="diffusion", diffusion_timesteps=50, sample_steps=100))


def test_live_settings_apply_without_reset_and_others_refuse():
    from dataclasses import replace

    cfg = FamilyConfig(model="diffusion", width=16, layers=1, batch_size=32, diffusion_timesteps=50, sample_steps=10)
    tr = FamilyTrainer(cfg)
    tr.train(2)
    tr.apply(replace(cfg, sample_steps=5, diffusion_sampler="ddim", batch_size=16))
    assert (tr.model.sample_steps, tr.model.sampler) == (5, "ddim") and tr.step == 2
    tr.train_step()
    with pytest.raises(PlaygroundError, match="width needs a reset"):
        tr.apply(replace(cfg, width=32))
    with pytest.raises(PlaygroundError, match="cannot exceed"):
        tr.apply(replace(cfg, sample_steps=60))
