"""Exact divergences between 1D (and 2D) densities by numerical integration, in nats.

Definitions (p is the target, q the model):
  kl = KL(p||q) = ∫ p log(p/q)            rkl = KL(q||p)            jeffreys = kl + rkl
  js = ½KL(p||m) + ½KL(q||m), m = (p+q)/2  hellinger2 = ∫ (√p − √q)²  (no ½)
  tv = ½∫|p − q|                           pearson = ∫ (p − q)²/q    neyman = ∫ (p − q)²/p
  w1 = ∫ |F_p − F_q| (1D only)
  alpha:a = ∫ [a p + (1−a) q − p^a q^(1−a)] / (a(1−a)); a → 1 is kl and a → 0 is rkl, both exactly.
So pearson = 2·alpha:2, neyman = 2·alpha:-1 and hellinger2 = ½·alpha:0.5.

How the 1D integrals are made accurate: the line is cut into panels at every std from −12 to 12 around every
Gaussian part of p and q (and at the ends of uniform parts, at the tilted centres of p^a q^(1−a), and for w1 where
F_p = F_q,
where |F_p − F_q| has a kink); each panel gets 8-point Gauss-Legendre.
Every integrand is written in terms of log p and log q (expm1 and logaddexp), so ratios never underflow.
tv is exact from the CDFs between the crossings of p and q.
A divergence that is infinite (a support violation, or tails of p^a q^(1−a) that do not decay) is `inf`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from playground.divergences.densities import Density1D, Mixture2D
from playground.errors import PlaygroundError

NAMES = ("kl", "rkl", "js", "hellinger2", "tv", "pearson", "neyman", "jeffreys", "w1")
NAMES_2D = tuple(n for n in NAMES if n != "w1")
LABELS = {
    "kl": "KL(p‖q) (forward)", "rkl": "KL(q‖p) (reverse)", "js": "Jensen-Shannon",
    "hellinger2": "Hellinger² ∫(√p−√q)², 0 to 2",         # no ½: say so, conventions differ
    "tv": "total variation", "pearson": "Pearson χ²", "neyman": "Neyman χ²", "jeffreys": "Jeffreys",
    "w1": "Wasserstein-1",
}
ALIASES = {"forward_kl": "kl", "reverse_kl": "rkl", "hellinger": "hellinger2", "chi2": "pearson",
           "pearson_chi2": "pearson", "neyman_chi2": "neyman", "wasserstein": "w1", "jensen_shannon": "js"}
_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
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
    if key.startswith(("alpha:", "alpha=")):
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
    if np.isfinite(lp).all() and np.isfinite(lq).all():      # the common case: no zero densities
        p, q = np.exp(lp), np.exp(lq)
        t = alpha * (lp - lq)
        if alpha == 0.0:
            tilt = q * (lp - lq)
        elif t.max() <= 30.0:
            tilt = q * np.expm1(t) / alpha
        else:
            with np.errstate(over="ignore"):
                tilt = np.where(t > 30.0, np.exp(lq + t) - q, q * np.expm1(np.minimum(t, 30.0))) / alpha
        with np.errstate(invalid="ignore"):
            return np.maximum(((p - q) - tilt) / (1.0 - alpha), 0.0)
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


def _tilts(p: Density1D, q: Density1D, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Centres and scales of (w_i N_i)^α (w_j N_j)^(1−α) over all pairs of Gaussian parts (where integrable)."""
    mi, si = p.locs[p.is_gaussian][:, None], p.scales[p.is_gaussian][:, None]
    mj, sj = q.locs[q.is_gaussian][None, :], q.scales[q.is_gaussian][None, :]
    c = alpha / si**2 + (1 - alpha) / sj**2
    ok = c > 0
    centre = (alpha * mi / si**2 + (1 - alpha) * mj / sj**2) / np.where(ok, c, 1.0)
    return centre[ok], 1.0 / np.sqrt(c[ok])


_T = np.arange(-_TAIL_K, _TAIL_K + 0.5)


def breakpoints(p: Density1D, q: Density1D, alphas=()) -> np.ndarray:
    """Sorted panel ends for integrating anything built from p and q (see the module's docstring).

    For α outside [0, 1] the peaks of p^α q^(1−α) can lie far from every part, with their own widths: each
    pair of Gaussian parts adds breakpoints around its tilted centre.
    """
    parts = [p.breakpoints(_TAIL_K), q.breakpoints(_TAIL_K)]
    widest = max(p.panel_scale(), q.panel_scale())
    for a in alphas:
        if not 0.0 <= a <= 1.0:
            centres, scales = _tilts(p, q, a)
            if len(centres):
                parts.append((centres[:, None] + scales[:, None] * _T).ravel())
                widest = max(widest, float(scales.max()))
    b = np.sort(np.concatenate(parts))
    # Merge breakpoints closer than a tiny fraction of the scale (saves empty panels).
    keep = np.diff(b) > 1e-9 * max(1.0, abs(float(b[0])), abs(float(b[-1])))
    b = b[np.concatenate([[True], keep])]
    # Cap panel widths (gaps between far-apart clusters) at the widest scale around, at most 200 extra per gap.
    gaps = np.diff(b)
    wide = np.nonzero(gaps > 1.5 * widest)[0]
    if len(wide):
        extra = [np.linspace(b[i], b[i + 1], min(int(gaps[i] / widest), 200) + 1)[1:-1] for i in wide]
        b = np.sort(np.concatenate([b, *extra]))
    return b


def gauss_legendre(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of 8-point Gauss-Legendre on each panel [b_i, b_(i+1)]."""
    half = 0.5 * np.diff(b)[:, None]
    mid = 0.5 * (b[1:] + b[:-1])[:, None]
    return (mid + half * _GL_X).ravel(), (half * _GL_W).ravel()


def refine_roots(f, a: np.ndarray, b: np.ndarray, fa: np.ndarray, fb: np.ndarray, iters: int = 80) -> np.ndarray:
    """Roots of a vectorised f inside many brackets [a, b] (f(a), f(b) of opposite signs) at once: the
    Illinois variant of regula falsi, with bisection wherever a secant step is undefined (infinite values)."""
    a, b, fa, fb = (np.array(v, dtype=np.float64) for v in (a, b, fa, fb))
    if a.size == 0:
        return a
    side = np.zeros(a.shape, dtype=int)
    c = 0.5 * (a + b)
    # A crossing misplaced by δ changes tv and w1 by O(δ²) (the integrand vanishes there): 1e-10 is plenty.
    tol = 1e-10 * (1.0 + np.abs(a) + np.abs(b))
    for _ in range(iters):
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            c = (a * fb - b * fa) / (fb - fa)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        bad = ~np.isfinite(c) | (c <= lo) | (c >= hi)
        c = np.where(bad, 0.5 * (a + b), c)
        fc = f(c)
        same_a = np.sign(fc) == np.sign(fa)
        fb = np.where(same_a & (side == -1), 0.5 * fb, fb)
        fa = np.where(~same_a & (side == 1), 0.5 * fa, fa)
        a, fa = np.where(same_a, c, a), np.where(same_a, fc, fa)
        b, fb = np.where(same_a, b, c), np.where(same_a, fb, fc)
        side = np.where(same_a, -1, 1)
        if np.all((np.abs(b - a) <= tol) | (fc == 0)):
            break
    return c


def crossings(x: np.ndarray, d: np.ndarray, f) -> np.ndarray:
    """The points where f (with values d at the sorted points x) changes sign; runs of zeros (both densities
    zero) are stepped over, so disjoint supports still give a crossing between them."""
    nz = d != 0
    xs, ds = x[nz], d[nz]
    i = np.nonzero(np.sign(ds[:-1]) != np.sign(ds[1:]))[0]
    return refine_roots(f, xs[i], xs[i + 1], ds[i], ds[i + 1])


def _finite_diff(la: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """la − lb with −inf handled (both −inf -> 0)."""
    with np.errstate(invalid="ignore"):
        d = la - lb
    return np.where(np.isnan(d), 0.0, d)


def jump_points(*densities: Density1D) -> np.ndarray:
    """The ends of every uniform part: where a density jumps."""
    ends = [np.concatenate([d.locs[~d.is_gaussian], (d.locs + d.scales)[~d.is_gaussian]]) for d in densities]
    return np.unique(np.concatenate(ends))


def density_crossings(p: Density1D, q: Density1D, x: np.ndarray, lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
    """Where p = q (sign changes of log p − log q between the sorted nodes x).

    A sign change across a jump (the end of a uniform part) is that jump itself; the nodes are completed with
    points just either side of every jump so such changes are found exactly, without iterating.
    """
    f = lambda t: _finite_diff(p.log_prob(t), q.log_prob(t))  # noqa: E731
    d = _finite_diff(lp, lq)
    jumps = jump_points(p, q)
    if len(jumps) == 0:
        return crossings(x, d, f)
    eps = 1e-12 * (1.0 + np.abs(jumps))
    extra = np.concatenate([jumps - eps, jumps + eps])
    xa = np.concatenate([x, extra])
    order = np.argsort(xa)
    xa, da = xa[order], np.concatenate([d, f(extra)])[order]
    nz = da != 0
    xs, ds = xa[nz], da[nz]
    i = np.nonzero(np.sign(ds[:-1]) != np.sign(ds[1:]))[0]
    at_jump = (xs[i + 1] - xs[i]) <= 2.5 * np.max(eps)
    roots = np.where(at_jump, 0.5 * (xs[i] + xs[i + 1]), np.nan)
    rest = ~at_jump
    roots[rest] = refine_roots(f, xs[i][rest], xs[i + 1][rest], ds[i][rest], ds[i + 1][rest])
    return roots


def tv_from_crossings(p: Density1D, q: Density1D, roots: np.ndarray) -> tuple[float, np.ndarray]:
    """½∫|p − q| exactly from the CDFs: between consecutive crossings the sign of p − q is constant, so each
    region contributes |ΔF_p − ΔF_q|. Also returns sign(ΔF_q − ΔF_p) per region (for the gradient)."""
    fp = np.concatenate([[0.0], p.cdf(roots), [1.0]])
    fq = np.concatenate([[0.0], q.cdf(roots), [1.0]])
    diff = np.diff(fq) - np.diff(fp)
    return 0.5 * float(np.sum(np.abs(diff))), np.sign(diff)


def w1_breakpoints(p: Density1D, q: Density1D, b: np.ndarray) -> np.ndarray:
    """`b` plus the points where F_p = F_q (kinks of |F_p − F_q|)."""
    x, _ = gauss_legendre(b)
    f = lambda t: p.cdf(t) - q.cdf(t)  # noqa: E731
    roots = crossings(x, f(x), f)
    return np.unique(np.concatenate([b, roots])) if len(roots) else b


# ------------------------------------------------------------------------------------------------- 1D values
def _support_violation(lp: np.ndarray, lq: np.ndarray) -> bool:
    """Some node has p > 0 where q = 0."""
    return bool(np.any(np.isfinite(lp) & ~np.isfinite(lq)))


def _alpha_value(p, q, lp, lq, w, alpha: float) -> float:
    if not (p.has_unbounded_support and q.has_unbounded_support):
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
    if div.kind == "w1":
        b = w1_breakpoints(p, q, b)
        x, w = gauss_legendre(b)
        return float(np.sum(w * np.abs(p.cdf(x) - q.cdf(x))))
    x, w = gauss_legendre(b)
    lp, lq = p.log_prob(x), q.log_prob(x)
    if div.kind == "tv":
        return tv_from_crossings(p, q, density_crossings(p, q, x, lp, lq))[0]
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
    box's edges, as long as the step is below about half the narrowest std.
    """
    n = np.minimum(np.ceil((hi - lo) / step).astype(int) + 1, max_n)
    xs, ys = np.linspace(lo[0], hi[0], n[0]), np.linspace(lo[1], hi[1], n[1])
    return xs, ys, float((xs[1] - xs[0]) * (ys[1] - ys[0]))


def box_for(p: Mixture2D, q: Mixture2D | None = None, k: float = 7.0) -> tuple[np.ndarray, np.ndarray, float]:
    """A box holding p's (and q's) mass to about e^(−k²/2), and a step of half the narrowest std: the trapezoid
    rule's error for a Gaussian of std σ with step h is about exp(−2π²σ²/h²), here e^(−79)."""
    lo, hi = p.box(k)
    step = p.min_std() / 2
    if q is not None:
        qlo, qhi = q.box(k)
        lo, hi = np.minimum(lo, qlo), np.maximum(hi, qhi)
        step = min(step, q.min_std() / 2)
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
