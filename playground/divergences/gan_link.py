"""The link to GANs: the optimal discriminator, the game's value at it, and the generator's two losses.

For a target p and a model q the best discriminator is D*(x) = p(x) / (p(x) + q(x)); its logit is
log p − log q, so it is computed from log-densities and never divides 0 by 0. The value of the game at D*,
V(D*, q) = E_p[log D*] + E_q[log(1 − D*)], is integrated directly (the identity −log 4 + 2·JS(p‖q) is what the
tests check it against). The generator's two losses, minimax log(1 − D) and non-saturating −log D as functions
of the discriminator's logit a (D = sigmoid(a)), are the ones of `playground.objectives`.
"""

from __future__ import annotations

import math

import numpy as np

from playground.divergences.densities import Density1D
from playground.divergences.measures import breakpoints, gauss_legendre
from playground.numerics import log_ratio, sigmoid
from playground.numerics import optimal_discriminator as optimal_d_from_logs


def _log_sigmoid(a: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -a)


def optimal_discriminator(p: Density1D, q: Density1D, x: np.ndarray) -> np.ndarray:
    """D*(x) = p/(p + q) at x, by the one shared formula (log domain; 0.5 where both densities vanish)."""
    return optimal_d_from_logs(p.log_prob(x), q.log_prob(x))


def game_value_optimal_d(p: Density1D, q: Density1D) -> float:
    """V(D*, q) = ∫ p log D* + ∫ q log(1 − D*), by quadrature, in nats (between −log 4 and 0)."""
    x, w = gauss_legendre(breakpoints(p, q))
    lp, lq = p.log_prob(x), q.log_prob(x)
    a = log_ratio(lp, lq)
    with np.errstate(invalid="ignore"):
        real = np.where(np.isfinite(lp), np.exp(lp) * _log_sigmoid(a), 0.0)
        fake = np.where(np.isfinite(lq), np.exp(lq) * _log_sigmoid(-a), 0.0)
    return float(np.sum(w * (real + fake)))


def game_value_identity(js: float) -> float:
    """−log 4 + 2·JS, what V(D*, q) equals in theory."""
    return -math.log(4.0) + 2.0 * js


# ---------------------------------------------------------------------------------- generator losses vs logit
# The losses are the objectives table's own (torch, float64); their gradients come from autograd of the same
# formula, so this panel cannot drift from what the GAN lab trains. torch is imported only when drawn.
def _g_loss_and_grad(name: str, logit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import torch

    from playground.objectives import get_objective

    a = np.asarray(logit, dtype=np.float64)
    t = torch.tensor(a.reshape(-1), dtype=torch.float64, requires_grad=True)
    loss = get_objective(name).g_loss(t)
    (grad,) = torch.autograd.grad(loss.sum(), t)
    return loss.detach().numpy().reshape(a.shape), grad.numpy().reshape(a.shape)


def minimax_g_loss(logit: np.ndarray) -> np.ndarray:
    """log(1 − D(G(z))) with D = sigmoid(logit); the generator minimises it."""
    return _g_loss_and_grad("minimax", logit)[0]


def minimax_g_loss_grad(logit: np.ndarray) -> np.ndarray:
    """d/d logit of log(1 − D) = −D: vanishes when D rejects the sample (logit → −∞): saturation."""
    return _g_loss_and_grad("minimax", logit)[1]


def nonsaturating_g_loss(logit: np.ndarray) -> np.ndarray:
    """−log D(G(z)); the generator minimises it."""
    return _g_loss_and_grad("nonsaturating", logit)[0]


def nonsaturating_g_loss_grad(logit: np.ndarray) -> np.ndarray:
    """d/d logit of −log D = −(1 − D): close to −1 exactly where minimax's gradient vanishes."""
    return _g_loss_and_grad("nonsaturating", logit)[1]


def saturation_curves(lo: float = -8.0, hi: float = 8.0, n: int = 321) -> dict[str, np.ndarray]:
    """Both losses and their gradients over a range of discriminator logits, for the saturation plot."""
    a = np.linspace(lo, hi, n)
    out: dict[str, np.ndarray] = {"logit": a, "D": sigmoid(a)}
    for name in ("minimax", "nonsaturating"):
        out[f"{name}_loss"], out[f"{name}_grad"] = _g_loss_and_grad(name, a)
    return out


def gan_snapshot(p: Density1D, q: Density1D, n: int = 600) -> dict[str, np.ndarray | float]:
    """What the GAN panel draws: p, q and D* on a grid, and where q's samples sit on D*'s logit scale."""
    lo = min(p.extent(5)[0], q.extent(5)[0])
    hi = max(p.extent(5)[1], q.extent(5)[1])
    x = np.linspace(lo, hi, n)
    lp, lq = p.log_prob(x), q.log_prob(x)
    logit = log_ratio(lp, lq)
    return {"x": x, "p": np.exp(lp), "q": np.exp(lq), "d_star": sigmoid(logit),
            "logit": logit, "value": game_value_optimal_d(p, q)}
