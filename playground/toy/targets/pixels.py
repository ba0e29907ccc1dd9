"""Piecewise-constant densities on a grid of equal cells, blurred by a Gaussian: the checkerboard and pictures.

With cell weights w_ij (sum 1) over the cells [a_i, a_i + h) x [b_j, b_j + h) and blur N(0, s^2 I), the density
is p(x, y) = sum_ij w_ij u_i(x) v_j(y), where u_i(x) = (Phi((x - a_i)/s) - Phi((x - a_i - h)/s)) / h is the
uniform on the i-th column convolved with N(0, s^2): exact, and separable, so a point costs one small matrix
product. Cell masses are exact too: the CDF of a uniform on [a, b] blurred by N(0, s^2) is
(s / (b - a)) (G((x - a)/s) - G((x - b)/s)) with G(z) = z Phi(z) + phi(z).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.special import ndtr

from playground.errors import PlaygroundError
from playground.toy.targets.base import Target, _square_bounds, chunked_numpy, log_diff_ndtr_torch

_UNDERFLOW = 1e-280        # below this the linear-domain sum may have lost every term: redo those rows in logs


class PixelTarget(Target):
    """Cell weights `weights[ix, iy]` (x to the right, y upwards) on the square box [-radius, radius]^2,
    blurred by N(0, std^2 I). Sampling: a cell by its weight, a uniform point in it, then the blur."""

    def __init__(self, name: str, weights: np.ndarray, radius: float, std: float):
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 2 or w.shape[0] != w.shape[1] or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("weights must be a square array of finite non-negative numbers")
        if w.sum() <= 0:
            raise PlaygroundError(f"{name}: the picture has no dark pixels, so it has no mass to sample")
        if std <= 0:
            raise PlaygroundError(f"std must be positive for {name}")
        n = w.shape[0]
        self.radius, self.std, self.cell = float(radius), float(std), 2 * float(radius) / n
        self.pixel_weights = w / w.sum()
        self.lower = -self.radius + self.cell * np.arange(n)               # a_i (= b_j: the box is square)
        lim = np.array([self.radius + 4 * std] * 2)
        super().__init__(name, 2, _square_bounds(-lim, lim))
        flat = self.pixel_weights.ravel()
        self._cum_t = torch.from_numpy(np.cumsum(flat) / flat.sum())
        self._lower_t = torch.from_numpy(self.lower)
        self._w_t = torch.from_numpy(self.pixel_weights)
        self._pos = np.flatnonzero(flat > 0)                                # cells with mass, for the exact path
        self._log_w_pos_t = torch.from_numpy(np.log(flat[self._pos]))

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        u = torch.rand(n, dtype=torch.float64, generator=generator)
        k = torch.searchsorted(self._cum_t, u, right=True).clamp_(max=len(self._cum_t) - 1)
        size = self.pixel_weights.shape[1]
        corner = torch.stack([self._lower_t[k // size], self._lower_t[k % size]], dim=1).float()
        inside = torch.rand(n, 2, generator=generator) * self.cell
        return (corner + inside).add_(torch.randn(n, 2, generator=generator), alpha=self.std)

    def _axis(self, v: torch.Tensor, log: bool) -> torch.Tensor:
        """u_i(v) * h for every column i ((n,) -> (n, cells)), or its log (accurate where u underflows)."""
        z = (v[:, None] - self._lower_t) / self.std
        c = self.cell / self.std
        if log:
            return log_diff_ndtr_torch(z, z - c)
        right = z > c                  # Phi(z) - Phi(z - c) from the tail nearer to z: no cancellation
        return torch.special.ndtr(torch.where(right, c - z, z)) - torch.special.ndtr(torch.where(right, -z, z - c))

    differentiable = True

    def _log_prob_torch(self, x: torch.Tensor) -> torch.Tensor:
        u, v = self._axis(x[:, 0], log=False), self._axis(x[:, 1], log=False)
        total = ((u @ self._w_t) * v).sum(dim=1)                  # sum_ij w_ij u_i v_j: one matrix product
        out = torch.log(total.clamp(min=_UNDERFLOW)) - 2 * math.log(self.cell)
        bad = total < _UNDERFLOW          # far from every weighted cell: the exact sum over weighted cells, in logs
        if bool(bad.any()):
            size = self.pixel_weights.shape[1]
            pos = torch.from_numpy(self._pos)
            lu, lv = self._axis(x[bad, 0], log=True), self._axis(x[bad, 1], log=True)
            terms = lu[:, pos // size] + lv[:, pos % size] + self._log_w_pos_t
            out = out.masked_scatter(bad, torch.logsumexp(terms, dim=1) - 2 * math.log(self.cell))
        return out

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        return chunked_numpy(self._log_prob_torch, x, per_point=8 * self.pixel_weights.shape[0])

    def cell_masses(self, edges: list[np.ndarray]) -> tuple[np.ndarray, float]:
        ex, ey = self._check_edges(edges)
        cx = np.diff(box_blur_cdf(ex, self.lower, self.cell, self.std), axis=1)
        cy = np.diff(box_blur_cdf(ey, self.lower, self.cell, self.std), axis=1)
        masses = np.clip(cx.T @ self.pixel_weights @ cy, 0.0, None)
        return masses, max(0.0, 1.0 - float(masses.sum()))


def checkerboard(name: str, squares: int, radius: float, std: float) -> PixelTarget:
    """`squares` x `squares` squares on [-radius, radius]^2, every other one filled (the lower-left one filled,
    so with 4 squares of side 2 on [-4, 4]^2 this is the FFJORD checkerboard), blurred by N(0, std^2 I)."""
    i = np.arange(squares)
    return PixelTarget(name, ((i[:, None] + i[None, :]) % 2 == 0).astype(float), radius, std)


def box_blur_cdf(e: np.ndarray, lo: np.ndarray, width: float, s: float) -> np.ndarray:
    """CDF at the points `e` of U(lo_i, lo_i + width) + N(0, s^2), for every i: (len(lo), len(e)).

    (s / width) (G(z) - G(z - width / s)) with z = (e - lo_i) / s and G(z) = z Phi(z) + phi(z), the integral of
    Phi: the uniform's CDF averaged over the blur."""
    z = (np.asarray(e)[None, :] - np.asarray(lo)[:, None]) / s

    def g(v):
        return v * ndtr(v) + np.exp(-0.5 * v * v) / math.sqrt(2 * math.pi)

    return np.clip(s / width * (g(z) - g(z - width / s)), 0.0, 1.0)
