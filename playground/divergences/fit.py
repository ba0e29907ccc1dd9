"""Fit a model family to a target by minimising a divergence, from several starts, and list the local minima.

The objective is the quadrature of `measures`, rebuilt around each candidate model so it stays exact, and its
gradient comes from the same quadrature: for D = ∫ f(p, q_θ), dD/dθ = ∫ g(x) ∂log q_θ(x)/∂θ dx with
g = q ∂f/∂q (written in log-densities, like the values). tv (from the CDFs between the crossings of p and
q) and w1 (on panels split where F_p = F_q) have exact gradients too. Each start runs L-BFGS-B with tight
tolerances and records its path; the end points are clustered (two fits are the same minimum when their
densities are within 1e-4 in squared Hellinger distance), which gives the global best and every distinct local
minimum found.
"""

from __future__ import annotations

import contextlib
import functools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize
from scipy.special import ndtr

from playground.divergences import measures as M
from playground.divergences.densities import Density1D
from playground.errors import PlaygroundError
from playground.numerics import logsumexp

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
FAMILIES_1D = ("gaussian", "mixture")
SAME_MINIMUM_H2 = 1e-4
_PENALTY = 1e12
_ONE = np.ones(1)


def one_blas_thread(fn):
    """Run `fn` with BLAS limited to one thread: L-BFGS-B's tiny linear algebra otherwise wakes OpenBLAS's
    thread pool at every step, which on a busy 2-core machine made a fit five times slower."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            from threadpoolctl import threadpool_limits
            ctx = threadpool_limits(1, user_api="blas")
        except ImportError:  # pragma: no cover - threadpoolctl missing
            ctx = contextlib.nullcontext()
        with ctx:
            return fn(*args, **kwargs)
    return wrapper


# ------------------------------------------------------------------------------------------------ 1D families
@dataclass(frozen=True)
class MixtureFamily:
    """k Gaussians: θ = (logits of parts 2..k, means, log stds); k = 1 is the single Gaussian (μ, log σ)."""

    k: int = 1

    @property
    def name(self) -> str:
        return "gaussian" if self.k == 1 else f"mixture{self.k}"

    @property
    def n_params(self) -> int:
        return 3 * self.k - 1

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k = self.k
        if k == 1:
            return _ONE, theta[0:1], np.exp(theta[1:2])
        logits = np.concatenate([[0.0], theta[: k - 1]])
        w = np.exp(logits - logsumexp(logits))
        return w, theta[k - 1: 2 * k - 1], np.exp(theta[2 * k - 1:])

    def pack(self, weights, means, stds) -> np.ndarray:
        w = np.asarray(weights, dtype=np.float64)
        return np.concatenate([np.log(w[1:] / w[0]), np.asarray(means, float), np.log(np.asarray(stds, float))])

    def density(self, theta: np.ndarray) -> Density1D:
        return Density1D.mixture(*self.unpack(theta))

    def _parts(self, theta, x):
        w, mu, sd = self.unpack(theta)
        z = (x[:, None] - mu) / sd
        logn = -0.5 * z**2 - np.log(sd) - _LOG_SQRT_2PI
        return w, mu, sd, z, logn

    def score(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        """∂ log q(x) / ∂θ, shape (len(x), n_params)."""
        w, _, sd, z, logn = self._parts(theta, x)
        if self.k == 1:
            return np.stack([z[:, 0] / sd[0], z[:, 0] ** 2 - 1.0], axis=1)
        lj = np.log(w) + logn
        r = np.exp(lj - logsumexp(lj, axis=1, keepdims=True))
        return np.concatenate([(r - w)[:, 1:], r * z / sd, r * (z**2 - 1.0)], axis=1)

    def cdf_grad(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        """∂ F_q(x) / ∂θ, shape (len(x), n_params)."""
        w, _, sd, z, _ = self._parts(theta, x)
        phi = np.exp(-0.5 * z**2 - _LOG_SQRT_2PI)
        d_mu = -w * phi / sd
        d_ls = -w * z * phi
        if self.k == 1:
            return np.concatenate([d_mu, d_ls], axis=1)
        big_phi = ndtr(z)
        F = np.sum(w * big_phi, axis=1, keepdims=True)
        return np.concatenate([(w * (big_phi - F))[:, 1:], d_mu, d_ls], axis=1)

    def params(self, theta: np.ndarray) -> dict:
        w, mu, sd = self.unpack(theta)
        if self.k == 1:
            return {"mu": float(mu[0]), "sigma": float(sd[0])}
        order = np.argsort(mu)
        return {"weights": w[order].tolist(), "means": mu[order].tolist(), "stds": sd[order].tolist()}


def family_1d(name: str, components: int = 2) -> MixtureFamily:
    if name == "gaussian":
        return MixtureFamily(1)
    if name == "mixture":
        if not 1 <= int(components) <= 8:
            raise PlaygroundError(f"components must be between 1 and 8, got {components}")
        return MixtureFamily(int(components))
    raise PlaygroundError(f"unknown family {name!r} for a 1D target: choose one of {', '.join(FAMILIES_1D)}")


# --------------------------------------------------------------------------------------- 1D objective + grad
def _grad_integrand(div: M.Divergence, lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
    """g = q ∂f/∂q of the divergence's integrand f (the model q is Gaussian, so log q is finite)."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        q = np.exp(lq)
        if div.kind == "alpha":
            return div.scale * _alpha_grad(lp, lq, div.alpha)
        if div.kind == "jeffreys":
            return _alpha_grad(lp, lq, 1.0) + _alpha_grad(lp, lq, 0.0)
        if div.kind == "js":
            lm = np.logaddexp(lp, lq) - math.log(2.0)
            return 0.5 * q * (lq - lm)
        if div.kind == "hellinger2":
            return q - np.exp(0.5 * (lp + lq))
        if div.kind == "tv":   # 2D only: in 1D tv is exact from the CDFs
            return 0.5 * q * np.sign(q - np.exp(lp))
    raise AssertionError(div)


def _alpha_grad(lp: np.ndarray, lq: np.ndarray, alpha: float) -> np.ndarray:
    """(q − p^α q^(1−α))/α = −q·expm1(α l)/α with l = log p − log q, and −q·l at α = 0."""
    q = np.exp(lq)
    l_ = lp - lq
    if alpha == 0.0:
        return -q * l_
    t = alpha * l_
    small = np.abs(t) < 1.0
    # expm1 keeps precision where p ≈ q; elsewhere p^α q^(1−α) is formed in the log domain (no overflow).
    tilted = np.exp(np.where(small, 0.0, lq + t))
    return np.where(small, -q * np.expm1(np.where(small, t, 0.0)), q - tilted) / alpha


@dataclass
class Problem1D:
    """A target, a divergence and a family: evaluates the divergence and its gradient at θ."""

    target: Density1D
    div: M.Divergence
    family: MixtureFamily

    def value_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, div = self.target, self.family.density(theta), self.div
        for a in div.alphas:
            if not M.tilted_tail_finite(p, q, a):
                return math.inf, np.zeros_like(theta)
        b = M.breakpoints(p, q, div.alphas)
        if div.kind == "w1":
            b = M.w1_breakpoints(p, q, b)
            x, w = M.gauss_legendre(b)
            diff = q.cdf(x) - p.cdf(x)
            return float(np.sum(w * np.abs(diff))), (w * np.sign(diff)) @ self.family.cdf_grad(theta, x)
        x, w = M.gauss_legendre(b)
        lp, lq = p.log_prob(x), q.log_prob(x)
        if div.kind == "tv":
            roots = M.density_crossings(p, q, x, lp, lq)
            value, signs = M.tv_from_crossings(p, q, roots)
            g = self.family.cdf_grad(theta, roots)
            g = np.diff(np.vstack([np.zeros((1, g.shape[1])), g, np.zeros((1, g.shape[1]))]), axis=0)
            return value, 0.5 * (signs @ g)
        if div.kind == "alpha":
            value = div.scale * M._alpha_value(p, q, lp, lq, w, div.alpha)
        elif div.kind == "jeffreys":
            value = M._alpha_value(p, q, lp, lq, w, 1.0) + M._alpha_value(p, q, lp, lq, w, 0.0)
        else:
            value = float(np.sum(w * M.pointwise(div, lp, lq)))
        if not math.isfinite(value):
            return math.inf, np.zeros_like(theta)
        g = _grad_integrand(div, lp, lq)
        return value, (w * g) @ self.family.score(theta, x)

    def value(self, theta: np.ndarray) -> float:
        return self.value_and_grad(theta)[0]


def _scales(target: Density1D) -> np.ndarray:
    return np.where(target.is_gaussian, target.scales, target.scales / math.sqrt(12.0))


def bounds_1d(target: Density1D, div: M.Divergence, family: MixtureFamily) -> list[tuple[float, float]]:
    """Box bounds on θ: means near the target, stds within a wide range, and inside the region where the
    divergence is finite (α > 1 needs q wider than the target's tails, α < 0 narrower)."""
    lo, hi = target.extent(4.0)
    spread = target.std()
    mu_b = (lo - 2 * spread, hi + 2 * spread)
    s_lo, s_hi = 0.05 * float(_scales(target).min()), 20.0 * spread
    s_first_lo, s_all_hi = s_lo, s_hi
    sp = target.max_gauss_std()
    for a in div.alphas:
        if a <= 0 and not target.has_unbounded_support:
            raise PlaygroundError(
                f"{div.name} is infinite for every Gaussian model: the target is zero outside "
                f"[{target.extent()[0]:g}, {target.extent()[1]:g}] where every Gaussian is positive")
        if a > 1 and sp > 0:
            s_first_lo = max(s_first_lo, sp * math.sqrt((a - 1) / a) * 1.0005)
        if a < 0 and sp > 0:
            s_all_hi = min(s_all_hi, sp * math.sqrt((1 - a) / -a) / 1.0005)
    if s_first_lo >= s_all_hi:
        raise PlaygroundError(f"{div.name} is infinite for every model in this family")
    k = family.k
    b = [(-12.0, 12.0)] * (k - 1) + [mu_b] * k
    b += [(math.log(s_first_lo), math.log(s_all_hi))] + [(math.log(s_lo), math.log(s_all_hi))] * (k - 1)
    return b


def initial_points_1d(target: Density1D, family: MixtureFamily, bounds, n: int,
                      rng: np.random.Generator) -> np.ndarray:
    """The first start matches the target's moments; the others put means on target samples, log-uniform stds."""
    k = family.k
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    # Start well inside the finite region: near its edge an α-divergence with α > 1 or < 0 is astronomically large.
    ls = slice(2 * k - 1, 3 * k - 1)
    room = np.minimum(math.log(1.5), (hi[ls] - lo[ls]) / 3)
    lo[ls], hi[ls] = lo[ls] + room, hi[ls] - room
    scales = _scales(target)
    out = []
    for i in range(n):
        if i == 0:
            if k == 1:
                theta = np.array([target.mean(), math.log(target.std())])
            else:
                qs = np.linspace(0.5 / k, 1 - 0.5 / k, k)
                xs = np.sort(target.sample(4000, np.random.default_rng(0)))
                theta = family.pack(np.full(k, 1 / k), np.quantile(xs, qs), np.full(k, target.std() / k))
        else:
            means = target.sample(k, rng)
            stds = np.exp(rng.uniform(math.log(0.5 * scales.min()), math.log(1.5 * target.std()), size=k))
            theta = family.pack(np.full(k, 1 / k), means, stds)
        out.append(np.clip(theta, lo + 1e-9, hi - 1e-9))
    return np.asarray(out)


# ------------------------------------------------------------------------------------------------ the optimiser
@dataclass
class Run:
    """One start: the path of parameter vectors and values, where it ended and whether L-BFGS-B converged."""

    path: list[np.ndarray]
    values: list[float]
    theta: np.ndarray
    value: float
    converged: bool
    iterations: int


@dataclass
class Minimum:
    theta: np.ndarray
    value: float
    params: dict
    count: int
    run: int          # the index of the best run that ended here


@dataclass
class FitResult:
    divergence: str
    family: str
    runs: list[Run]
    minima: list[Minimum]
    dim: int = 1
    model: object = None        # the family: .params(θ) and .density(θ)
    extra: dict = field(default_factory=dict)

    def params_path(self, run: int | None = None) -> list[dict]:
        """The parameters along a run's path (default: the run that found the global best)."""
        r = self.runs[self.best.run if run is None else run]
        return [self.model.params(t) for t in r.path]

    @property
    def best(self) -> Minimum:
        return self.minima[0]

    def to_dict(self) -> dict:
        """The CLI's JSON: the global best's parameters and value, then every distinct local minimum."""
        best = self.best
        out = {"divergence": self.divergence, "family": self.family, **best.params, "value": best.value,
               "local_minima": [{**m.params, "value": m.value, "count": m.count} for m in self.minima],
               "restarts": len(self.runs), "converged_runs": sum(r.converged for r in self.runs)}
        out.update(self.extra)
        return out


def _minimise(fun, theta0: np.ndarray, bounds, record: bool) -> Run:
    path, values = [np.array(theta0)], []
    v0 = fun(theta0)[0]
    values.append(v0)

    def cb(intermediate_result):
        if record:
            path.append(np.array(intermediate_result.x))
            values.append(float(intermediate_result.fun))

    def safe(theta):
        v, g = fun(theta)
        if not math.isfinite(v):
            return _PENALTY, np.zeros_like(theta)
        return v, g

    res = minimize(safe, theta0, jac=True, method="L-BFGS-B", bounds=bounds, callback=cb,
                   options={"maxiter": 400, "ftol": 1e-15, "gtol": 1e-10, "maxls": 40})
    value, _ = fun(res.x)
    if not record:
        path.append(np.array(res.x))
        values.append(value)
    return Run(path, values, np.array(res.x), float(value), bool(res.success) and math.isfinite(value), int(res.nit))


def _cluster(runs: list[Run], density_of, family_params, h2) -> list[Minimum]:
    order = sorted(range(len(runs)), key=lambda i: runs[i].value)
    minima: list[Minimum] = []
    reps = []
    for i in order:
        r = runs[i]
        if not math.isfinite(r.value):
            continue
        d = density_of(r.theta)
        for m, rep in zip(minima, reps):
            if h2(d, rep) < SAME_MINIMUM_H2:
                m.count += 1
                break
        else:
            minima.append(Minimum(r.theta, r.value, family_params(r.theta), 1, i))
            reps.append(d)
    return minima


@one_blas_thread
def fit_1d(target: Density1D, divergence: str | M.Divergence, family: str | MixtureFamily = "gaussian",
           components: int = 2, restarts: int = 10, seed: int = 0, starts: np.ndarray | None = None,
           record_path: bool = True) -> FitResult:
    """Minimise the divergence from `restarts` starts (or the given `starts`) and cluster the end points."""
    div = divergence if isinstance(divergence, M.Divergence) else M.parse_divergence(divergence)
    fam = family if isinstance(family, MixtureFamily) else family_1d(family, components)
    if not 1 <= int(restarts) <= 200:
        raise PlaygroundError(f"restarts must be between 1 and 200, got {restarts}")
    problem = Problem1D(target, div, fam)
    bounds = bounds_1d(target, div, fam)
    rng = np.random.default_rng(seed)
    if starts is None:
        starts = initial_points_1d(target, fam, bounds, int(restarts), rng)
    else:
        lo, hi = np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])
        starts = np.clip(np.atleast_2d(np.asarray(starts, dtype=np.float64)), lo + 1e-9, hi - 1e-9)
    runs = [_minimise(problem.value_and_grad, s, bounds, record_path) for s in starts]
    minima = _cluster(runs, fam.density, fam.params, lambda a, b: M.divergence(a, b, "hellinger2"))
    if not minima:
        raise PlaygroundError(f"{div.name} is infinite at every start: try another family or divergence")
    return FitResult(div.name, fam.name, runs, minima, model=fam)


def moment_match_1d(target: Density1D) -> dict:
    """The forward-KL optimum of a single Gaussian, in closed form."""
    return {"mu": target.mean(), "sigma": target.std()}


# ------------------------------------------------------------------------------------------------ landscape
@one_blas_thread
def landscape_1d(target: Density1D, divergence: str | M.Divergence, mus: np.ndarray,
                 sigmas: np.ndarray) -> np.ndarray:
    """The divergence of N(μ, σ) from the target on a (σ, μ) grid, shape (len(sigmas), len(mus)).

    Each row (one σ) is integrated by the trapezoid rule on its own uniform grid (a sixth of the narrower of σ
    and the target's narrowest scale; 8 stds beyond the target and the models): a picture accurate to about
    1e-6 where the values are moderate (1e-3 for tv and w1, whose integrands have kinks), not the 1e-12 of
    `measures`. Infinite values stay `inf`.
    """
    div = divergence if isinstance(divergence, M.Divergence) else M.parse_divergence(divergence)
    mus, sigmas = np.asarray(mus, float), np.asarray(sigmas, float)
    t_lo, t_hi = target.extent(8.0)
    s_t = float(_scales(target).min())
    out = np.empty((len(sigmas), len(mus)))
    for i, s in enumerate(sigmas):
        if any(not M.tilted_tail_finite(target, Density1D.gaussian(0.0, s), a) for a in div.alphas):
            out[i] = np.inf
            continue
        lo, hi = min(t_lo, mus.min() - 8 * s), max(t_hi, mus.max() + 8 * s)
        scale = min(s_t, s)
        for a in div.alphas:        # p^α q^(1−α) can peak far from both when α is outside [0, 1]
            if not 0.0 <= a <= 1.0:
                for m in (mus.min(), mus.max()):
                    centres, widths = M._tilts(target, Density1D.gaussian(m, s), a)
                    if len(centres):
                        lo = min(lo, float(np.min(centres - 8 * widths)))
                        hi = max(hi, float(np.max(centres + 8 * widths)))
                        scale = min(scale, float(widths.min()))
        # log p of a mixture has complex singularities about σ²/Δμ off the real axis: a step of a sixth of
        # the scale keeps the trapezoid rule's error near 1e-8.
        n = int(min(max((hi - lo) / (scale / 6), 200), 8000))
        x = np.linspace(lo, hi, n)
        x = np.unique(np.concatenate([x, M.jump_points(target)]))   # uniform ends on the grid
        wts = np.zeros_like(x)
        dx = np.diff(x)
        wts[:-1] += dx / 2
        wts[1:] += dx / 2
        z = (x[None, :] - mus[:, None]) / s
        if div.kind == "w1":
            out[i] = np.abs(ndtr(z) - target.cdf(x)) @ wts
            continue
        lq = -0.5 * z**2 - math.log(s) - _LOG_SQRT_2PI
        lp = np.broadcast_to(target.log_prob(x), lq.shape)
        with np.errstate(over="ignore", invalid="ignore"):
            out[i] = M.pointwise(div, lp, lq) @ wts
    out[~np.isfinite(out)] = np.inf
    return out


# ------------------------------------------------------------------------------------------------ α sweep
@one_blas_thread
def alpha_sweep(target: Density1D, alphas, restarts: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    """Single-Gaussian fits along α (each warm-started from the previous α's best plus fresh starts).

    Returns arrays `alpha`, `mu`, `sigma`, `value` (NaN where the α-divergence is infinite for every Gaussian).
    """
    fam = MixtureFamily(1)
    rng = np.random.default_rng(seed)
    prev = None
    rows = []
    for a in alphas:
        div = M.Divergence(f"alpha:{float(a):.15g}", "alpha", float(a))
        try:
            bounds = bounds_1d(target, div, fam)
        except PlaygroundError:
            rows.append((a, np.nan, np.nan, np.nan))
            continue
        starts = initial_points_1d(target, fam, bounds, restarts, rng)
        if prev is not None:
            starts = np.vstack([prev, starts])
        res = fit_1d(target, div, fam, starts=starts, record_path=False)
        prev = res.best.theta
        rows.append((a, res.best.params["mu"], res.best.params["sigma"], res.best.value))
    arr = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
    return {"alpha": arr[:, 0], "mu": arr[:, 1], "sigma": arr[:, 2], "value": arr[:, 3]}
