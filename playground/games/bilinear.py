"""The two-parameter games behind GAN training: min over x, max over y of x·y, and the Dirac GAN.

The bilinear game L(x, y) = x·y is the smallest game whose gradient field circles the equilibrium (0, 0)
instead of pointing at it. The Dirac GAN (Mescheder et al. 2018) is the smallest GAN: data at 0, a generator
that is a single point θ (p_θ = δ_θ) and a linear discriminator D_ψ(x) = ψ x, with L(θ, ψ) = f(ψθ) + f(0),
f(t) = −log(1 + e^−t); near (0, 0) it is the bilinear game with slope f'(0) = ½.

Both players follow the field v = (−∂L/∂x, +∂L/∂y) (x descends, y ascends), by simultaneous or alternating
(x first, then y at the new x) gradient steps of size `lr`, optionally with
- historical averaging: each player also descends λ‖z_i − mean of its past values‖² (Salimans et al. 2016);
- R1: the discriminator's penalty γ/2 |∂D/∂x at the data|² = γ/2 y², i.e. v_y −= γ y;
- consensus optimisation (Mescheder et al. 2017): v − c ∇(½|v|²) = v − c Jᵀv, J the Jacobian of v.
Paths are numpy arrays; `average` is the running mean of the iterates (what averaging the iterates returns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from playground.configs import spec
from playground.numerics import sigmoid

Game = Literal["bilinear", "dirac"]
Method = Literal["simultaneous", "alternating"]


@dataclass(frozen=True)
class GameConfig:
    """One run of a two-parameter game (the games page's widgets, JSON and URL come from it)."""

    game: Game = spec("bilinear", "the game: min_x max_y x·y, or the Dirac GAN (x = generator θ, y = D's ψ)")
    method: Method = spec("simultaneous", "simultaneous steps, or alternating (x first, then y at the new x)")
    lr: float = spec(0.1, "step size η of both players", lo=1e-3, hi=2.0)
    steps: int = spec(200, "number of steps", lo=1, hi=5000)
    x0: float = spec(1.0, "starting x (the generator's parameter)", lo=-5.0, hi=5.0)
    y0: float = spec(1.0, "starting y (the discriminator's parameter)", lo=-5.0, hi=5.0)
    hist_avg: float = spec(0.0, "historical averaging weight λ (0 = off)", lo=0.0, hi=10.0)
    r1: float = spec(0.0, "R1 penalty γ on the discriminator: v_y −= γ y (0 = off)", lo=0.0, hi=10.0)
    consensus: float = spec(0.0, "consensus optimisation weight c: v − c Jᵀv (0 = off)", lo=0.0, hi=10.0)


def _f_prime(t: np.ndarray) -> np.ndarray:
    """f'(t) for f(t) = −log(1 + e^−t): sigmoid(−t)."""
    return sigmoid(-t)


def field(cfg: GameConfig, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The players' field (v_x, v_y) at (x, y), R1 and consensus included (no history: no averaging)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if cfg.game == "bilinear":
        vx, vy = -y, x.copy()
        # Jacobian of (−y, x): [[0, −1], [1, 0]] (R1 adds −γ to the last entry below)
        jxx, jxy, jyx, jyy = np.zeros_like(x), -np.ones_like(x), np.ones_like(x), np.zeros_like(x)
    else:
        t = x * y
        g = _f_prime(t)
        dg = -sigmoid(t) * sigmoid(-t)           # f''(t)
        vx, vy = -y * g, x * g
        jxx, jxy = -y * y * dg, -g - t * dg
        jyx, jyy = g + t * dg, x * x * dg
    if cfg.r1:
        vy = vy - cfg.r1 * y
        jyy = jyy - cfg.r1
    if cfg.consensus:
        # ∇(½|v|²) = Jᵀ v
        gx = jxx * vx + jyx * vy
        gy = jxy * vx + jyy * vy
        vx, vy = vx - cfg.consensus * gx, vy - cfg.consensus * gy
    return vx, vy


def norm_law(cfg: GameConfig) -> str | None:
    """What the bilinear game's steps do to |z| in closed form, for the settings that have one (None otherwise):
    simultaneous, z' = (1 − ηc) z + η v with v ⊥ z and |v| = |z|, so |z'|² = ((1 − ηc)² + η²)|z|²;
    alternating (x' = x − ηy, then y' = y + ηx') conserves x² + y² − ηxy exactly: a closed orbit."""
    if cfg.game != "bilinear" or cfg.hist_avg or cfg.r1:
        return None
    if cfg.method == "simultaneous":
        factor = (1 - cfg.lr * cfg.consensus) ** 2 + cfg.lr ** 2
        head = ("Simultaneous steps on x·y: |z_{t+1}|² = (1 + η²)|z_t|²" if not cfg.consensus else
                "Simultaneous steps with consensus c: |z_{t+1}|² = ((1 − ηc)² + η²)|z_t|²")
        fate = "spiral out" if factor > 1 else ("circle" if factor == 1 else "spiral in")
        return f"{head} exactly, a factor {factor:.4g} per step: the iterates {fate}."
    if cfg.consensus:
        return None
    return ("Alternating steps on x·y conserve x² + y² − η·x·y exactly: the iterates stay on one closed orbit "
            "(an ellipse), neither converging nor diverging.")


def field_label(cfg: GameConfig) -> str:
    """The legend of the plane's arrows: the game's field, with the terms the settings add to it."""
    extra = [name for name, on in (("R1", cfg.r1), ("consensus", cfg.consensus)) if on]
    return "field v = (−∂L/∂x, ∂L/∂y)" + (f" with the {' and '.join(extra)} terms" if extra else "")


def run_game(cfg: GameConfig) -> dict[str, np.ndarray]:
    """The path of the two players: {"path": (steps+1, 2), "average": (steps+1, 2) running mean of the path,
    "norm": |z_t|}. Stops early (NaN after) if the iterates overflow."""
    n = cfg.steps
    path = np.full((n + 1, 2), np.nan)
    z = np.array([cfg.x0, cfg.y0], dtype=np.float64)
    path[0] = z
    mean = z.copy()                         # historical average of every value so far (the first included)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, n + 1):
            x, y = z
            lam = cfg.hist_avg
            vx, _ = field(cfg, x, y)
            vx = vx - 2 * lam * (x - mean[0])
            x_new = x + cfg.lr * vx
            x_for_y = x_new if cfg.method == "alternating" else x
            _, vy = field(cfg, x_for_y, y)
            vy = vy - 2 * lam * (y - mean[1])
            z = np.array([x_new, y + cfg.lr * vy])
            if not np.isfinite(z).all() or np.abs(z).max() > 1e12:
                break
            path[t] = z
            mean += (z - mean) / (t + 1)
    counts = np.arange(1, n + 2)[:, None]
    average = np.cumsum(np.nan_to_num(path), axis=0) / counts
    average[np.isnan(path).any(axis=1)] = np.nan
    return {"path": path, "average": average, "norm": np.linalg.norm(path, axis=1)}


def field_grid(cfg: GameConfig, extent: float, n: int = 17) -> dict[str, np.ndarray]:
    """The field on an n x n grid over [−extent, extent]²: {"x", "y" (n,), "u", "v" (n, n)}."""
    xs = np.linspace(-extent, extent, n)
    xx, yy = np.meshgrid(xs, xs)
    u, v = field(cfg, xx, yy)
    return {"x": xs, "y": xs, "u": u, "v": v}
