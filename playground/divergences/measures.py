"""Exact divergences between 1D (and 2D) densities by numerical integration, in nats.

Definitions (p is the target, q the model):
  kl = KL(p||q) = ∫ p log(p/q)            rkl = KL(q||p)            jeffreys = kl + rkl
  js = ½KL(p||m) + ½KL(q||m), m = (p+q)/2  hellinger2 = ∫ (√p − √q)²  (no ½)
  tv = ½∫|p − q|                           pearson = ∫ (p − q)²/q    neyman = ∫ (p − q)²/p
  w1 = ∫ |F_p − F_q| (1D only)
  alpha:a = ∫ [a p + (1−a) q − p^a q^(1−a)] / (a(1−a)); a → 1 is kl and a → 0 is rkl, both exactly.
So pearson = 2·alpha:2, neyman = 2·alpha:-1 and hellinger2 = ½·alpha:0.5.

How the 1D integrals are made accurate: the line is cut into panels at every std from −12 to 12 around every
Gaussian part of p and q (and at the ends of uniform parts, at the tilted centres of p^a q^(1−a), and at the
points where the integrand has a kink: p = q for tv, F_p = F_q for w1); each panel gets 12-point Gauss-Legendre.
Every integrand is written in terms of log p and log q (expm1 and logaddexp), so ratios never underflow.
A divergence that is infinite (a support violation, or tails of p^a q^(1−a) that do not decay) is `inf`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from playground.divergences.densities import Density1D, Mixture2D
from playground.errors import PlaygroundError

NAMES = ("kl", "rkl", "js", "hellinger2", "tv", "pearson", "neyman", "jeffreys", "w1")
NAMES_2D = tuple(n for n in NAMES if n != "w1")
LABELS = {
    "kl": "KL(p‖q) (forward)", "rkl": "KL(q‖p) (reverse)", "js": "Jensen-Shannon", "hellinger2": "Hellinger²",
    "tv": "total variation", "pearson": "Pearson χ²", "neyman": "Neyman χ²", "jeffreys": "Jeffreys",
    "w1": "Wasserstein-1",
}
ALIASES = {"forward_kl": "kl", "reverse_kl": "rkl", "hellinger": "hellinger2", "chi2": "pearson",
           "pearson_chi2": "pearson", "neyman_chi2": "neyman", "wasserstein": "w1", "jensen_shannon": "js"}
_GL_X, _GL_W = np.polynomial.legendre.leggauss(12)
_TAIL_K = 12.0


@dataclass(frozen=True)
class Divergence:
    """A parsed divergence name. `alpha`/`scale` are set for the members of the α family (kl, rkl, χ², alpha:a)."""

    name: str
    kind: str                   # "alpha", "js", "hellinger2", "tv", "jeffreys", "w1"
    alpha: float | None = None
    scale: float = 1.0

    @property
    def label(self) -> str:
        if self.name.startswith("alpha:"):
            return f"α-divergence, α = {self.alpha:g}"
        return LABELS[self.name]

    @property
    def alphas(self) -> tuple[float, ...]:
        """The α values whose tilted densities p^α q^(1−α) this divergence integrates."""
        if self.kind == "alpha":
            return (self.alpha,)
        if self.kind == "jeffreys":
            return (1.0, 0.0)
        return ()


def parse_divergence(name: str) -> Divergence:
    """`kl`, `rkl`, `js`, `hellinger2`, `tv`, `pearson`, `neyman`, `jeffreys`, `w1` or `alpha:<value>`."""
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    if key.startswith("alpha:") or key.startswith("alpha="):
        text = key[6:]
        try:
            a = float(text)
        except ValueError:
            raise PlaygroundError(f"cannot read the α in {name!r}: write e.g. alpha:0.5") from None
        if not math.isfinite(a) or abs(a) > 50:
            raise PlaygroundError(f"α must be a finite number in [-50, 50], got {text!r}")
        return Divergence(f"alpha:{a:.15g}", "alpha", a)
    table = {"kl": ("alpha", 1.0, 1.0), "rkl": ("alpha", 0.0, 1.0), "pearson": ("alpha", 2.0, 2.0),
             "neyman": ("alpha", -1.0, 2.0)}
    if key in table:
        kind, a, s = table[key]
        return Divergence(key, kind, a, s)
    if key in NAMES:
        return Divergence(key, key)
    raise PlaygroundError(f"unknown divergence {name!r}: choose one of {', '.join(NAMES)} or alpha:<value>")


# ------------------------------------------------------------------------------------------- pointwise pieces
def _expm1_over(a: float, t: np.ndarray) -> np.ndarray:
    """expm1(a t)/a, equal to t at a = 0."""
    if a == 0.0:
        return t
    return np.expm1(a * t) / a


def alpha_integrand(lp: np.ndarray, lq: np.ndarray, alpha: float) -> np.ndarray:
    """[α p + (1−α) q − p^α q^(1−α)] / (α(1−α)) from log p and log q; non-negative, exact at α = 0 and 1.

    For α ≥ ½ the roles swap (D_α(p‖q) = D_(1−α)(q‖p)), so the formula only ever meets α < ½, where
    q·expm1(α log(p/q))/α has no cancellation and tends to q log(p/q) as α → 0.
    """
    if alpha >= 0.5:
        lp, lq, alpha = lq, lp, 1.0 - alpha
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        p, q = np.exp(lp), np.exp(lq)
        both = np.isfinite(lp) & np.isfinite(lq)
        l_ = np.where(both, lp - lq, 0.0)
        t = alpha * l_
        big = t > 30.0   # q·expm1(t) would lose nothing by taking exp(lq + t) directly, and cannot overflow sooner
        tilt = np.where(big, (np.exp(np.where(big, lq + t, 0.0)) - q) / (alpha if alpha else 1.0),
                        q * _expm1_over(alpha, np.where(big, 0.0, l_)))
        general = ((p - q) - tilt) / (1.0 - alpha)
        only_p = p / (1.0 - alpha)                                   # q = 0 < p
        only_q = np.full_like(q, np.inf) if alpha <= 0 else q / alpha  # p = 0 < q
        out = np.where(both, general, np.where(np.isfinite(lp), only_p, np.where(np.isfinite(lq), only_q, 0.0)))
    return np.maximum(out, 0.0)


def js_integrand(lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        lm = np.logaddexp(lp, lq) - math.log(2.0)
        a = np.where(np.isfinite(lp), np.exp(lp) * (lp - lm), 0.0)
        b = np.where(np.isfinite(lq), np.exp(lq) * (lq - lm), 0.0)
    return np.maximum(0.5 * (a + b), 0.0)


def hellinger2_integrand(lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        hi = np.maximum(lp, lq)
        gap = np.where(np.isfinite(hi), np.abs(lp - lq), 0.0)
        gap = np.where(np.isnan(gap), np.inf, gap)
        return np.where(np.isfinite(hi), np.exp(hi) * np.expm1(-gap / 2) ** 2, 0.0)


def tv_integrand(lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
    return 0.5 * np.abs(np.exp(lp) - np.exp(lq))


def pointwise(div: Divergence, lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
    """The integrand of `div` at each point (not for w1): where the divergence comes from."""
    if div.kind == "alpha":
        return div.scale * alpha_integrand(lp, lq, div.alpha)
    if div.kind == "jeffreys":
        return alpha_integrand(lp, lq, 1.0) + alpha_integrand(lp, lq, 0.0)
    if div.kind == "js":
        return js_integrand(lp, lq)
    if div.kind == "hellinger2":
        return hellinger2_integrand(lp, lq)
    if div.kind == "tv":
        return tv_integrand(lp, lq)
    raise PlaygroundError(f"{div.name} has no pointwise integrand")


# ----------------------------------------------------------------------------------------------- tails and grid
def tilted_tail_finite(p: Density1D, q: Density1D, alpha: float) -> bool:
    """Whether p^α q^(1−α) has integrable Gaussian tails: α/σ_p² + (1−α)/σ_q² > 0 for the widest parts.

    Only matters for α outside [0, 1]; support violations (p > 0 = q) are caught on the grid instead.
    """
    if 0.0 <= alpha <= 1.0:
        return True
    sp, sq = p.max_gauss_std(), q.max_gauss_std()
    if sp == 0.0 or sq == 0.0:
        return True      # one side has bounded support: decided by the support check
    return alpha / sp**2 + (1.0 - alpha) / sq**2 > 0.0


def _tilted_breakpoints(p: Density1D, q: Density1D, alpha: float) -> list[np.ndarray]:
    """Breakpoints around the peaks of (w_i N_i)^α (w_j N_j)^(1−α), which can lie far from every part."""
    out = []
    if 0.0 <= alpha <= 1.0:
        return out
    t = np.arange(-_TAIL_K, _TAIL_K + 0.5)
    for mi, si in zip(p.locs[p.is_gaussian], p.scales[p.is_gaussian]):
        for mj, sj in zip(q.locs[q.is_gaussian], q.scales[q.is_gaussian]):
            c = alpha / si**2 + (1 - alpha) / sj**2
            if c > 0:
                centre = (alpha * mi / si**2 + (1 - alpha) * mj / sj**2) / c
                out.append(centre + t / math.sqrt(c))
    return out


def breakpoints(p: Density1D, q: Density1D, alphas=()) -> np.ndarray:
    """Sorted panel ends for integrating anything built from p and q (see the module's docstring)."""
    parts = [p.breakpoints(_TAIL_K), q.breakpoints(_TAIL_K)]
    for a in alphas:
        parts.extend(_tilted_breakpoints(p, q, a))
    b = np.unique(np.concatenate(parts))
    # Cap panel widths (gaps between far-apart clusters) at the widest scale around, at most 200 extra per gap.
    widest = max(np.max(np.diff(part)) if len(part) > 1 else 0.0 for part in parts)
    gaps = np.diff(b)
    if widest > 0 and np.any(gaps > 1.5 * widest):
        extra = []
        for i in np.nonzero(gaps > 1.5 * widest)[0]:
            n = min(int(gaps[i] / widest), 200)
            extra.append(np.linspace(b[i], b[i + 1], n + 1)[1:-1])
        b = np.unique(np.concatenate([b, *extra]))
    # Merge breakpoints closer than a tiny fraction of the narrowest scale (saves empty panels).
    keep = np.concatenate([[True], np.diff(b) > 1e-9 * max(1.0, float(np.abs(b).max()))])
    return b[keep]


def gauss_legendre(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of 12-point Gauss-Legendre on each panel [b_i, b_(i+1)]."""
    half = 0.5 * np.diff(b)[:, None]
    mid = 0.5 * (b[1:] + b[:-1])[:, None]
    return (mid + half * _GL_X).ravel(), (half * _GL_W).ravel()


def sign_changes(b: np.ndarray, f, values: np.ndarray | None = None) -> np.ndarray:
    """Roots of f between consecutive points of b where f changes sign (refined with Brent's method)."""
    v = f(b) if values is None else values
    s = np.sign(v)
    roots = []
    for i in np.nonzero(s[:-1] * s[1:] < 0)[0]:
        try:
            roots.append(brentq(lambda x: float(f(np.array([x]))[0]), b[i], b[i + 1], xtol=1e-14, rtol=1e-14))
        except ValueError:
            pass
    return np.asarray(roots)


def _finite_diff(la: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """la − lb with −inf handled (both −inf -> 0)."""
    with np.errstate(invalid="ignore"):
        d = la - lb
    return np.where(np.isnan(d), 0.0, d)


def tv_breakpoints(p: Density1D, q: Density1D, b: np.ndarray) -> np.ndarray:
    """`b` plus the points where p = q, found on a fine sampling of the panels."""
    x, _ = gauss_legendre(b)
    xs = np.sort(np.concatenate([b, x]))
    f = lambda x_: _finite_diff(p.log_prob(x_), q.log_prob(x_))  # noqa: E731
    roots = sign_changes(xs, f)
    return np.unique(np.concatenate([b, roots])) if len(roots) else b


def w1_breakpoints(p: Density1D, q: Density1D, b: np.ndarray) -> np.ndarray:
    x, _ = gauss_legendre(b)
    xs = np.sort(np.concatenate([b, x]))
    f = lambda x_: p.cdf(x_) - q.cdf(x_)  # noqa: E731
    roots = sign_changes(xs, f)
    return np.unique(np.concatenate([b, roots])) if len(roots) else b


# ------------------------------------------------------------------------------------------------- 1D values
def _support_violation(lp: np.ndarray, lq: np.ndarray) -> bool:
    """Some node has p > 0 where q = 0."""
    return bool(np.any(np.isfinite(lp) & ~np.isfinite(lq)))


def _alpha_value(p, q, lp, lq, w, alpha: float) -> float:
    if alpha >= 1 and _support_violation(lp, lq):      # p > 0 = q
        return math.inf
    if alpha <= 0 and _support_violation(lq, lp):      # q > 0 = p
        return math.inf
    if not tilted_tail_finite(p, q, alpha):
        return math.inf
    with np.errstate(over="ignore", invalid="ignore"):
        val = float(np.sum(w * alpha_integrand(lp, lq, alpha)))
    return val if math.isfinite(val) else math.inf


def divergence(p: Density1D, q: Density1D, name: str | Divergence) -> float:
    """One divergence between two 1D densities, in nats (`inf` when infinite)."""
    div = name if isinstance(name, Divergence) else parse_divergence(name)
    b = breakpoints(p, q, div.alphas)
    if div.kind == "tv":
        b = tv_breakpoints(p, q, b)
    if div.kind == "w1":
        b = w1_breakpoints(p, q, b)
        x, w = gauss_legendre(b)
        return float(np.sum(w * np.abs(p.cdf(x) - q.cdf(x))))
    x, w = gauss_legendre(b)
    lp, lq = p.log_prob(x), q.log_prob(x)
    if div.kind == "alpha":
        return div.scale * _alpha_value(p, q, lp, lq, w, div.alpha)
    if div.kind == "jeffreys":
        return _alpha_value(p, q, lp, lq, w, 1.0) + _alpha_value(p, q, lp, lq, w, 0.0)
    return float(np.sum(w * pointwise(div, lp, lq)))


def all_divergences(p: Density1D, q: Density1D, alphas=()) -> dict[str, float]:
    """Every named divergence, the GAN game's value at the optimal discriminator and `alpha_<a>` for each α."""
    out = {name: divergence(p, q, name) for name in NAMES}
    from playground.divergences.gan_link import game_value_optimal_d

    out["gan_value_optimal_d"] = game_value_optimal_d(p, q)
    for a in alphas:
        out[f"alpha_{float(a):.15g}"] = divergence(p, q, Divergence(f"alpha:{float(a):.15g}", "alpha", float(a)))
    return out


def integration_grid(p: Density1D, q: Density1D, alphas=()) -> tuple[np.ndarray, np.ndarray]:
    """The quadrature nodes and weights used for p and q."""
    return gauss_legendre(breakpoints(p, q, alphas))


# ------------------------------------------------------------------------------------------------- 2D values
def grid_2d(lo: np.ndarray, hi: np.ndarray, step: float, max_n: int = 301) -> tuple[np.ndarray, np.ndarray, float]:
    """A uniform grid over the box [lo, hi] (at most max_n points a side): (xs, ys, cell area).

    The trapezoid rule on a uniform grid is exponentially accurate for smooth densities that vanish at the
    box's edges, as long as the step is below about a third of the narrowest std.
    """
    n = np.minimum(np.ceil((hi - lo) / step).astype(int) + 1, max_n)
    xs, ys = np.linspace(lo[0], hi[0], n[0]), np.linspace(lo[1], hi[1], n[1])
    return xs, ys, float((xs[1] - xs[0]) * (ys[1] - ys[0]))


def box_for(p: Mixture2D, q: Mixture2D | None = None, k: float = 7.0) -> tuple[np.ndarray, np.ndarray, float]:
    lo, hi = p.box(k)
    step = p.min_std() / 3
    if q is not None:
        qlo, qhi = q.box(k)
        lo, hi = np.minimum(lo, qlo), np.maximum(hi, qhi)
        step = min(step, q.min_std() / 3)
    return lo, hi, step


def divergence_2d(p: Mixture2D, q: Mixture2D, name: str | Divergence) -> float:
    """A divergence between 2D Gaussian mixtures by the trapezoid rule on a uniform grid (not w1)."""
    div = name if isinstance(name, Divergence) else parse_divergence(name)
    if div.kind == "w1":
        raise PlaygroundError("w1 is computed in 1D only")
    for a in div.alphas:
        if not tail_finite_2d(p, q, a):
            return math.inf
    lo, hi, step = box_for(p, q)
    xs, ys, area = grid_2d(lo, hi, step)
    pts = np.stack(np.meshgrid(xs, ys, indexing="xy"), axis=-1)
    lp, lq = p.log_prob(pts), q.log_prob(pts)
    val = float(area * np.sum(pointwise(div, lp, lq)))
    return val if math.isfinite(val) else math.inf


def tail_finite_2d(p: Mixture2D, q: Mixture2D, alpha: float, n_dir: int = 720) -> bool:
    """p^α q^(1−α) integrable: along every direction v, α·a_p(v) + (1−α)·a_q(v) > 0 with a(v) = min_i vᵀΣ_i⁻¹v."""
    if 0.0 <= alpha <= 1.0:
        return True
    t = np.linspace(0, np.pi, n_dir, endpoint=False)
    v = np.stack([np.cos(t), np.sin(t)], axis=1)
    ap = np.einsum("di,kij,dj->dk", v, np.linalg.inv(p.covs), v).min(axis=1)
    aq = np.einsum("di,kij,dj->dk", v, np.linalg.inv(q.covs), v).min(axis=1)
    return bool(np.all(alpha * ap + (1 - alpha) * aq > 1e-12))
