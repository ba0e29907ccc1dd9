"""Targets and models of the divergence lab: 1D mixtures (Gaussian and uniform parts) and 2D Gaussian mixtures.

Every density gives its log-density (never the raw density, so nothing underflows), and the 1D ones their CDF.
Formulas use the one grammar of `playground.formula` (`0.3*N(-2,0.5)+0.7*N(1.5,1)`, N taking the std), with
`U(low,high)` parts allowed: they make disjoint supports (and so infinite divergences) possible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from playground.errors import PlaygroundError
from playground.formula import Mixture1D, Term, format_terms, parse_terms
from playground.numerics import logsumexp

GAUSS, UNIFORM = 0, 1
_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


@dataclass(frozen=True)
class Density1D:
    """A mixture of Gaussian parts N(loc, scale) and uniform parts U(loc, loc + scale); weights sum to one."""

    kinds: np.ndarray     # GAUSS or UNIFORM per part
    weights: np.ndarray
    locs: np.ndarray      # mean, or lower end
    scales: np.ndarray    # std, or width

    def __post_init__(self):
        # Constants of every evaluation, computed once (the fit evaluates thousands of times).
        gauss = self.kinds == GAUSS
        object.__setattr__(self, "_all_gauss", bool(gauss.all()))
        with np.errstate(divide="ignore"):
            object.__setattr__(self, "_log_norm", np.log(self.weights) - np.log(self.scales)
                               - np.where(gauss, _LOG_SQRT_2PI, 0.0))
        object.__setattr__(self, "_breakpoints", {})

    # --- construction
    @staticmethod
    def gaussian(mu: float, sigma: float) -> Density1D:
        return Density1D(np.array([GAUSS]), np.array([1.0]), np.array([float(mu)]), np.array([float(sigma)]))

    @staticmethod
    def mixture(weights, means, stds) -> Density1D:
        w = np.asarray(weights, dtype=np.float64)
        return Density1D(np.zeros(len(w), dtype=int), w / w.sum(), np.asarray(means, dtype=np.float64),
                         np.asarray(stds, dtype=np.float64))

    @staticmethod
    def from_mixture(m: Mixture1D) -> Density1D:
        return Density1D.mixture(m.weights, m.means, m.stds)

    # --- properties
    @property
    def is_gaussian(self) -> np.ndarray:
        return self.kinds == GAUSS

    @property
    def has_unbounded_support(self) -> bool:
        return bool(self.is_gaussian.any())

    def max_gauss_std(self) -> float:
        """The widest Gaussian part's std (it decides the tails), or 0 when the support is bounded."""
        g = self.is_gaussian
        return float(self.scales[g].max()) if g.any() else 0.0

    def mean(self) -> float:
        centre = np.where(self.is_gaussian, self.locs, self.locs + self.scales / 2)
        return float(np.sum(self.weights * centre))

    def var(self) -> float:
        centre = np.where(self.is_gaussian, self.locs, self.locs + self.scales / 2)
        var = np.where(self.is_gaussian, self.scales**2, self.scales**2 / 12)
        return float(np.sum(self.weights * (var + centre**2)) - self.mean() ** 2)

    def std(self) -> float:
        return float(np.sqrt(self.var()))

    def extent(self, k: float = 6.0) -> tuple[float, float]:
        """An interval holding essentially all the mass: k stds around every Gaussian part, every uniform part."""
        g = self.is_gaussian
        lo = np.where(g, self.locs - k * self.scales, self.locs)
        hi = np.where(g, self.locs + k * self.scales, self.locs + self.scales)
        return float(lo.min()), float(hi.max())

    # --- evaluation
    def component_log_probs(self, x: np.ndarray) -> np.ndarray:
        """log(w_j * density_j(x)), shape x.shape + (parts,)."""
        x = np.asarray(x, dtype=np.float64)[..., None]
        z = (x - self.locs) / self.scales
        if self._all_gauss:
            return self._log_norm - 0.5 * z * z
        inside = (z >= 0) & (z <= 1)
        return self._log_norm + np.where(self.is_gaussian, -0.5 * z * z, np.where(inside, 0.0, -np.inf))

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        comp = self.component_log_probs(x)
        k = comp.shape[-1]
        if k == 1:
            return comp[..., 0]
        if k == 2:
            return np.logaddexp(comp[..., 0], comp[..., 1])
        return logsumexp(comp, axis=-1)

    def prob(self, x: np.ndarray) -> np.ndarray:
        return np.exp(self.log_prob(x))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)[..., None]
        z = (x - self.locs) / self.scales
        if self._all_gauss:
            return ndtr(z) @ self.weights
        parts = np.where(self.is_gaussian, ndtr(z), np.clip(z, 0.0, 1.0))
        return parts @ self.weights

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        j = rng.choice(len(self.weights), size=n, p=self.weights)
        u = rng.standard_normal(n)
        v = rng.random(n)
        return np.where(self.is_gaussian[j], self.locs[j] + self.scales[j] * u, self.locs[j] + self.scales[j] * v)

    def breakpoints(self, k: float = 12.0) -> np.ndarray:
        """Points that split the line into panels on which this density is smooth and varies on the panel's scale:
        every std from -k to k around each Gaussian part; the ends and eighths of each uniform part."""
        if k not in self._breakpoints:
            pts = []
            t = np.arange(-k, k + 0.5)
            for kind, loc, scale in zip(self.kinds, self.locs, self.scales):
                if kind == GAUSS:
                    pts.append(loc + scale * t)
                else:
                    pts.append(loc + scale * np.linspace(0, 1, 9))
            self._breakpoints[k] = np.concatenate(pts)
        return self._breakpoints[k]

    def panel_scale(self) -> float:
        """The widest panel `breakpoints` makes: the largest std, or an eighth of the widest uniform part."""
        return float(np.max(np.where(self.is_gaussian, self.scales, self.scales / 8)))

    def formula(self) -> str:
        return format_density(self)


def parse_density(text: str) -> Density1D:
    """A formula of N(mean,std) and U(low,high) parts (the grammar of `playground.formula`) as a density."""
    terms = parse_terms(text)
    w = np.array([t.weight for t in terms])
    kinds = np.array([GAUSS if t.kind == "N" else UNIFORM for t in terms])
    locs = np.array([t.a for t in terms], dtype=np.float64)
    scales = np.array([t.b if t.kind == "N" else t.b - t.a for t in terms], dtype=np.float64)
    return Density1D(kinds, w / w.sum(), locs, scales)


def density_terms(d: Density1D) -> list[Term]:
    """The formula terms of a density (U parts as low, high)."""
    return [Term("N", w, loc, scale) if kind == GAUSS else Term("U", w, loc, loc + scale)
            for kind, w, loc, scale in zip(d.kinds, d.weights, d.locs, d.scales)]


def format_density(d: Density1D) -> str:
    return format_terms(density_terms(d))


# Presets of the 1D lab: name -> (formula, one-line description).
PRESETS_1D: dict[str, tuple[str, str]] = {
    "lecture": ("0.7*N(-2,0.6)+0.3*N(2,0.6)",
                "the lecture's picture: a large mode on the left, a smaller one on the right"),
    "symmetric": ("0.5*N(-2.5,0.6)+0.5*N(2.5,0.6)", "two equal, well-separated modes"),
    "overlapping": ("0.5*N(-1,0.9)+0.5*N(1,0.9)", "two modes so close that every divergence agrees"),
    "three_modes": ("0.3*N(-4,0.5)+0.4*N(0,0.7)+0.3*N(4,0.5)", "three separated modes"),
    "heavy_tail": ("0.85*N(0,0.7)+0.15*N(0,3)", "one mode with heavy tails: chi-squared fits differ most"),
    "skewed": ("0.3*N(-2,0.5)+0.7*N(1.5,1)", "the CLI's example: a narrow mode and a broad one"),
    "uniform": ("U(-2,2)", "bounded support: reverse KL and Neyman are infinite for every Gaussian"),
    "gaussian": ("N(1,1.5)", "a single Gaussian: every divergence recovers it exactly"),
}


def preset_of(text: str) -> str:
    """The preset a target text names or spells out, else "custom"."""
    key = str(text).strip()
    return next((k for k, (f, _) in PRESETS_1D.items() if key in (k, f)), "custom")


def resolve_target_1d(text: str) -> Density1D:
    """A preset name or a formula."""
    key = text.strip()
    if key in PRESETS_1D:
        return parse_density(PRESETS_1D[key][0])
    return parse_density(key)


# ----------------------------------------------------------------------------------------------------------- 2D
@dataclass(frozen=True)
class Mixture2D:
    """A mixture of 2D Gaussians: weights (k,), means (k, 2), covariances (k, 2, 2)."""

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """x: (..., 2) -> (...)."""
        x = np.asarray(x, dtype=np.float64)
        chol = np.linalg.cholesky(self.covs)                     # (k, 2, 2)
        d = x[..., None, :] - self.means                          # (..., k, 2)
        # Solve L u = d for a lower-triangular 2x2 L, component by component.
        u1 = d[..., 0] / chol[:, 0, 0]
        u2 = (d[..., 1] - chol[:, 1, 0] * u1) / chol[:, 1, 1]
        logdet = np.log(chol[:, 0, 0]) + np.log(chol[:, 1, 1])
        comp = np.log(self.weights) - 0.5 * (u1**2 + u2**2) - logdet - np.log(2 * np.pi)
        return logsumexp(comp, axis=-1)

    def mean(self) -> np.ndarray:
        return self.weights @ self.means

    def cov(self) -> np.ndarray:
        m = self.mean()
        second = np.einsum("k,kij->ij", self.weights, self.covs + np.einsum("ki,kj->kij", self.means, self.means))
        return second - np.outer(m, m)

    def box(self, k: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
        sd = np.sqrt(np.diagonal(self.covs, axis1=1, axis2=2))
        return (self.means - k * sd).min(axis=0), (self.means + k * sd).max(axis=0)

    def min_std(self) -> float:
        return float(np.sqrt(np.linalg.eigvalsh(self.covs).min()))


def gaussian_2d(mean, cov) -> Mixture2D:
    return Mixture2D(np.array([1.0]), np.asarray(mean, dtype=np.float64)[None], np.asarray(cov, dtype=np.float64)[None])


def two_blobs(separation: float = 4.0, std: float = 0.6, weight_left: float = 0.6) -> Mixture2D:
    means = np.array([[-separation / 2, -separation / 4], [separation / 2, separation / 4]])
    covs = np.array([np.eye(2) * std**2] * 2)
    return Mixture2D(np.array([weight_left, 1 - weight_left]), means, covs)


def ring(n: int = 8, radius: float = 2.0, std: float = 0.35) -> Mixture2D:
    t = 2 * np.pi * np.arange(n) / n
    means = radius * np.stack([np.cos(t), np.sin(t)], axis=1)
    return Mixture2D(np.full(n, 1.0 / n), means, np.array([np.eye(2) * std**2] * n))


def correlated(rho: float = 0.9, std1: float = 1.0, std2: float = 1.0) -> Mixture2D:
    cov = np.array([[std1**2, rho * std1 * std2], [rho * std1 * std2, std2**2]])
    return gaussian_2d([0.0, 0.0], cov)


TARGETS_2D = {
    "two_blobs": ("two Gaussian blobs of unequal weight", two_blobs),
    "ring": ("eight Gaussians on a circle", ring),
    "correlated": ("one correlated Gaussian (the factorised-fit example)", correlated),
}


def target_2d(name: str, param: float | None = None) -> Mixture2D:
    """A 2D preset; `param` is the separation (two_blobs), the radius (ring) or the correlation (correlated)."""
    if name not in TARGETS_2D:
        raise PlaygroundError(f"unknown 2D target {name!r}: choose one of {', '.join(TARGETS_2D)}")
    if param is None:
        return TARGETS_2D[name][1]()
    if name == "correlated":
        if not -0.99 <= param <= 0.99:
            raise PlaygroundError(f"correlation must lie in [-0.99, 0.99], got {param}")
        return correlated(rho=param)
    if not 0 < param <= 20:
        raise PlaygroundError(f"{'separation' if name == 'two_blobs' else 'radius'} must lie in (0, 20], got {param}")
    return two_blobs(separation=param) if name == "two_blobs" else ring(radius=param)
