"""Gaussian mixtures (diagonal covariance, 1D or 2D), the uniform on an interval, and the user's points."""

from __future__ import annotations

import math

import numpy as np
import torch

from playground.errors import PlaygroundError
from playground.numerics import logsumexp
from playground.toy.targets.base import (
    _CHUNK_ELEMENTS,
    _LOG_2PI,
    _NO_DENSITY,
    Target,
    _diag_gaussian_cell_masses,
    _square_bounds,
)


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

    differentiable = True

    def _log_prob_torch(self, x: torch.Tensor) -> torch.Tensor:
        means, stds = torch.from_numpy(self.means), torch.from_numpy(self.stds)
        z = (x[:, None, :] - means) / stds                                              # (n, k, dim)
        comp = torch.from_numpy(self._log_w + self._log_norm) - 0.5 * (z * z).sum(dim=2)
        return torch.logsumexp(comp, dim=1)

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

