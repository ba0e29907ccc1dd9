"""The objectives table against hand computation: per-sample losses, their gradients (autograd of the hand
formula and finite differences), each record's D* against a numerical optimum, and the penalties on
discriminators whose input gradient is known in closed form (toy points and image batches)."""

import math

import numpy as np
import pytest
import torch
from scipy import optimize
from torch import nn

from playground import objectives as ob
from playground import penalties as pen
from playground.configs import choices
from playground.errors import PlaygroundError
from playground.numerics import optimal_discriminator, sigmoid
from playground.toy.config import ToyConfig

ALL = ["minimax", "nonsaturating", "least_squares", "hinge", "wgan", "wgan_gp"]
REAL = [-5.0, -0.5, 0.0, 0.7, 3.0]
FAKE = [2.0, -1.5, 0.25, -3.0, 0.9]


def sig(v):
    return 1 / (1 + math.exp(-v))


# Hand formulas, written the naive way (probabilities, logs, max) on Python floats.
HAND_D = {
    "minimax": lambda r, f: -math.log(sig(r)) - math.log(1 - sig(f)),
    "nonsaturating": lambda r, f: -math.log(sig(r)) - math.log(1 - sig(f)),
    "least_squares": lambda r, f: 0.5 * (r - 1) ** 2 + 0.5 * f**2,
    "hinge": lambda r, f: max(0.0, 1 - r) + max(0.0, 1 + f),
    "wgan": lambda r, f: f - r,
    "wgan_gp": lambda r, f: f - r,
}
HAND_G = {
    "minimax": lambda f: math.log(1 - sig(f)),
    "nonsaturating": lambda f: -math.log(sig(f)),
    "least_squares": lambda f: 0.5 * (f - 1) ** 2,
    "hinge": lambda f: -f,
    "wgan": lambda f: -f,
    "wgan_gp": lambda f: -f,
}
# The same formulas as torch expressions, for autograd.
TORCH_D = {
    "minimax": lambda r, f: -torch.log(torch.sigmoid(r)) - torch.log(1 - torch.sigmoid(f)),
    "least_squares": lambda r, f: 0.5 * (r - 1) ** 2 + 0.5 * f**2,
    "hinge": lambda r, f: torch.clamp(1 - r, min=0) + torch.clamp(1 + f, min=0),
    "wgan": lambda r, f: f - r,
}
TORCH_D["nonsaturating"] = TORCH_D["minimax"]
TORCH_D["wgan_gp"] = TORCH_D["wgan"]
TORCH_G = {
    "minimax": lambda f: torch.log(1 - torch.sigmoid(f)),
    "nonsaturating": lambda f: -torch.log(torch.sigmoid(f)),
    "least_squares": lambda f: 0.5 * (f - 1) ** 2,
    "hinge": lambda f: -f, "wgan": lambda f: -f, "wgan_gp": lambda f: -f,
}


def t64(values, column=False):
    t = torch.tensor(values, dtype=torch.float64)
    return t.reshape(-1, 1) if column else t


def test_the_table_is_the_toy_labs_loss_choice():
    assert set(ob.NAMES) == set(ALL)
    assert choices(ToyConfig, "loss") == ob.NAMES
    assert ToyConfig().loss == ob.NAMES[0]
    for name in ALL:
        o = ob.get_objective(name)
        assert o.name == name and o.formula and o.lesson


def test_unknown_objective_names_the_choices():
    with pytest.raises(PlaygroundError, match="unknown objective 'bce'.*nonsaturating.*wgan_gp"):
        ob.get_objective("bce")


def test_what_depends_on_the_objective():
    by = {n: ob.get_objective(n) for n in ALL}
    assert [n for n in ALL if by[n].output == "logit"] == ["minimax", "nonsaturating"]
    assert [n for n in ALL if by[n].penalty] == ["wgan_gp"] and by["wgan_gp"].penalty == "gradient_penalty"
    assert [n for n in ALL if by[n].clip] == ["wgan"]
    assert [n for n in ALL if by[n].has_optimal_d] == ["minimax", "nonsaturating", "least_squares"]
    raw = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(by["minimax"].display(raw), [sig(v) for v in raw], rtol=1e-14)
    np.testing.assert_array_equal(by["hinge"].display(raw), raw)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("column", [False, True])
def test_per_sample_losses_equal_the_hand_formulas(name, column):
    o = ob.get_objective(name)
    d = o.d_loss(t64(REAL, column), t64(FAKE, column))
    g = o.g_loss(t64(FAKE, column))
    assert d.shape == g.shape == (len(REAL),)
    assert d.tolist() == pytest.approx([HAND_D[name](r, f) for r, f in zip(REAL, FAKE)], rel=1e-12)
    assert g.tolist() == pytest.approx([HAND_G[name](f) for f in FAKE], rel=1e-12)


@pytest.mark.parametrize("name", ALL)
def test_gradients_match_autograd_of_the_hand_formula_and_finite_differences(name):
    o = ob.get_objective(name)
    r, f = t64(REAL, True).requires_grad_(True), t64(FAKE, True).requires_grad_(True)
    o.d_loss(r, f).sum().backward()
    r_ref, f_ref = t64(REAL, True).requires_grad_(True), t64(FAKE, True).requires_grad_(True)
    TORCH_D[name](r_ref, f_ref).sum().backward()
    torch.testing.assert_close(r.grad, r_ref.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(f.grad, f_ref.grad, rtol=1e-10, atol=1e-12)
    g = t64(FAKE, True).requires_grad_(True)
    o.g_loss(g).sum().backward()
    g_ref = t64(FAKE, True).requires_grad_(True)
    TORCH_G[name](g_ref).sum().backward()
    torch.testing.assert_close(g.grad, g_ref.grad, rtol=1e-10, atol=1e-12)
    # central differences of the per-sample losses (no output sits on a hinge's kink)
    h = 1e-6
    fd_r = [(HAND_D[name](v + h, w) - HAND_D[name](v - h, w)) / (2 * h) for v, w in zip(REAL, FAKE)]
    fd_f = [(HAND_D[name](v, w + h) - HAND_D[name](v, w - h)) / (2 * h) for v, w in zip(REAL, FAKE)]
    fd_g = [(HAND_G[name](w + h) - HAND_G[name](w - h)) / (2 * h) for w in FAKE]
    assert r.grad[:, 0].tolist() == pytest.approx(fd_r, abs=1e-7)
    assert f.grad[:, 0].tolist() == pytest.approx(fd_f, abs=1e-7)
    assert g.grad[:, 0].tolist() == pytest.approx(fd_g, abs=1e-7)


def test_minimax_saturates_where_nonsaturating_does_not():
    far = t64([-8.0]).requires_grad_(True)
    ob.get_objective("minimax").g_loss(far).sum().backward()
    assert abs(far.grad.item()) < 1e-3
    far.grad = None
    ob.get_objective("nonsaturating").g_loss(far).sum().backward()
    assert far.grad.item() < -0.999


def pointwise_d_objective(o, p, q, out):
    """p A(out) + q B(out) for d_loss(r, f) = A(r) + B(f): D's expected loss at one point with densities p, q
    when it outputs `out` there (the constant from the reference output 0 does not move the minimiser)."""
    x, zero = t64([out]), t64([0.0])
    return (p * o.d_loss(x, zero) + q * o.d_loss(zero, x)).item()


PQ = [(0.3, 0.1), (1.0, 1.0), (0.02, 0.5), (2.0, 1e-3), (1e-4, 3e-4)]


@pytest.mark.parametrize("name", ["minimax", "nonsaturating", "least_squares"])
@pytest.mark.parametrize("p,q", PQ)
def test_optimal_output_is_the_numerical_optimum_of_d(name, p, q):
    o = ob.get_objective(name)
    best = optimize.minimize_scalar(lambda v: pointwise_d_objective(o, p, q, v), bounds=(-12, 12),
                                    method="bounded", options={"xatol": 1e-10}).x
    mapped = float(o.optimal_raw(np.log(p), np.log(q)))
    assert mapped == pytest.approx(best, abs=1e-5)
    assert float(o.display(mapped)) == pytest.approx(p / (p + q), rel=1e-12)     # on screen: D* itself


def test_hinge_and_wasserstein_have_no_p_over_p_plus_q_optimum():
    hinge = ob.get_objective("hinge")
    best = optimize.minimize_scalar(lambda v: pointwise_d_objective(hinge, 0.3, 0.1, v), bounds=(-5, 5),
                                    method="bounded").x
    assert best == pytest.approx(1.0, abs=1e-4)          # the margin, whatever p/(p+q) = 0.75 is
    wgan = ob.get_objective("wgan")
    # linear in the output: (q - p) out has no minimum; the critic needs a Lipschitz constraint
    assert pointwise_d_objective(wgan, 0.3, 0.1, 100.0) < pointwise_d_objective(wgan, 0.3, 0.1, 10.0)
    with pytest.raises(PlaygroundError, match="no optimal discriminator"):
        wgan.optimal_raw(np.zeros(1), np.zeros(1))


def test_optimal_discriminator_in_the_log_domain():
    lp, lq = np.log([0.3, 2.0, 1e-3]), np.log([0.1, 2.0, 4.0])
    np.testing.assert_allclose(optimal_discriminator(lp, lq), [0.75, 0.5, 1e-3 / 4.001], rtol=1e-12)
    # densities far below float range: log p = -2000, log q = -2001 still give D* = sigmoid(1)
    assert optimal_discriminator(np.array([-2000.0]), np.array([-2001.0]))[0] == pytest.approx(sig(1.0))
    # one density zero, both zero
    inf = np.inf
    assert optimal_discriminator(np.array([0.0, -inf, -inf]), np.array([-inf, 0.0, -inf])).tolist() == [1, 0, 0.5]
    assert sigmoid(np.array(-30.0)) == pytest.approx(math.exp(-30) / (1 + math.exp(-30)), rel=1e-14)


# ---- penalties


class LinearImageD(nn.Module):
    """D(x) = <W, x> + b per image: its input gradient is W for every sample."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w.clone())

    def forward(self, x):
        return (x * self.w).flatten(1).sum(1) + 0.3


class HalfSquareD(nn.Module):
    """D(x) = 1/2 |x|^2 per sample: its input gradient is x itself."""

    def forward(self, x):
        return 0.5 * x.pow(2).flatten(1).sum(1)


def linear_2d(w):
    d = nn.Linear(2, 1).double()
    with torch.no_grad():
        d.weight.copy_(torch.tensor([w], dtype=torch.float64))
        d.bias.fill_(0.3)
    return d


def test_gradient_penalty_on_a_linear_critic_2d():
    # |grad D| = |w| everywhere, so the penalty is (|w| - 1)^2 whatever the interpolates are
    d = linear_2d([3.0, 4.0])
    real, fake = torch.randn(64, 2, dtype=torch.float64), torch.randn(64, 2, dtype=torch.float64)
    gp = pen.gradient_penalty(d, real, fake, torch.Generator().manual_seed(0))
    assert gp.item() == pytest.approx((5.0 - 1.0) ** 2)
    gp.backward()  # differentiable w.r.t. D's weights: d/dw (|w|-1)^2 = 2(|w|-1) w/|w|
    assert d.weight.grad[0].tolist() == pytest.approx([2 * 4 * 3 / 5, 2 * 4 * 4 / 5])


def test_gradient_penalty_on_a_linear_critic_images():
    w = torch.randn(3, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    d = LinearImageD(w)
    real, fake = torch.randn(8, 3, 4, 4, dtype=torch.float64), torch.randn(8, 3, 4, 4, dtype=torch.float64)
    norm = w.norm().item()
    gp = pen.gradient_penalty(d, real, fake, torch.Generator().manual_seed(0))
    assert gp.item() == pytest.approx((norm - 1) ** 2, rel=1e-12)
    gp.backward()
    torch.testing.assert_close(d.w.grad, 2 * (norm - 1) * w / norm)


@pytest.mark.parametrize("shape", [(16, 2), (6, 2, 3, 3)])
def test_gradient_penalty_uses_the_given_interpolates(shape):
    """With D = 1/2|x|^2 the gradient at x_hat is x_hat, so the penalty is E(|x_hat| - 1)^2 by hand."""
    g = torch.Generator().manual_seed(3)
    real = torch.randn(shape, dtype=torch.float64, generator=g)
    fake = torch.randn(shape, dtype=torch.float64, generator=g)
    alpha = pen.interpolation_weights(real, g)
    assert alpha.shape == (shape[0],) + (1,) * (len(shape) - 1) and 0 <= alpha.min() and alpha.max() <= 1
    x_hat = pen.interpolates(real, fake, alpha)
    a0 = alpha.flatten()[0].item()
    torch.testing.assert_close(x_hat[0], a0 * real[0] + (1 - a0) * fake[0])
    expected = ((x_hat.flatten(1).norm(dim=1) - 1) ** 2).mean()
    assert pen.gradient_penalty(HalfSquareD(), real, fake, alpha=alpha).item() == pytest.approx(expected.item())
    # drawn from a generator, the weights are the ones interpolation_weights draws from the same state
    drawn = pen.gradient_penalty(HalfSquareD(), real, fake, torch.Generator().manual_seed(4))
    again = pen.interpolation_weights(real, torch.Generator().manual_seed(4))
    assert drawn.item() == pytest.approx(pen.gradient_penalty(HalfSquareD(), real, fake, alpha=again).item())


def test_r1_penalty_on_linear_discriminators():
    d = linear_2d([1.0, -2.0])
    assert pen.r1_penalty(d, torch.randn(32, 2, dtype=torch.float64)).item() == pytest.approx(0.5 * 5.0)
    w = torch.randn(2, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    img = torch.randn(5, 2, 3, 3, dtype=torch.float64)
    assert pen.r1_penalty(LinearImageD(w), img).item() == pytest.approx(0.5 * w.pow(2).sum().item())
    # from a forward pass the caller already made (one D call for the loss and the penalty)
    x = img.clone().requires_grad_(True)
    out = HalfSquareD()(x)
    assert pen.r1_from_output(out, x).item() == pytest.approx(0.5 * img.pow(2).flatten(1).sum(1).mean().item())


def test_input_gradient_returns_output_and_gradient():
    d = linear_2d([0.5, -1.5])
    x = torch.tensor([[1.0, 2.0], [0.0, 0.0]], dtype=torch.float64)
    out, grad = pen.input_gradient(d, x)
    assert out[:, 0].tolist() == pytest.approx([0.5 - 3.0 + 0.3, 0.3])
    assert grad.tolist() == [[0.5, -1.5], [0.5, -1.5]] and grad.requires_grad
