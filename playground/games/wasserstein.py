"""Why Wasserstein: divergences between two bumps shifted by θ, and what a saturated sigmoid D or a Lipschitz
critic tells the generator about the shift.

Shapes (P at 0, Q_θ = P shifted by θ):
- "lines": Arjovsky et al.'s parallel lines, P = δ_0 ⊗ U[0, 1] and Q_θ = δ_θ ⊗ U[0, 1]: JS = log 2 and
  KL = KL(Q‖P) = ∞ for every θ ≠ 0, W1 = |θ|.
- "uniform": U[−w/2, w/2] against U[θ − w/2, θ + w/2]: the overlap is max(0, 1 − |θ|/w), so
  JS = log 2 · min(1, |θ|/w) (flat at log 2 once the supports separate), KL = ∞ for θ ≠ 0, W1 = |θ|.
- "gaussian": N(0, w²) against N(θ, w²): KL = KL(Q‖P) = θ²/(2w²), JS by quadrature (→ log 2), W1 = |θ|.
W1 of a pure shift is |θ| for every shape: the optimal transport moves every point by θ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from playground.configs import spec
from playground.numerics import sigmoid

Shape = Literal["lines", "uniform", "gaussian"]
LOG2 = math.log(2.0)


@dataclass(frozen=True)
class WassersteinConfig:
    """The 'why Wasserstein' view (the games page's widgets, JSON and URL come from it)."""

    shape: Shape = spec("uniform", "the two distributions: parallel lines, uniform bumps or Gaussian bumps")
    width: float = spec(0.5, "width of each bump (uniform: support length; Gaussian: standard deviation)",
                        lo=0.01, hi=5.0)
    theta: float = spec(2.0, "shift θ of the generator's bump in the 1D view", lo=-5.0, hi=5.0)
    d_steps: int = spec(200, "gradient steps the logistic D has trained on the two bumps (it saturates)",
                        lo=0, hi=20000)
    d_lr: float = spec(1.0, "the logistic D's learning rate", lo=1e-3, hi=100.0)


def divergence_curves(shape: str, width: float, thetas: np.ndarray) -> dict[str, np.ndarray]:
    """JS, KL(P‖Q), KL(Q‖P) and W1 against θ (nats; ∞ where a support is not covered)."""
    t = np.abs(np.asarray(thetas, dtype=np.float64))
    w1 = t.copy()
    if shape == "gaussian":
        kl = t**2 / (2 * width**2)
        js = np.array([_js_gaussian(v, width) for v in t])
        return {"theta": np.asarray(thetas, dtype=np.float64), "js": js, "kl": kl, "rkl": kl.copy(), "w1": w1}
    js = np.where(t > 0, LOG2, 0.0) if shape == "lines" else LOG2 * np.minimum(1.0, t / width)
    kl = np.where(t > 0, np.inf, 0.0)
    return {"theta": np.asarray(thetas, dtype=np.float64), "js": js, "kl": kl, "rkl": kl.copy(), "w1": w1}


def _js_gaussian(theta: float, s: float, n: int = 4001) -> float:
    """JS(N(0, s²), N(θ, s²)) by quadrature on a grid wide enough for both."""
    x = np.linspace(-8 * s, theta + 8 * s, n) if theta >= 0 else np.linspace(theta - 8 * s, 8 * s, n)
    lp = -0.5 * (x / s) ** 2 - math.log(s * math.sqrt(2 * math.pi))
    lq = -0.5 * ((x - theta) / s) ** 2 - math.log(s * math.sqrt(2 * math.pi))
    lm = np.logaddexp(lp, lq) - LOG2
    integrand = 0.5 * (np.exp(lp) * (lp - lm) + np.exp(lq) * (lq - lm))
    return float(min(max(np.trapezoid(integrand, x), 0.0), LOG2))


def bump_density(shape: str, width: float, x: np.ndarray, centre: float = 0.0) -> np.ndarray:
    """The 1D bump's density at x (the lines as a narrow uniform bump of width 0.02 for display)."""
    x = np.asarray(x, dtype=np.float64) - centre
    if shape == "gaussian":
        return np.exp(-0.5 * (x / width) ** 2) / (width * math.sqrt(2 * math.pi))
    w = 0.02 if shape == "lines" else width
    return np.where(np.abs(x) <= w / 2, 1.0 / w, 0.0)


def _quadrature(shape: str, width: float, centre: float, n: int = 801) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights that integrate against the bump at `centre` (weights sum to 1)."""
    if shape == "gaussian":
        x = np.linspace(-6, 6, n)
        w = np.exp(-0.5 * x**2)
        return centre + width * x, w / w.sum()
    half = (0.02 if shape == "lines" else width) / 2
    return centre + np.linspace(-half, half, n), np.full(n, 1.0 / n)


def train_logistic_d(shape: str, width: float, theta: float, steps: int, lr: float) -> tuple[float, float]:
    """D(x) = sigmoid(a x + b) after `steps` gradient-ascent steps on E_P log D + E_Q log(1 − D) (exact
    expectations by quadrature), from a = b = 0. On separated bumps the maximum is at |a| = ∞: the longer D
    trains, the more it saturates."""
    xp, wp = _quadrature(shape, width, 0.0)
    xq, wq = _quadrature(shape, width, theta)
    a = b = 0.0
    for _ in range(steps):
        # d/dl log sigmoid(l) = 1 − sigmoid(l); d/dl log(1 − sigmoid(l)) = −sigmoid(l)
        gp = wp * (1 - sigmoid(a * xp + b))
        gq = -wq * sigmoid(a * xq + b)
        a += lr * float(np.sum(gp * xp) + np.sum(gq * xq))
        b += lr * float(np.sum(gp) + np.sum(gq))
    return a, b


def critic_view(cfg: WassersteinConfig, n: int = 400) -> dict[str, np.ndarray | float]:
    """The 1D picture: both densities, the logistic D after cfg.d_steps steps, the optimal 1-Lipschitz critic
    f(x) = −sign(θ) x (its W1 dual optimum for a shift), and the push each gives the generator's samples:
    −d(G loss)/dx for minimax log(1 − D), non-saturating −log D and the critic's −f."""
    th, w = cfg.theta, cfg.width
    spread = 4 * w if cfg.shape == "gaussian" else w
    lo, hi = min(0.0, th) - spread - 0.5, max(0.0, th) + spread + 0.5
    x = np.linspace(lo, hi, n)
    a, b = train_logistic_d(cfg.shape, w, th, cfg.d_steps, cfg.d_lr)
    d = sigmoid(a * x + b)
    sign = 1.0 if th > 0 else -1.0 if th < 0 else 0.0
    xq, wq = _quadrature(cfg.shape, w, th)
    dq = sigmoid(a * xq + b)
    push = {
        "minimax": a * d,                 # −d/dx log(1 − sigmoid(ax + b)) = a·D
        "nonsaturating": a * (1 - d),     # −d/dx (−log sigmoid(ax + b)) = a·(1 − D)
        "critic": np.full_like(x, -sign),  # −d/dx (−f(x)) = f'(x) = −sign(θ)
    }
    # the generator's gradient in θ is the average push over its own samples (E_Q), here exactly
    at_fake = {"minimax": float(np.sum(wq * a * dq)), "nonsaturating": float(np.sum(wq * a * (1 - dq))),
               "critic": -sign}
    return {"x": x, "p": bump_density(cfg.shape, w, x), "q": bump_density(cfg.shape, w, x, th), "d": d,
            "critic": -sign * x, "a": a, "b": b, "push": push, "push_at_fake": at_fake}
