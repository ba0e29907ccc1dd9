"""Toy target distributions in 1D and 2D, each with a sampler and an exact log density.

Three families:
- Gaussian mixtures with diagonal covariance (ring8, grid25, two_gaussians, three_blobs, bimodal1d,
  mixture1d): density and grid-cell masses are exact (cell masses are differences of normal CDFs).
- Noisy curves (line, circle, two_moons, spiral, swiss_roll): a point c(t) with t uniform on [0, 1] plus
  isotropic Gaussian noise. `line` and `circle` have closed-form densities. The others have
  p(x) = E_t[N(x; c(t), std^2 I)], computed by quadrature: "exact up to quadrature". The nodes are at most
  std/2 apart along the curve, with a rule free of end-point error (see `curve_nodes`); against an 8x finer
  quadrature, or the closed form for `line` and `circle`, the log density differs by less than 1e-5.
  Grid-cell masses of all curves use the same node mixture with exact normal CDFs.
- uniform1d (exact) and custom (the user's points, resampled; no density).

Every sampler draws all its randomness from the `torch.Generator` it is given and is vectorised: it is called
on every training step.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from scipy.special import i0e, log_ndtr, ndtr

from playground.errors import PlaygroundError
from playground.numerics import logsumexp
from playground.toy.config import ToyConfig

_LOG_2PI = math.log(2.0 * math.pi)
_CHUNK_ELEMENTS = 1_000_000          # points x nodes per chunk of the quadrature (about 8 MB per temporary)
_NODE_SPACING = 0.5                  # largest quadrature node spacing along a curve, in units of std
_MAX_NODES = 20_000                  # cap on quadrature nodes (spacing grows beyond it for very small std)
_NO_DENSITY = "target {!r} has no known density (it is made of your data points): use a built-in target"


class Target:
    """A toy distribution: `sample` for training, `log_prob` and `cell_masses` for exact evaluation.

    Attributes: `name`, `dim` (1 or 2), `means` (k, dim) / `covs` (k, dim, dim) / `weights` (k,) for Gaussian
    mixtures (else None), `bounds` ((xmin, xmax) in 1D, (xmin, xmax, ymin, ymax) in 2D: a view box holding
    essentially all the mass with a margin) and `has_density`.
    """

    def __init__(self, name: str, dim: int, bounds: tuple, *, has_density: bool = True,
                 means: np.ndarray | None = None, covs: np.ndarray | None = None,
                 weights: np.ndarray | None = None):
        self.name = name
        self.dim = dim
        self.bounds = tuple(float(b) for b in bounds)
        self.has_density = has_density
        self.means = means
        self.covs = covs
        self.weights = weights

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim}, bounds={self.bounds})"

    # --- sampling
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, dim) float32 CPU samples; all randomness comes from `generator`."""
        raise NotImplementedError

    # --- density
    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """Exact log density at the rows of `x` ((n, dim) -> (n,), float64)."""
        if not self.has_density:
            raise PlaygroundError(_NO_DENSITY.format(self.name))
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1 and self.dim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"log_prob expects an (n, {self.dim}) array, got shape {x.shape}")
        return self._log_prob(x)

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def cell_masses(self, edges: list[np.ndarray]) -> tuple[np.ndarray, float]:
        """Probability of each grid cell (bins along x, then y) and the probability outside the grid.

        The default integrates the exact density with a midpoint rule on 4 sub-points per cell and axis;
        subclasses with closed forms override it.
        """
        self._check_edges(edges)
        return midpoint_cell_masses(self.log_prob, edges, sub=4)

    def _check_edges(self, edges: list[np.ndarray]) -> list[np.ndarray]:
        if not self.has_density:
            raise PlaygroundError(_NO_DENSITY.format(self.name))
        if len(edges) != self.dim:
            raise ValueError(f"need {self.dim} edge arrays, got {len(edges)}")
        out = [np.asarray(e, dtype=np.float64) for e in edges]
        for e in out:
            if e.ndim != 1 or len(e) < 2 or np.any(np.diff(e) <= 0):
                raise ValueError("edges must be increasing 1D arrays with at least two entries")
        return out


def midpoint_cell_masses(log_prob: Callable[[np.ndarray], np.ndarray], edges: list[np.ndarray],
                         sub: int = 4) -> tuple[np.ndarray, float]:
    """Cell masses of a density by the midpoint rule on `sub` points per cell and axis; outside = 1 - sum."""
    fine_mids, fine_widths = [], []
    for e in edges:
        e = np.asarray(e, dtype=np.float64)
        frac = (np.arange(sub) + 0.5) / sub
        w = np.diff(e)
        fine_mids.append((e[:-1, None] + w[:, None] * frac[None, :]).ravel())
        fine_widths.append(np.repeat(w / sub, sub))
    if len(edges) == 1:
        dens = np.exp(log_prob(fine_mids[0][:, None])) * fine_widths[0]
        masses = dens.reshape(-1, sub).sum(axis=1)
    else:
        gx, gy = np.meshgrid(fine_mids[0], fine_mids[1], indexing="ij")
        dens = np.exp(log_prob(np.stack([gx.ravel(), gy.ravel()], axis=1))).reshape(gx.shape)
        dens = dens * fine_widths[0][:, None] * fine_widths[1][None, :]
        nx, ny = len(edges[0]) - 1, len(edges[1]) - 1
        masses = dens.reshape(nx, sub, ny, sub).sum(axis=(1, 3))
    return masses, max(0.0, 1.0 - float(masses.sum()))


def _interval_probs(edges: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """P(edges[j] <= X < edges[j+1]) for X ~ N(mu_i, sd_i^2): shape (len(mu), len(edges) - 1).

    Uses the upper tail on the right of the mean so that far-tail differences do not cancel.
    """
    z = (edges[None, :] - mu[:, None]) / sd[:, None]
    lo, hi = z[:, :-1], z[:, 1:]
    right = lo > 0
    return np.where(right, ndtr(-lo) - ndtr(-hi), ndtr(hi) - ndtr(lo))


def _diag_gaussian_cell_masses(means: np.ndarray, stds: np.ndarray, weights: np.ndarray,
                               edges: list[np.ndarray]) -> tuple[np.ndarray, float]:
    """Exact cell masses of a mixture of axis-aligned Gaussians (a product of 1D CDF differences per mode)."""
    px = _interval_probs(edges[0], means[:, 0], stds[:, 0])
    if len(edges) == 1:
        masses = weights @ px
    else:
        py = _interval_probs(edges[1], means[:, 1], stds[:, 1])
        masses = (px * weights[:, None]).T @ py
    masses = np.maximum(masses, 0.0)
    return masses, max(0.0, 1.0 - float(masses.sum()))


def _square_bounds(lo: np.ndarray, hi: np.ndarray, margin: float = 0.1) -> tuple:
    """A view box around [lo, hi] with `margin` of the span on each side; square in 2D."""
    lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    centre = (lo + hi) / 2
    span = hi - lo
    if len(lo) == 2:
        span = np.full(2, span.max())
    span = np.where(span > 0, span, 1.0) * (1 + 2 * margin)
    a, b = centre - span / 2, centre + span / 2
    if len(lo) == 1:
        return (a[0], b[0])
    return (a[0], b[0], a[1], b[1])


# ---------------------------------------------------------------------------------------------------------
class GaussianMixtureTarget(Target):
    """A mixture of Gaussians with diagonal covariance, in 1D or 2D. Exact density and cell masses."""

    def __init__(self, name: str, means: np.ndarray, stds: np.ndarray, weights: np.ndarray | None = None):
        means = np.atleast_2d(np.asarray(means, dtype=np.float64))
        k, dim = means.shape
        stds = np.broadcast_to(np.asarray(stds, dtype=np.float64), (k, dim)).copy()
        if np.any(stds <= 0):
            raise PlaygroundError(f"std must be positive for {name}")
        w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=np.float64)
        w = w / w.sum()
        lo = (means - 4 * stds).min(axis=0)
        hi = (means + 4 * stds).max(axis=0)
        covs = np.zeros((k, dim, dim))
        idx = np.arange(dim)
        covs[:, idx, idx] = stds**2
        super().__init__(name, dim, _square_bounds(lo, hi), means=means, covs=covs, weights=w)
        self.stds = stds
        self._uniform = bool(np.allclose(w, 1.0 / k))
        self._means_t = torch.as_tensor(means, dtype=torch.float32)
        self._stds_t = torch.as_tensor(stds, dtype=torch.float32)
        self._ms_t = torch.as_tensor(np.concatenate([means, stds], axis=1), dtype=torch.float32)
        self._weights_t = torch.as_tensor(w, dtype=torch.float64)
        self._iso_std = float(stds[0, 0]) if np.all(stds == stds[0, 0]) else None
        self._log_w = np.log(w)
        self._log_norm = -np.log(stds).sum(axis=1) - 0.5 * dim * _LOG_2PI     # (k,)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        if self._uniform:
            idx = torch.randint(len(self._means_t), (n,), generator=generator)
        else:
            idx = torch.multinomial(self._weights_t, n, replacement=True, generator=generator)
        eps = torch.randn(n, self.dim, generator=generator)
        if self._iso_std is not None:
            return self._means_t[idx].add_(eps, alpha=self._iso_std)
        rows = self._ms_t[idx]
        return torch.addcmul(rows[:, :self.dim], rows[:, self.dim:], eps)

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        out = np.empty(len(x))
        k = len(self._log_w)
        step = max(1, _CHUNK_ELEMENTS // k)
        for s in range(0, len(x), step):
            z = (x[s:s + step, None, :] - self.means[None]) / self.stds[None]          # (m, k, dim)
            comp = self._log_w + self._log_norm - 0.5 * (z * z).sum(axis=2)
            out[s:s + step] = logsumexp(comp, axis=1)
        return out

    def cell_masses(self, edges: list[np.ndarray]) -> tuple[np.ndarray, float]:
        edges = self._check_edges(edges)
        return _diag_gaussian_cell_masses(self.means, self.stds, self.weights, edges)


class Uniform1DTarget(Target):
    """U(-radius, radius) on the line: exact density (-log(2r) inside, -inf outside) and cell masses."""

    def __init__(self, name: str, radius: float):
        self.radius = float(radius)
        super().__init__(name, 1, _square_bounds(np.array([-radius]), np.array([radius])))

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return (torch.rand(n, 1, generator=generator) * 2 - 1) * self.radius

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        inside = np.abs(x[:, 0]) <= self.radius
        return np.where(inside, -math.log(2 * self.radius), -np.inf)

    def cell_masses(self, edges: list[np.ndarray]) -> tuple[np.ndarray, float]:
        (e,) = self._check_edges(edges)
        r = self.radius
        overlap = np.clip(np.minimum(e[1:], r) - np.maximum(e[:-1], -r), 0.0, None)
        masses = overlap / (2 * r)
        return masses, max(0.0, 1.0 - float(masses.sum()))


# A curve piece maps t in [0, 1] (a numpy array or torch tensor; `xp` is numpy or torch) to (x, y).
Curve = Callable[[object, object], tuple]


class CurveTarget(Target):
    """c(t) + N(0, std^2 I) with the curve chosen uniformly among `pieces` and t ~ U(0, 1).

    The density is the quadrature mixture sum_i w_i N(x; c_i, std^2 I) over arc-length nodes c_i (see the
    module docstring): exact up to quadrature. Subclasses with closed forms override `_log_prob`.
    For speed the sampler draws t from a precomputed table of the curve at the midpoints of a fine t grid
    (at least 65,536 points, on average at most std/100 apart along the curve, up to 2M points), then adds
    the noise: two random draws per call. This changes the sampled density by a relative 1e-4 at most, and
    only near the curve's two ends (elsewhere the midpoint rule in t is spectrally accurate).
    """

    def __init__(self, name: str, pieces: list[Curve], std: float):
        if std <= 0:
            raise PlaygroundError(f"std must be positive for {name}")
        self.pieces = pieces
        self.std = float(std)
        self.nodes, self.node_weights = curve_nodes(pieces, std)
        lo = self.nodes.min(axis=0) - 4 * std
        hi = self.nodes.max(axis=0) + 4 * std
        super().__init__(name, 2, _square_bounds(lo, hi))
        self._table_t = torch.as_tensor(curve_table(pieces, std), dtype=torch.float32)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        idx = torch.randint(len(self._table_t), (n,), generator=generator)
        return self._table_t[idx].add_(torch.randn(n, 2, generator=generator), alpha=self.std)

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        return quadrature_log_prob(x, self.nodes, self.node_weights, self.std)

    def cell_masses(self, edges: list[np.ndarray]) -> tuple[np.ndarray, float]:
        edges = self._check_edges(edges)
        stds = np.full_like(self.nodes, self.std)
        return _diag_gaussian_cell_masses(self.nodes, stds, self.node_weights, edges)


def curve_nodes(pieces: list[Curve], std: float, spacing: float = _NODE_SPACING,
                max_nodes: int = _MAX_NODES) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes (N, 2) and weights (N,) (sum 1) for curves with t ~ U(0, 1), piece chosen uniformly.

    For one piece, p(x) = int_0^1 N(x; c(t)) dt = int_0^L N(x; c(s)) t'(s) ds in arc length s. The midpoint
    rule in s converges spectrally fast in the interior once the spacing is below std, but the two ends of
    the curve would cost an O(h^2) error; the substitution s = L * phi(u), phi(u) = u - sin(2 pi u) / (2 pi)
    (phi' vanishes at both ends) removes it, so nodes sit at the midpoints of a uniform u grid, crowding
    towards the ends, with weights (1/n) L phi'(u) t'(s). The largest spacing along the curve (in the middle)
    is `spacing` * std unless that needs more than `max_nodes` nodes.
    """
    def arc(fn: Curve, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = np.linspace(0.0, 1.0, m)
        x, y = fn(t, np)
        ds = np.maximum(np.hypot(np.diff(x), np.diff(y)), 1e-300)
        return t, np.concatenate([[0.0], np.cumsum(ds)]), ds

    lengths = [arc(fn, 20_001)[1][-1] for fn in pieces]
    total = float(sum(lengths))
    n_total = int(min(max_nodes, max(64, math.ceil(2 * total / (spacing * std)))))
    nodes, weights = [], []
    for fn, length in zip(pieces, lengths):
        n = max(32, math.ceil(n_total * length / total))
        t, s, ds = arc(fn, max(20_001, 16 * n + 1))
        u = (np.arange(n) + 0.5) / n
        s_nodes = s[-1] * (u - np.sin(2 * np.pi * u) / (2 * np.pi))
        dphi = 1 - np.cos(2 * np.pi * u)
        t_nodes = np.interp(s_nodes, s, t)
        dt_ds = np.interp(s_nodes, (s[1:] + s[:-1]) / 2, np.diff(t) / ds)
        w = s[-1] * dphi * dt_ds / n
        x, y = fn(t_nodes, np)
        nodes.append(np.stack([x, y], axis=1))
        weights.append(w / w.sum() / len(pieces))
    return np.concatenate(nodes), np.concatenate(weights)


def curve_table(pieces: list[Curve], std: float) -> np.ndarray:
    """c(t) at the midpoints of a uniform t grid for every piece (equal counts: pieces are equally likely)."""
    t = np.linspace(0.0, 1.0, 20_001)
    length = 0.0
    for fn in pieces:
        x, y = fn(t, np)
        length += float(np.hypot(np.diff(x), np.diff(y)).sum())
    total = int(min(2**21, max(2**16, math.ceil(length / (0.01 * std)))))
    m = max(1, total // len(pieces))
    tm = (np.arange(m) + 0.5) / m
    return np.concatenate([np.stack(fn(tm, np), axis=1) for fn in pieces])


def quadrature_log_prob(x: np.ndarray, nodes: np.ndarray, weights: np.ndarray, std: float) -> np.ndarray:
    """log sum_i w_i N(x; nodes_i, std^2 I) in 2D, chunked over points to cap memory."""
    out = np.empty(len(x))
    log_w = np.log(weights) - _LOG_2PI - 2 * math.log(std)
    inv = 1.0 / (2 * std * std)
    cx, cy = nodes[:, 0], nodes[:, 1]
    step = max(1, _CHUNK_ELEMENTS // len(nodes))
    for s in range(0, len(x), step):
        xs = x[s:s + step]
        dx = xs[:, 0:1] - cx
        dy = xs[:, 1:2] - cy
        out[s:s + step] = logsumexp(log_w - (dx * dx + dy * dy) * inv)
    return out


def _log_diff_ndtr(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """log(Phi(hi) - Phi(lo)) for hi > lo, accurate in both tails."""
    flip = lo > 0                                   # use Phi(-lo) - Phi(-hi) on the right
    a = np.where(flip, -lo, hi)
    b = np.where(flip, -hi, lo)
    la, lb = log_ndtr(a), log_ndtr(b)
    d = lb - la                                     # <= 0
    with np.errstate(divide="ignore"):
        log1mexp = np.where(d > -math.log(2), np.log(-np.expm1(d)), np.log1p(-np.exp(d)))
    return la + log1mexp


class LineTarget(CurveTarget):
    """Uniform on the diagonal segment of arc length 2*radius centred at 0, plus isotropic noise. Exact.

    With u along the segment and v across it: p = (Phi((u+r)/s) - Phi((u-r)/s)) / (2r) * N(v; 0, s^2).
    """

    def __init__(self, name: str, radius: float, std: float):
        self.radius = float(radius)
        d = 1 / math.sqrt(2)

        def seg(t, xp):
            u = (2 * t - 1) * radius
            return u * d, u * d

        super().__init__(name, [seg], std)

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        d = 1 / math.sqrt(2)
        u = (x[:, 0] + x[:, 1]) * d
        v = (x[:, 1] - x[:, 0]) * d
        s, r = self.std, self.radius
        along = _log_diff_ndtr((u + r) / s, (u - r) / s) - math.log(2 * r)
        across = -0.5 * (v / s) ** 2 - math.log(s) - 0.5 * _LOG_2PI
        return along + across


class CircleTarget(CurveTarget):
    """Uniform angle on the circle of `radius`, plus isotropic noise. Exact density:
    log p = -(|x| - r)^2 / (2 s^2) + log i0e(r |x| / s^2) - log(2 pi s^2)."""

    def __init__(self, name: str, radius: float, std: float):
        self.radius = float(radius)

        def ring(t, xp):
            a = 2 * math.pi * t
            return radius * xp.cos(a), radius * xp.sin(a)

        super().__init__(name, [ring], std)

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        s, r = self.std, self.radius
        rho = np.hypot(x[:, 0], x[:, 1])
        log_i0 = np.log(i0e(r * rho / (s * s)))             # log I0(z) - z, no overflow
        return -((rho - r) ** 2) / (2 * s * s) + log_i0 - math.log(2 * math.pi * s * s)


class CustomTarget(Target):
    """The user's points, resampled with replacement. No density."""

    def __init__(self, name: str, points: np.ndarray):
        pts = np.asarray(points, dtype=np.float64)
        if pts.ndim == 1:
            pts = pts[:, None]
        if pts.ndim != 2 or pts.shape[1] not in (1, 2):
            raise PlaygroundError(f"custom points must have 1 or 2 columns, got shape {pts.shape}")
        if len(pts) == 0:
            raise PlaygroundError("no custom points: upload a CSV of x,y rows first")
        if not np.all(np.isfinite(pts)):
            raise PlaygroundError("custom points contain NaN or infinite values: fix the CSV")
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        span = np.where(hi - lo > 0, hi - lo, 1.0)
        lo, hi = lo - 0.1 * span, hi + 0.1 * span
        bounds = (lo[0], hi[0]) if pts.shape[1] == 1 else (lo[0], hi[0], lo[1], hi[1])
        super().__init__(name, pts.shape[1], bounds, has_density=False)
        self.points = pts
        self._points_t = torch.as_tensor(pts, dtype=torch.float32)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        idx = torch.randint(len(self._points_t), (n,), generator=generator)
        return self._points_t[idx]

    def cell_masses(self, edges: list[np.ndarray]) -> tuple[np.ndarray, float]:
        raise PlaygroundError(_NO_DENSITY.format(self.name))


# ---------------------------------------------------------------------------------------------------------
def _two_moons(radius: float) -> list[Curve]:
    """Two interleaving half circles of radius `radius`, centred on the origin."""
    def upper(t, xp):
        a = math.pi * t
        return radius * (xp.cos(a) - 0.5), radius * (xp.sin(a) - 0.25)

    def lower(t, xp):
        a = math.pi * t
        return radius * (0.5 - xp.cos(a)), radius * (0.25 - xp.sin(a))

    return [upper, lower]


def _spiral(radius: float) -> list[Curve]:
    """Archimedean spiral r = radius * theta / (3 pi) out to 1.5 turns; theta = 3 pi sqrt(0.02 + 0.98 t)
    spreads the points roughly evenly along the arc (the offset keeps the speed |c'(t)| finite at the
    start)."""
    def spiral(t, xp):
        theta = 3 * math.pi * xp.sqrt(0.02 + 0.98 * t)
        r = radius * theta / (3 * math.pi)
        return r * xp.cos(theta), r * xp.sin(theta)

    return [spiral]


def _swiss_roll(radius: float) -> list[Curve]:
    """The 2D swiss roll theta * (cos theta, sin theta), theta uniform in [1.5 pi, 4.5 pi], scaled to reach
    `radius`."""
    scale = radius / (4.5 * math.pi)

    def roll(t, xp):
        theta = 1.5 * math.pi * (1 + 2 * t)
        return scale * theta * xp.cos(theta), scale * theta * xp.sin(theta)

    return [roll]


def make_target(cfg: ToyConfig, points: np.ndarray | None = None) -> Target:
    """The target named by `cfg.dist` (any config with the target fields: ToyConfig, FamilyConfig).

    ring8: n_modes Gaussians evenly on a circle of `radius`. grid25: n_modes x n_modes Gaussians with spacing
    `radius`, centred at 0. two_gaussians: at (+-radius, 0). three_blobs: always three Gaussians on the circle
    of `radius` at 90, 210 and 330 degrees (n_modes is ignored). bimodal1d: 0.75 N(-radius, std^2) +
    0.25 N(radius, std^2). mixture1d: `cfg.formula`. uniform1d: U(-radius, radius). custom: `points`.
    All mixtures have uniform weights unless stated.
    """
    r = cfg
    dist, k, radius, std = r.dist, int(r.n_modes), float(r.radius), float(r.std)
    if dist not in ("uniform1d", "custom", "mixture1d") and std <= 0:
        raise PlaygroundError(f"std must be positive for {dist}, got {std}")
    if dist == "ring8":
        a = 2 * np.pi * np.arange(k) / k
        return GaussianMixtureTarget(dist, radius * np.stack([np.cos(a), np.sin(a)], axis=1), std)
    if dist == "grid25":
        c = (np.arange(k) - (k - 1) / 2) * radius
        gx, gy = np.meshgrid(c, c, indexing="ij")
        return GaussianMixtureTarget(dist, np.stack([gx.ravel(), gy.ravel()], axis=1), std)
    if dist == "two_gaussians":
        return GaussianMixtureTarget(dist, np.array([[-radius, 0.0], [radius, 0.0]]), std)
    if dist == "three_blobs":
        a = np.deg2rad([90.0, 210.0, 330.0])
        return GaussianMixtureTarget(dist, radius * np.stack([np.cos(a), np.sin(a)], axis=1), std)
    if dist == "line":
        return LineTarget(dist, radius, std)
    if dist == "circle":
        return CircleTarget(dist, radius, std)
    if dist == "two_moons":
        return CurveTarget(dist, _two_moons(radius), std)
    if dist == "spiral":
        return CurveTarget(dist, _spiral(radius), std)
    if dist == "swiss_roll":
        return CurveTarget(dist, _swiss_roll(radius), std)
    if dist == "bimodal1d":
        return GaussianMixtureTarget(dist, np.array([[-radius], [radius]]), std, np.array([0.75, 0.25]))
    if dist == "mixture1d":
        from playground.formula import parse_mixture

        m = parse_mixture(cfg.formula)
        return GaussianMixtureTarget(dist, m.means[:, None], m.stds[:, None], m.weights)
    if dist == "uniform1d":
        if radius <= 0:
            raise PlaygroundError(f"radius must be positive for uniform1d, got {radius}")
        return Uniform1DTarget(dist, radius)
    if dist == "custom":
        if points is None:
            raise PlaygroundError("dist=custom needs your points: upload a CSV of x,y rows")
        return CustomTarget(dist, points)
    raise PlaygroundError(f"unknown target {dist!r}")
