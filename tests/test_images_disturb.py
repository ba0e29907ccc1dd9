"""Disturbances: identity at 0, shape and range kept, closed-form checks; the FID/IS curves are monotone on digits."""

import pytest
import torch

from playground.data import load_dataset
from playground.errors import PlaygroundError
from playground.images.disturb import DISTURBANCES, disturb, score_curve
from playground.images.metrics import make_extractor


@pytest.fixture(scope="module")
def digits():
    tr, te = load_dataset("digits", "train"), load_dataset("digits", "test")
    ex = make_extractor("classifier", "digits", 8, 1)
    return tr, te, ex, ex(tr.images)


@pytest.mark.parametrize("kind", list(DISTURBANCES))
def test_zero_is_identity_and_shape_range_kept(kind):
    x = torch.rand(20, 1, 8, 8)
    labels = torch.arange(20) % 4
    assert torch.equal(disturb(x, kind, 0.0, labels=labels), x)
    y = disturb(x, kind, 0.7, labels=labels)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    assert not torch.equal(y, x)


def test_blur_keeps_a_constant_image_and_spreads_a_dot():
    flat = torch.full((1, 1, 9, 9), 0.3)
    assert torch.allclose(disturb(flat, "blur", 1.0), flat, atol=1e-6)
    dot = torch.zeros(1, 1, 9, 9)
    dot[0, 0, 4, 4] = 1
    y = disturb(dot, "blur", 0.5)
    assert y[0, 0, 4, 4] < 1 and y[0, 0, 4, 5] > 0
    assert torch.allclose(y[0, 0], y[0, 0].T, atol=1e-6)            # an isotropic kernel is symmetric
    assert abs(float(y.sum()) - 1) < 1e-5                             # mass kept away from the border


def test_swirl_keeps_the_centre_and_a_radial_image():
    x = torch.rand(2, 1, 9, 9)
    y = disturb(x, "swirl", 1.0)
    assert torch.allclose(y[:, :, 4, 4], x[:, :, 4, 4], atol=1e-5)   # the centre does not move
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 33), torch.linspace(-1, 1, 33), indexing="ij")
    radial = (1 - (xx ** 2 + yy ** 2).sqrt() / 1.5).clamp(0, 1).view(1, 1, 33, 33)
    inside = ((xx ** 2 + yy ** 2).sqrt() < 0.95).view(1, 1, 33, 33)   # corners rotate out of the frame
    diff = (disturb(radial, "swirl", 1.0) - radial).abs()
    assert diff[inside].max() < 0.02                                   # a rotation leaves radial images alone


def test_salt_and_pepper_fraction_and_repeat_and_drop_counts():
    x = torch.full((50, 1, 20, 20), 0.5)
    y = disturb(x, "salt_and_pepper", 0.4)
    assert abs(float((y == 0).double().mean()) - 0.2) < 0.02 and abs(float((y == 1).double().mean()) - 0.2) < 0.02
    z = torch.rand(11, 1, 4, 4)
    r = disturb(z, "repeat_one", 0.5)
    assert sum(torch.equal(r[i], z[0]) for i in range(11)) == 1 + 5
    labels = torch.arange(100) % 10
    imgs = labels.view(-1, 1, 1, 1).float().expand(100, 1, 2, 2) / 10     # an image shows its class
    d = disturb(imgs, "drop_classes", 0.5, labels=labels)
    assert len(torch.unique(d)) == 10 - round(0.5 * 9)
    with pytest.raises(PlaygroundError):
        disturb(imgs, "drop_classes", 0.5)
    with pytest.raises(PlaygroundError):
        disturb(imgs, "blur", 1.5)
    with pytest.raises(PlaygroundError):
        disturb(imgs, "nope", 0.5)


@pytest.mark.parametrize("kind", ["gaussian_noise", "salt_and_pepper", "swirl", "drop_classes", "repeat_one"])
def test_curves_monotone_on_digits(digits, kind):
    _, te, ex, f = digits
    steps = []
    c = score_curve(te.images, f, ex, kind, [0, 0.25, 0.5, 0.75, 1.0], labels=te.labels,
                    progress=lambda i, n: steps.append((i, n)))
    assert all(b > a for a, b in zip(c["fid"], c["fid"][1:])), c["fid"]
    assert all(b < a for a, b in zip(c["is"], c["is"][1:])), c["is"]
    assert steps[-1] == (5, 5)
    assert c["fid_features"].startswith("classifier:digits") and "softmax" in c["is_features"]


def test_blur_curve_monotone_from_one_pixel(digits):
    _, te, ex, f = digits
    c = score_curve(te.images, f, ex, "blur", [0.25, 0.5, 0.75, 1.0])
    assert all(b > a for a, b in zip(c["fid"], c["fid"][1:])), c["fid"]
