"""DiffAugment in the GAN step: each transform against a hand-built image, gradients through it, and the
config and CLI that switch it on (a resumed augmented run is the uninterrupted one)."""

from __future__ import annotations

import pytest
import torch

from playground.errors import PlaygroundError
from playground.images import augment as A
from playground.images.config import ImageRunConfig


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_translation_moves_each_image_by_its_own_whole_pixel_shift():
    x = torch.full((64, 1, 16, 16), -1.0)
    x[:, 0, 8, 8] = 1.0                                   # one lit pixel per image
    y = A.translate(x, _gen(), ratio=0.125)              # r = 2
    assert y.shape == x.shape
    lit = (y[:, 0] == 1.0).nonzero()
    assert len(lit) == 64                                 # the pixel stays in view (|shift| <= 2), exactly once
    dy, dx = lit[:, 1] - 8, lit[:, 2] - 8
    assert dy.abs().max() <= 2 and dx.abs().max() <= 2
    assert len(set(zip(dy.tolist(), dx.tolist()))) > 10   # independent draws per image
    assert set(y.unique().tolist()) == {-1.0, 1.0}        # uncovered pixels are the background


def test_translation_by_hand_and_its_gradient():
    x = torch.arange(16.0).view(1, 1, 4, 4).requires_grad_(True)
    g = _gen(3)
    y = A.translate(x, g, ratio=0.25)                     # r = 1
    g = _gen(3)                                           # the same draws, by hand
    dy = int(torch.randint(-1, 2, (1, 1, 1), generator=g))
    dx = int(torch.randint(-1, 2, (1, 1, 1), generator=g))
    want = torch.full((4, 4), -1.0)
    for i in range(4):
        for j in range(4):
            si, sj = i - dy, j - dx
            if 0 <= si < 4 and 0 <= sj < 4:
                want[i, j] = x[0, 0, si, sj].detach()
    assert torch.equal(y[0, 0].detach(), want)
    y.sum().backward()
    kept = (want != -1.0).sum()
    assert int(x.grad.sum()) == int(kept)                 # every pixel still in view gets gradient 1


def test_cutout_blanks_one_half_side_square():
    x = torch.ones(200, 1, 16, 16)
    y = A.cutout(x, _gen(1), ratio=0.5)
    blank = (y == A.BACKGROUND).flatten(1).sum(1)
    assert blank.max() == 64 and blank.min() >= 16        # 8 x 8, fewer where it hangs over the edge
    rows = (y[:, 0] == A.BACKGROUND).any(2).sum(1)
    cols = (y[:, 0] == A.BACKGROUND).any(1).sum(1)
    assert torch.equal(blank, rows * cols)                # a rectangle, not scattered pixels


def test_augmented_d_and_the_none_policy():
    D = lambda x: x.flatten(1).sum(1)                     # noqa: E731
    assert A.augmented(D, "none", _gen()) is D
    x = torch.ones(8, 1, 8, 8)
    out = A.augmented(D, "cutout", _gen())(x)
    assert (out < 64).all()                               # D saw blanked images


def test_config_refuses_augment_for_non_gans():
    ImageRunConfig(model="sngan", augment="translation_cutout").validate()
    with pytest.raises(PlaygroundError, match="augment"):
        ImageRunConfig(model="vae", augment="cutout").validate()


def test_an_augmented_run_resumes_bit_for_bit(tmp_path):
    from playground.images.train import train
    from playground.images.trainer import load_run_checkpoint

    base = dict(dataset="digits", model="sngan", augment="translation_cutout", g_width=8, d_width=8, latent_dim=8,
                batch_size=8, eval_every=0, final_eval=False, sample_every=1000, log_every=1, checkpoint_every=2,
                features="random", device="cpu", threads=1)
    train(ImageRunConfig(steps=4, **base), out=tmp_path / "whole")
    train(ImageRunConfig(steps=2, **base), out=tmp_path / "cut")
    train(ImageRunConfig(steps=4, **base), resume=tmp_path / "cut")
    a, b = (load_run_checkpoint(tmp_path / d / "checkpoints" / "latest.pt") for d in ("whole", "cut"))
    assert a["step"] == b["step"] == 4
    for net in ("G", "D"):
        for k, v in a["nets"][net].items():
            assert torch.equal(v, b["nets"][net][k]), (net, k)
    train(ImageRunConfig(steps=4, **{**base, "augment": "none"}), out=tmp_path / "plain")
    c = load_run_checkpoint(tmp_path / "plain" / "checkpoints" / "latest.pt")
    assert not all(torch.equal(v, a["nets"]["D"][k]) for k, v in c["nets"]["D"].items())   # the flag took effect
