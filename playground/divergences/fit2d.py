"""Fit a 2D Gaussian (full or diagonal covariance) to a 2D target by minimising a divergence, from several starts.

The same machinery as the 1D fit (`fit._minimise`, `fit._cluster`, the gradient integrand of `fit`), with the
divergence integrated by the trapezoid rule on one fixed lattice; `factorised_fits` gives the textbook closed
forms of the diagonal case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from playground.divergences import measures as M
from playground.divergences.densities import Mixture2D
from playground.divergences.fit import FitResult, _cluster, _grad_integrand, _minimise, one_blas_thread
from playground.errors import PlaygroundError

FAMILIES_2D = ("gaussian", "gaussian_diag")
MAX_RESTARTS_2D = 50      # each 2D start integrates over a lattice: fewer allowed than in 1D (200)


@dataclass(frozen=True)
class Gaussian2DFamily:
    """θ = (μ1, μ2, log L11, L21, log L22) with Σ = L Lᵀ (full), or (μ1, μ2, log σ1, log σ2) (diagonal)."""

    diagonal: bool = False

    @property
    def name(self) -> str:
        return "gaussian_diag" if self.diagonal else "gaussian"

    def chol(self, theta: np.ndarray) -> np.ndarray:
        if self.diagonal:
            return np.diag(np.exp(theta[2:4]))
        return np.array([[math.exp(theta[2]), 0.0], [theta[3], math.exp(theta[4])]])

    def density(self, theta: np.ndarray) -> Mixture2D:
        L = self.chol(theta)
        return Mixture2D(np.array([1.0]), np.asarray(theta[:2], float)[None], (L @ L.T)[None])

    def pack(self, mean, cov) -> np.ndarray:
        cov = np.asarray(cov, float)
        if self.diagonal:
            return np.array([mean[0], mean[1], 0.5 * math.log(cov[0, 0]), 0.5 * math.log(cov[1, 1])])
        L = np.linalg.cholesky(cov)
        return np.array([mean[0], mean[1], math.log(L[0, 0]), L[1, 0], math.log(L[1, 1])])

    def score(self, theta: np.ndarray, pts: np.ndarray) -> np.ndarray:
        """∂ log q / ∂θ at points (n, 2)."""
        L = self.chol(theta)
        a, b, c = L[0, 0], L[1, 0], L[1, 1]
        d = pts - theta[:2]
        u1 = d[:, 0] / a
        u2 = (d[:, 1] - b * u1) / c
        if self.diagonal:
            return np.stack([u1 / a, u2 / c, u1**2 - 1.0, u2**2 - 1.0], axis=1)
        return np.stack([u1 / a - u2 * b / (a * c), u2 / c, u1**2 - u2 * b * u1 / c - 1.0, u1 * u2 / c,
                         u2**2 - 1.0], axis=1)

    def params(self, theta: np.ndarray) -> dict:
        cov = self.density(theta).covs[0]
        return {"mean": [float(theta[0]), float(theta[1])], "cov": cov.tolist()}


_LATTICES: dict = {}


def _target_lattice(target: Mixture2D, lo: tuple, hi: tuple):
    """The target's log-density on a lattice of step half its narrowest std (at most 600 points a side),
    cached: the page fits several divergences to the same target."""
    key = (target.weights.tobytes(), target.means.tobytes(), target.covs.tobytes(), lo, hi)
    if key not in _LATTICES:
        lo_, hi_ = np.asarray(lo), np.asarray(hi)
        step = max(target.min_std() / 2, float(np.max(hi_ - lo_)) / 600)
        xs, ys, area = M.grid_2d(lo_, hi_, step, max_n=601)
        pts = np.stack(np.meshgrid(xs, ys, indexing="xy"), axis=-1)
        if len(_LATTICES) >= 8:
            _LATTICES.pop(next(iter(_LATTICES)))
        _LATTICES[key] = (xs, ys, area, target.log_prob(pts))
    return _LATTICES[key]


@dataclass
class Problem2D:
    """Target, divergence and 2D Gaussian family; integrates by the trapezoid rule on one fixed lattice.

    The lattice's step is half the target's narrowest std, and the target's log-density is computed on it
    once; each evaluation integrates over the lattice points inside the union of the target's and the model's
    7-std boxes. Fixed nodes keep the objective smooth in θ. A model the lattice cannot integrate (an axis
    narrower than 0.9 steps, where the trapezoid rule's error passes 1e-6 of the mass, or a 7-std box leaving
    the lattice) is not considered: its value is inf, like an infinite divergence, and the optimiser steps back.
    """

    target: Mixture2D
    div: M.Divergence
    family: Gaussian2DFamily
    reach: tuple[np.ndarray, np.ndarray] | None = None   # the box every model considered stays inside

    def __post_init__(self):
        lo, hi = self.target.box(7.0)
        if self.reach is not None:
            lo, hi = np.minimum(lo, self.reach[0]), np.maximum(hi, self.reach[1])
        self.xs, self.ys, self.area, self.lp_all = _target_lattice(self.target, tuple(lo), tuple(hi))
        self.plo, self.phi = self.target.box(7.0)
        self.step = float(max(self.xs[1] - self.xs[0], self.ys[1] - self.ys[0]))

    def resolves(self, q: Mixture2D) -> bool:
        """Whether the lattice integrates q: no axis narrower than 0.9 steps, its 7-std box inside the lattice."""
        qlo, qhi = q.box(7.0)
        inside = qlo[0] >= self.xs[0] and qlo[1] >= self.ys[0] and qhi[0] <= self.xs[-1] and qhi[1] <= self.ys[-1]
        return inside and q.min_std() >= 0.9 * self.step

    def value_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, div = self.target, self.family.density(theta), self.div
        if not self.resolves(q):
            return math.inf, np.zeros_like(theta)
        for a in div.alphas:
            if not M.tail_finite_2d(p, q, a):
                return math.inf, np.zeros_like(theta)
        qlo, qhi = q.box(7.0)
        lo, hi = np.minimum(self.plo, qlo), np.maximum(self.phi, qhi)
        i0, i1 = np.searchsorted(self.xs, lo[0]), np.searchsorted(self.xs, hi[0], side="right")
        j0, j1 = np.searchsorted(self.ys, lo[1]), np.searchsorted(self.ys, hi[1], side="right")
        xs, ys = self.xs[i0:i1], self.ys[j0:j1]
        pts = np.stack(np.meshgrid(xs, ys, indexing="xy"), axis=-1).reshape(-1, 2)
        lp = self.lp_all[j0:j1, i0:i1].reshape(-1)
        lq = q.log_prob(pts)
        value = self.area * float(np.sum(M.pointwise(div, lp, lq)))
        if not math.isfinite(value):
            return math.inf, np.zeros_like(theta)
        g = _grad_integrand(div, lp, lq)
        return value, self.area * (g @ self.family.score(theta, pts))


@one_blas_thread
def fit_2d(target: Mixture2D, divergence: str | M.Divergence, family: str = "gaussian", restarts: int = 4,
           seed: int = 0, record_path: bool = True) -> FitResult:
    """Fit a 2D Gaussian (full or diagonal covariance) by quadrature on a uniform grid, from several starts."""
    div = divergence if isinstance(divergence, M.Divergence) else M.parse_divergence(divergence)
    if div.kind == "w1":
        raise PlaygroundError("w1 is available for 1D targets only")
    if family not in FAMILIES_2D:
        raise PlaygroundError(f"unknown family {family!r} for a 2D target: choose one of {', '.join(FAMILIES_2D)}")
    if not 1 <= int(restarts) <= MAX_RESTARTS_2D:
        raise PlaygroundError(f"restarts must be between 1 and {MAX_RESTARTS_2D} for a 2D target, got {restarts}")
    fam = Gaussian2DFamily(diagonal=family == "gaussian_diag")
    lo, hi = target.box(3.0)
    s_min, s_max = target.min_std(), float(np.sqrt(np.trace(target.cov())))
    problem = Problem2D(target, div, fam, reach=(lo - 7 * 1.5 * s_max, hi + 7 * 1.5 * s_max))
    ls = (math.log(max(s_min / 2, problem.step)), math.log(1.5 * s_max))
    if fam.diagonal:
        bounds = [(lo[0], hi[0]), (lo[1], hi[1]), ls, ls]
    else:
        bounds = [(lo[0], hi[0]), (lo[1], hi[1]), ls, (-3 * s_max, 3 * s_max), ls]
    rng = np.random.default_rng(seed)
    mean, cov = target.mean(), target.cov()
    # Starts: the moment match (wide: finite for α > 1), then each component itself (narrow: finite for α < 0),
    # then random means on the target with random axis-aligned spreads.
    candidates = [fam.pack(mean, np.diag(np.diag(cov)) if fam.diagonal else cov)]
    for j in np.argsort(-target.weights):
        c = target.covs[j]
        candidates.append(fam.pack(target.means[j], np.diag(np.diag(c)) if fam.diagonal else c))
    while len(candidates) < 4 * int(restarts):
        j = rng.choice(len(target.weights), p=target.weights)
        m = target.means[j] + rng.normal(size=2) * np.sqrt(np.diag(target.covs[j]))
        sd = np.exp(rng.uniform(math.log(s_min), math.log(s_max), size=2))
        candidates.append(fam.pack(m, np.diag(sd**2)))
    blo, bhi = np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])
    starts = []
    for c in candidates:
        c = np.clip(c, blo + 1e-9, bhi - 1e-9)
        if all(M.tail_finite_2d(target, fam.density(c), a) for a in div.alphas):
            starts.append(c)
        if len(starts) == int(restarts):
            break
    if not starts:
        raise PlaygroundError(f"{div.name} is infinite for every start tried: the model's tails must be "
                              f"{'lighter' if div.alphas and min(div.alphas) < 0 else 'heavier'} than the target's")
    runs = [_minimise(problem.value_and_grad, s, bounds, record_path) for s in starts]
    minima = _cluster(runs, fam.density, fam.params, lambda a, b: M.divergence_2d(a, b, "hellinger2"))
    if not minima:
        raise PlaygroundError(f"{div.name} is infinite at every start")
    return FitResult(div.name, fam.name, runs, minima, dim=2, model=fam)


def factorised_fits(rho: float = 0.9, std1: float = 1.0, std2: float = 1.0) -> dict[str, list[float]]:
    """The textbook answers for a diagonal Gaussian fitted to a correlated one: forward KL gives the variances
    Σᵢᵢ, reverse KL gives 1/Λᵢᵢ with Λ = Σ⁻¹ (too narrow along the axes)."""
    cov = np.array([[std1**2, rho * std1 * std2], [rho * std1 * std2, std2**2]])
    lam = np.linalg.inv(cov)
    return {"kl": np.diag(cov).tolist(), "rkl": (1.0 / np.diag(lam)).tolist()}
