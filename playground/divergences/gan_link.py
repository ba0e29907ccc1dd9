"""The link to GANs: the optimal discriminator, the game's value at it, and the generator's two losses.

For a target p and a model q the best discriminator is D*(x) = p(x) / (p(x) + q(x)); its logit is
log p − log q, so it is computed from log-densities and never divides 0 by 0. The value of the game at D*,
V(D*, q) = E_p[log D*] + E_q[log(1 − D*)], is integrated directly (the identity −log 4 + 2·JS(p‖q) is what the
tests check it against). The generator's losses are written as functions of the discriminator's logit a
(D = sigmoid(a)): minimax log(1 − D) = −softplus(a) and non-saturating −log D = softplus(−a).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import expit

from playground.divergences.densities import Density1D
from playground.divergences.measures import breakpoints, gauss_legendre


def _log_sigmoid(a: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -a)


def discriminator_logit(lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
    """log p − log q (±inf where one density is zero, 0 where both are)."""
    with np.errstate(invalid="ignore"):
        d = lp - lq
    return np.where(np.isnan(d), 0.0, d)


def optimal_discriminator(p: Density1D, q: Density1D, x: np.ndarray) -> np.ndarray:
    """D*(x) = p/(p + q) = sigmoid(log p − log q); 0.5 where both densities vanish."""
    return expit(discriminator_logit(p.log_prob(x), q.log_prob(x)))


def game_value_optimal_d(p: Density1D, q: Density1D) -> float:
    """V(D*, q) = ∫ p log D* + ∫ q log(1 − D*), by quadrature, in nats (between −log 4 and 0)."""
    x, w = gauss_legendre(breakpoints(p, q))
    lp, lq = p.log_prob(x), q.log_prob(x)
    a = discriminator_logit(lp, lq)
    with np.errstate(invalid="ignore"):
        real = np.where(np.isfinite(lp), np.exp(lp) * _log_sigmoid(a), 0.0)
        fake = np.where(np.isfinite(lq), np.exp(lq) * _log_sigmoid(-a), 0.0)
    return float(np.sum(w * (real + fake)))


def game_value_identity(js: float) -> float:
    """−log 4 + 2·JS, what V(D*, q) equals in theory."""
    return -math.log(4.0) + 2.0 * js


# ---------------------------------------------------------------------------------- generator losses vs logit
def minimax_g_loss(logit: np.ndarray) -> np.ndarray:
    """log(1 − D(G(z))) with D = sigmoid(logit); the generator minimises it."""
    return -np.logaddexp(0.0, logit)


def minimax_g_loss_grad(logit: np.ndarray) -> np.ndarray:
    """d/d logit of log(1 − D) = −D: vanishes when D rejects the sample (logit → −∞): saturation."""
    return -expit(logit)


def nonsaturating_g_loss(logit: np.ndarray) -> np.ndarray:
    """−log D(G(z)); the generator minimises it."""
    return np.logaddexp(0.0, -np.asarray(logit, dtype=np.float64))


def nonsaturating_g_loss_grad(logit: np.ndarray) -> np.ndarray:
    """d/d logit of −log D = −(1 − D): close to −1 exactly where minimax's gradient vanishes."""
    return -expit(-np.asarray(logit, dtype=np.float64))


def saturation_curves(lo: float = -8.0, hi: float = 8.0, n: int = 321) -> dict[str, np.ndarray]:
    """Both losses and their gradients over a range of discriminator logits, for the saturation plot."""
    a = np.linspace(lo, hi, n)
    return {"logit": a, "D": expit(a),
            "minimax_loss": minimax_g_loss(a), "minimax_grad": minimax_g_loss_grad(a),
            "nonsaturating_loss": nonsaturating_g_loss(a), "nonsaturating_grad": nonsaturating_g_loss_grad(a)}


def gan_snapshot(p: Density1D, q: Density1D, n: int = 600) -> dict[str, np.ndarray | float]:
    """What the GAN panel draws: p, q and D* on a grid, and where q's samples sit on D*'s logit scale."""
    lo = min(p.extent(5)[0], q.extent(5)[0])
    hi = max(p.extent(5)[1], q.extent(5)[1])
    x = np.linspace(lo, hi, n)
    lp, lq = p.log_prob(x), q.log_prob(x)
    return {"x": x, "p": np.exp(lp), "q": np.exp(lq), "d_star": expit(discriminator_logit(lp, lq)),
            "logit": discriminator_logit(lp, lq), "value": game_value_optimal_d(p, q)}
