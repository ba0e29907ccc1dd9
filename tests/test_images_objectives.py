"""Every adversarial objective in the image trainer: its D and G losses and gradients equal a hand computation
on a tiny linear D (closed forms), any objective trains with any architecture, and old configs keep their loss."""

import json
from pathlib import Path

import pytest
import torch

from playground.configs import from_dict
from playground.data import ImageDataset
from playground.images import steps
from playground.images.config import PRESETS, ImageRunConfig
from playground.images.train import train
from playground.objectives import NAMES, get_objective
from playground.runs.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
N, LAMBDA = 6, 10.0


def tiny_cfg(**kw):
    return ImageRunConfig(**{"steps": 2, "batch_size": 8, "g_width": 8, "d_width": 8, "latent_dim": 4, "log_every": 1,
                             "sample_every": 2, "eval_every": 0, "final_eval": False, "features": "random",
                             "device": "cpu", **kw})


def tiny_data():
    return ImageDataset(name="tiny", images=torch.rand(32, 1, 8, 8, generator=torch.Generator().manual_seed(0)))


def linear_d(seed=0):
    g = torch.Generator().manual_seed(seed)
    d = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 1)).double()
    with torch.no_grad():
        d[1].weight.copy_(torch.randn(1, 4, generator=g, dtype=torch.float64))
        d[1].bias.copy_(torch.randn(1, generator=g, dtype=torch.float64))
    return d


def hand_d(name, w, b, r, f):
    """(loss, dL/dw, dL/db) by hand for D(x) = w.x + b: the objective's formula and its derivative."""
    ar, af = r @ w + b, f @ w + b
    s = torch.sigmoid
    if name in ("nonsaturating", "minimax"):           # -log s(ar) - log(1 - s(af))
        loss = (-torch.log(s(ar)) - torch.log(1 - s(af))).mean()
        cr, cf = -(1 - s(ar)), s(af)
    elif name == "least_squares":                      # (ar - 1)^2 / 2 + af^2 / 2
        loss = (0.5 * (ar - 1) ** 2 + 0.5 * af**2).mean()
        cr, cf = ar - 1, af
    elif name == "hinge":                              # max(0, 1 - ar) + max(0, 1 + af)
        loss = (torch.clamp(1 - ar, min=0) + torch.clamp(1 + af, min=0)).mean()
        cr, cf = -(ar < 1).double(), (af > -1).double()
    else:                                              # wgan, wgan_gp: af - ar
        loss = (af - ar).mean()
        cr, cf = -torch.ones_like(ar), torch.ones_like(af)
    dw = (cr[:, None] * r + cf[:, None] * f).mean(0)
    db = (cr + cf).mean()
    if name == "wgan_gp":                              # grad_x D = w at every interpolate: (|w| - 1)^2
        loss = loss + LAMBDA * (w.norm() - 1) ** 2
        dw = dw + LAMBDA * 2 * (w.norm() - 1) * w / w.norm()
    return loss, dw, db


def hand_g(name, w, b, f):
    """(loss, dL/df per sample) by hand for G's loss at D(f) = w.f + b."""
    af = f @ w + b
    s = torch.sigmoid
    loss, c = {"nonsaturating": ((-torch.log(s(af))).mean(), -(1 - s(af))),
               "minimax": (torch.log(1 - s(af)).mean(), -s(af)),
               "least_squares": ((0.5 * (af - 1) ** 2).mean(), af - 1)}.get(name, ((-af).mean(), -torch.ones_like(af)))
    return loss, c[:, None] * w[None, :] / len(f)


@pytest.mark.parametrize("name", NAMES)
def test_d_and_g_losses_and_gradients_equal_hand_computation(name):
    obj = get_objective(name)
    g = torch.Generator().manual_seed(1)
    real = torch.randn(N, 1, 2, 2, generator=g, dtype=torch.float64)
    fake = torch.randn(N, 1, 2, 2, generator=g, dtype=torch.float64)
    D = linear_d()
    w, b = D[1].weight.detach()[0], D[1].bias.detach()[0]
    alpha = torch.rand(N, 1, 1, 1, generator=g, dtype=torch.float64)
    loss, parts = steps.discriminator_loss(obj, D, real, fake, gp_weight=LAMBDA, alpha=alpha)
    loss.backward()
    want, dw, db = hand_d(name, w, b, real.flatten(1), fake.flatten(1))
    # (the trainer reads D's output in float32, as under mixed precision: agreement to float32 rounding)
    assert torch.allclose(loss.double(), want, atol=1e-5) and ("gp" in parts) == (name == "wgan_gp")
    assert torch.allclose(D[1].weight.grad[0], dw, atol=1e-5)
    assert torch.allclose(D[1].bias.grad[0], db, atol=1e-5)
    f = fake.clone().requires_grad_(True)
    g_loss = steps.generator_loss(obj, D, f)
    (df,) = torch.autograd.grad(g_loss, f)
    want, want_df = hand_g(name, w, b, fake.flatten(1))
    assert torch.allclose(g_loss.double(), want, atol=1e-5)
    assert torch.allclose(df.flatten(1), want_df, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_any_objective_trains_with_any_architecture(tmp_path, name):
    model = {"hinge": "dcgan", "nonsaturating": "sngan", "wgan_gp": "dcgan"}.get(name, "wgan_gp")
    cfg = tiny_cfg(model=model, loss=name, clip=0.05)
    result = train(cfg, tmp_path / "run", dataset=tiny_data())
    assert result["state"] == "completed" and result["loss"] == name
    assert RunDir(tmp_path / "run").config()["loss"] == name
    rows = RunDir(tmp_path / "run").read_metrics()
    assert ("gp" in rows[-1]) == (name == "wgan_gp")
    if name == "wgan":                                   # the critic's weights stay clipped
        from playground.images.trainer import load_run_checkpoint

        ck = load_run_checkpoint(RunDir(tmp_path / "run").latest_path)
        assert all(float(v.abs().max()) <= 0.05 + 1e-7 for v in ck["nets"]["D"].values() if v.is_floating_point())


def test_a_left_out_loss_is_the_architectures_published_one_so_old_configs_mean_the_same_run():
    assert [ImageRunConfig(model=m).loss for m in ("dcgan", "wgan_gp", "sngan", "vae")] == \
        ["nonsaturating", "wgan_gp", "hinge", None]
    shipped = json.loads((ROOT / "pretrained/image_runs/digits-dcgan/config.json").read_text())
    assert "loss" not in shipped and "runs_dir" in shipped               # written before both changes
    assert from_dict(ImageRunConfig, shipped).loss == "nonsaturating"
    assert [PRESETS[p].config(ImageRunConfig).loss for p in ("dcgan_digits", "wgan_gp_digits", "sngan_digits")] \
        == ["nonsaturating", "wgan_gp", "hinge"]
    assert ImageRunConfig(model="sngan", loss="nonsaturating").objective.output == "logit"
    with pytest.raises(Exception, match="for GANs"):
        from_dict(ImageRunConfig, {"model": "vae", "loss": "hinge"})
