"""The GAN link: D*, the game's value at D* against −log 4 + 2·JS, and the generator losses' saturation."""

import math

import numpy as np
import pytest

from playground.divergences import measures as M
from playground.divergences.densities import Density1D, parse_density
from playground.divergences.gan_link import (game_value_optimal_d, gan_snapshot, minimax_g_loss,
                                             minimax_g_loss_grad, nonsaturating_g_loss, nonsaturating_g_loss_grad,
                                             optimal_discriminator, saturation_curves)

G = Density1D.gaussian


@pytest.mark.parametrize("m1,s1,m2,s2", [(0, 1, 0, 1), (0, 1, 1, 2), (-3, 0.5, 2, 1.3), (0, 0.2, 30, 0.2)])
def test_game_value_is_minus_log4_plus_twice_js(m1, s1, m2, s2):
    p, q = G(m1, s1), G(m2, s2)
    v = game_value_optimal_d(p, q)
    assert v == pytest.approx(-math.log(4) + 2 * M.divergence(p, q, "js"), abs=1e-10)
    assert -math.log(4) - 1e-12 <= v <= 1e-12


def test_optimal_discriminator_is_p_over_p_plus_q_and_stable():
    p, q = parse_density("0.7*N(-2,0.6)+0.3*N(2,0.6)"), G(0, 1.5)
    x = np.linspace(-6, 6, 101)
    d = optimal_discriminator(p, q, x)
    assert d == pytest.approx(p.prob(x) / (p.prob(x) + q.prob(x)), rel=1e-12)
    far = optimal_discriminator(G(0, 0.1), G(100, 0.1), np.array([0.0, 50.0, 100.0, 1e4]))
    assert np.all(np.isfinite(far)) and far[0] == 1.0 and far[2] == 0.0
    # Disjoint supports: D* is 1 on p's, 0 on q's, ½ where both vanish; V = 0 (= −log 4 + 2 log 2).
    u1, u2 = parse_density("U(0,1)"), parse_density("U(2,3)")
    assert optimal_discriminator(u1, u2, np.array([0.5, 1.5, 2.5])).tolist() == [1.0, 0.5, 0.0]
    assert game_value_optimal_d(u1, u2) == pytest.approx(0.0, abs=1e-14)


def test_generator_losses_and_gradients():
    a = np.linspace(-30, 30, 601)
    eps = 1e-6
    for loss, grad in ((minimax_g_loss, minimax_g_loss_grad), (nonsaturating_g_loss, nonsaturating_g_loss_grad)):
        fd = (loss(a + eps) - loss(a - eps)) / (2 * eps)
        assert grad(a) == pytest.approx(fd, abs=1e-6)
        assert np.all(np.isfinite(loss(a)))
    d = 1 / (1 + np.exp(-a[300]))
    assert minimax_g_loss(a[300]) == pytest.approx(math.log(1 - d))
    assert nonsaturating_g_loss(a[300]) == pytest.approx(-math.log(d))
    # Saturation: where D rejects a fake (logit −20) minimax's gradient vanishes, non-saturating's is −1.
    assert abs(minimax_g_loss_grad(np.array(-20.0))) < 1e-8
    assert nonsaturating_g_loss_grad(np.array(-20.0)) == pytest.approx(-1.0)
    c = saturation_curves()
    assert set(c) >= {"logit", "minimax_loss", "minimax_grad", "nonsaturating_loss", "nonsaturating_grad"}


def test_gan_snapshot():
    s = gan_snapshot(parse_density("0.3*N(-2,0.5)+0.7*N(1.5,1)"), G(0, 1))
    assert len(s["x"]) == len(s["p"]) == len(s["d_star"])
    assert np.all((s["d_star"] >= 0) & (s["d_star"] <= 1))
    assert s["value"] == pytest.approx(-1.0187479589432868, abs=1e-9)
