"""Built-in datasets: digits' fixed split, sprites' determinism, factors and rendering."""

import numpy as np
import pytest
import torch

from playground.data import load_dataset, resize_images, to_channels
from playground.data import sprites as S
from playground.errors import PlaygroundError


def test_digits_fixed_split():
    tr, te = load_dataset("digits", "train"), load_dataset("digits", "test")
    assert (len(tr), len(te)) == (1497, 300)
    assert tr.images.shape[1:] == (1, 8, 8) and tr.images.dtype == torch.float32
    assert 0.0 <= float(tr.images.min()) and float(tr.images.max()) <= 1.0
    assert tr.num_classes == 10 and tr.labels.dtype == torch.long
    assert torch.equal(load_dataset("digits", "test", seed=5).images, te.images)  # split does not move with seed
    # train and test are disjoint and together are all 1,797 images
    all_ = load_dataset("digits", "all")
    assert len(all_) == 1797
    flat = {tuple(x.flatten().tolist()) for x in all_.images}
    assert len({tuple(x.flatten().tolist()) for x in torch.cat([tr.images, te.images])}) == len(flat)


def test_digits_resize_and_channels():
    ds = load_dataset("digits", "test", resolution=16, channels=3)
    assert ds.images.shape == (300, 3, 16, 16)
    assert torch.allclose(ds.images[:, 0], ds.images[:, 2])
    assert ds.resolution == 16 and ds.channels == 3


def test_sprites_deterministic_from_seed_and_factors_recorded():
    a = load_dataset("sprites", size=200, seed=7)
    b = load_dataset("sprites", size=200, seed=7)
    c = load_dataset("sprites", size=200, seed=8)
    assert torch.equal(a.images, b.images)
    assert not torch.equal(a.images, c.images)
    assert set(a.factors) == {"shape", "scale", "rotation", "x", "y"}
    for k, v in a.factors.items():
        assert v.shape == (200,) and v.min() >= 0 and v.max() < a.factor_sizes[k]
    # re-rendering from the recorded factors reproduces the images exactly
    assert np.array_equal(S.render(a.factors, 32), a.images.numpy())
    # train and test streams differ
    assert not torch.equal(load_dataset("sprites", "test", size=200, seed=7).images, a.images)


def test_sprites_render_matches_factors():
    base = {"shape": np.array([0]), "scale": np.array([5]), "rotation": np.array([0]),
            "x": np.array([0]), "y": np.array([11])}
    img = S.render(base, 32)[0, 0]
    ys, xs = np.nonzero(img > 0.5)
    assert xs.mean() < 12 and ys.mean() > 20  # x=0 is left, y=max is bottom
    bigger = S.render(base, 32)[0, 0].sum()
    smaller = S.render({**base, "scale": np.array([0])}, 32)[0, 0].sum()
    assert bigger > 3 * smaller  # area grows with the square of the scale (1.0 vs 0.5)
    # the unit square has half side 0.8: area (2*0.8*r*32)^2 pixels
    r = S.MAX_RADIUS * 32
    assert bigger == pytest.approx((1.6 * r) ** 2, rel=0.05)
    # anti-aliased: some edge pixels strictly between 0 and 1 for a rotated shape
    rot = S.render({**base, "rotation": np.array([3])}, 32)[0, 0]
    assert ((rot > 0.05) & (rot < 0.95)).any()
    assert 0.0 <= rot.min() and rot.max() <= 1.0


def test_sprites_colour_and_resolution():
    ds = load_dataset("sprites", size=50, resolution=64, channels=3, seed=1)
    assert ds.images.shape == (50, 3, 64, 64)
    assert "colour" in ds.factors and ds.factor_sizes["colour"] == len(S.PALETTE)
    # a grey image has equal channels; colour factor 1 (red) has a dominant red channel
    i = int(np.flatnonzero(ds.factors["colour"] == 1)[0])
    assert ds.images[i, 0].sum() > 2 * ds.images[i, 1].sum()


def test_bad_arguments():
    with pytest.raises(PlaygroundError, match="unknown dataset"):
        load_dataset("imagenet")
    with pytest.raises(PlaygroundError, match="split"):
        load_dataset("digits", split="val")
    with pytest.raises(PlaygroundError, match="channels"):
        load_dataset("digits", channels=2)


def test_resize_and_channel_helpers():
    x = torch.rand(3, 3, 10, 14)
    y = resize_images(x, 5)
    assert y.shape == (3, 3, 5, 5) and float(y.min()) >= 0 and float(y.max()) <= 1
    const = torch.full((1, 1, 12, 12), 0.3)
    assert torch.allclose(resize_images(const, 4), torch.full((1, 1, 4, 4), 0.3), atol=1e-6)
    grey = to_channels(torch.ones(2, 3, 4, 4), 1)
    assert torch.allclose(grey, torch.ones(2, 1, 4, 4))
