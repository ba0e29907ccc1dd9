"""Why Wasserstein: the closed forms against independent quadrature, and the gradients D and critic give."""

import math

import numpy as np
import pytest

from playground.games.wasserstein import WassersteinConfig, bump_density, critic_view, divergence_curves


def quadrature(shape, width, theta, n=200_001):
    """JS, KL(P‖Q) and W1 = ∫|F_P − F_Q| of the two bumps from densities on a fine grid."""
    x = np.linspace(-6 - abs(theta), 6 + abs(theta), n)
    dx = x[1] - x[0]
    p, q = bump_density(shape, width, x), bump_density(shape, width, x, theta)
    p, q = p / (p.sum() * dx), q / (q.sum() * dx)
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        js = 0.5 * np.nansum(np.where(p > 0, p * np.log(p / m), 0.0)) * dx \
            + 0.5 * np.nansum(np.where(q > 0, q * np.log(q / m), 0.0)) * dx
        kl = np.sum(np.where(p > 0, p * np.log(p / q), 0.0)) * dx
    w1 = np.sum(np.abs(np.cumsum(p) - np.cumsum(q))) * dx * dx
    return js, kl, w1


@pytest.mark.parametrize("theta", [0.1, 0.3, 0.5, 1.5])
def test_uniform_bumps_js_grows_then_sticks_at_log2_while_w1_is_the_shift(theta):
    c = divergence_curves("uniform", 0.5, np.array([theta]))
    js, kl, w1 = quadrature("uniform", 0.5, theta)
    assert c["js"][0] == pytest.approx(js, abs=2e-3)
    assert c["w1"][0] == pytest.approx(w1, rel=2e-3)
    assert np.isinf(c["kl"][0]) and np.isinf(kl)
    if theta >= 0.5:
        assert c["js"][0] == pytest.approx(math.log(2))


@pytest.mark.parametrize("theta", [0.2, 1.0, 2.5])
def test_gaussian_bumps_closed_form_kl_and_quadrature_js(theta):
    c = divergence_curves("gaussian", 0.5, np.array([theta]))
    js, kl, w1 = quadrature("gaussian", 0.5, theta)
    assert c["kl"][0] == pytest.approx(kl, rel=1e-3) and c["kl"][0] == pytest.approx(theta**2 / 0.5)
    assert c["js"][0] == pytest.approx(js, abs=1e-4)
    assert c["w1"][0] == pytest.approx(w1, rel=1e-3)


def test_parallel_lines_js_is_log2_for_any_shift():
    c = divergence_curves("lines", 1.0, np.array([-2.0, -0.01, 0.0, 0.01, 3.0]))
    np.testing.assert_allclose(c["js"], [math.log(2)] * 2 + [0.0] + [math.log(2)] * 2)
    np.testing.assert_allclose(c["w1"], [2.0, 0.01, 0.0, 0.01, 3.0])
    assert np.isinf(c["kl"][[0, 1, 3, 4]]).all() and c["kl"][2] == 0


def test_a_saturating_d_starves_the_minimax_generator_while_the_critic_keeps_a_unit_gradient():
    pushes = {s: critic_view(WassersteinConfig(theta=2.0, d_steps=s))["push_at_fake"] for s in (10, 100, 5000)}
    mm = [abs(pushes[s]["minimax"]) for s in (10, 100, 5000)]
    assert mm[0] > mm[1] > mm[2] and mm[2] < 0.01 * mm[0] * 10 and mm[2] < 2e-3
    assert all(pushes[s]["critic"] == -1.0 for s in pushes)           # towards the data, the same always
    ns = [abs(pushes[s]["nonsaturating"]) for s in (10, 100, 5000)]
    assert ns[0] < ns[1] < ns[2]                                        # grows as D sharpens
    v = critic_view(WassersteinConfig(theta=2.0, d_steps=100))
    # the push is −d(G loss)/dx: check the minimax one by finite differences of log(1 − D)
    x, h = 1.3, 1e-6
    d = lambda t: 1 / (1 + np.exp(-(v["a"] * t + v["b"])))       # noqa: E731
    fd = -(np.log(1 - d(x + h)) - np.log(1 - d(x - h))) / (2 * h)
    assert np.interp(x, v["x"], v["push"]["minimax"]) == pytest.approx(fd, rel=1e-3)
