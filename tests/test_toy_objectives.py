"""Each objective's gradients against hand-derived values, and the penalties on a linear D."""

import math

import pytest
import torch
from torch import nn

from playground.toy import objectives as ob


def sig(v):
    return 1 / (1 + math.exp(-v))


def grad_of(fn, logits):
    x = torch.tensor(logits, dtype=torch.float64).reshape(-1, 1).requires_grad_(True)
    fn(x).sum().backward()
    return x.grad[:, 0].tolist()


LOGITS = [-5.0, -0.5, 0.0, 0.7, 3.0]


@pytest.mark.parametrize("name", ["minimax", "nonsaturating", "least_squares", "hinge", "wgan", "wgan_gp"])
def test_generator_loss_gradients(name):
    _, g_loss = ob.OBJECTIVES[name]
    expected = {
        "minimax": [-sig(v) for v in LOGITS],                   # d/dl log(1 - sigmoid(l))
        "nonsaturating": [sig(v) - 1 for v in LOGITS],          # d/dl -log sigmoid(l)
        "least_squares": [v - 1 for v in LOGITS],               # d/dl (l - 1)^2 / 2
        "hinge": [-1.0] * len(LOGITS),
        "wgan": [-1.0] * len(LOGITS),
        "wgan_gp": [-1.0] * len(LOGITS),
    }[name]
    assert grad_of(g_loss, LOGITS) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("name", ["minimax", "least_squares", "hinge", "wgan"])
def test_discriminator_loss_gradients(name):
    d_loss, _ = ob.OBJECTIVES[name]
    real = torch.tensor(LOGITS, dtype=torch.float64).reshape(-1, 1).requires_grad_(True)
    fake = torch.tensor(LOGITS[::-1], dtype=torch.float64).reshape(-1, 1).requires_grad_(True)
    d_loss(real, fake).sum().backward()
    r, f = LOGITS, LOGITS[::-1]
    exp_r, exp_f = {
        "minimax": ([sig(v) - 1 for v in r], [sig(v) for v in f]),
        "least_squares": ([v - 1 for v in r], [v for v in f]),
        "hinge": ([-1.0 if v < 1 else 0.0 for v in r], [1.0 if v > -1 else 0.0 for v in f]),
        "wgan": ([-1.0] * 5, [1.0] * 5),
    }[name]
    assert real.grad[:, 0].tolist() == pytest.approx(exp_r, abs=1e-12)
    assert fake.grad[:, 0].tolist() == pytest.approx(exp_f, abs=1e-12)


def test_minimax_saturates_where_nonsaturating_does_not():
    far = [-8.0]
    assert abs(grad_of(ob.minimax_g_loss, far)[0]) < 1e-3
    assert abs(grad_of(ob.nonsaturating_g_loss, far)[0]) > 0.999


def linear_d(w, b=0.3):
    d = nn.Linear(2, 1).double()
    with torch.no_grad():
        d.weight.copy_(torch.tensor([w], dtype=torch.float64))
        d.bias.fill_(b)
    return d


def test_gradient_penalty_on_linear_critic():
    # |grad D| = |w| everywhere, so the penalty is (|w| - 1)^2 whatever the interpolates are
    d = linear_d([3.0, 4.0])
    real = torch.randn(64, 2, dtype=torch.float64)
    fake = torch.randn(64, 2, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    gp = ob.gradient_penalty(d, real, fake, g)
    assert gp.item() == pytest.approx((5.0 - 1.0) ** 2)
    gp.backward()  # differentiable w.r.t. D's weights: d/dw (|w|-1)^2 = 2(|w|-1) w/|w|
    assert d.weight.grad[0].tolist() == pytest.approx([2 * 4 * 3 / 5, 2 * 4 * 4 / 5])


def test_r1_penalty_on_linear_discriminator():
    d = linear_d([1.0, -2.0])
    real = torch.randn(32, 2, dtype=torch.float64)
    assert ob.r1_penalty(d, real).item() == pytest.approx(0.5 * 5.0)
