"""Noisy curves: c(t) + N(0, std^2 I) with t ~ U(0, 1); quadrature densities, closed forms for line and circle."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy.special import i0e

from playground.errors import PlaygroundError
from playground.numerics import logsumexp
from playground.toy.targets.base import (
    _CHUNK_ELEMENTS,
    _LOG_2PI,
    Target,
    _diag_gaussian_cell_masses,
    _log_diff_ndtr,
    _square_bounds,
    log_diff_ndtr_torch,
)

_NODE_SPACING = 0.5                  # largest quadrature node spacing along a curve, in units of std
_MAX_NODES = 20_000                  # cap on quadrature nodes (spacing grows beyond it for very small std)


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

    differentiable = True

    def _log_prob_torch(self, x: torch.Tensor) -> torch.Tensor:
        """The same node mixture as `_log_prob` (subclasses with closed forms override both)."""
        s = self.std
        log_w = torch.from_numpy(np.log(self.node_weights)) - _LOG_2PI - 2 * math.log(s)
        d2 = ((x[:, None, :] - torch.from_numpy(self.nodes)) ** 2).sum(dim=2)
        return torch.logsumexp(log_w - d2 / (2 * s * s), dim=1)

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

    def _log_prob_torch(self, x: torch.Tensor) -> torch.Tensor:
        d = 1 / math.sqrt(2)
        u = (x[:, 0] + x[:, 1]) * d
        v = (x[:, 1] - x[:, 0]) * d
        s, r = self.std, self.radius
        along = log_diff_ndtr_torch((u + r) / s, (u - r) / s) - math.log(2 * r)
        return along - 0.5 * (v / s) ** 2 - math.log(s) - 0.5 * _LOG_2PI


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
        return circle_log_prob(np.hypot(x[:, 0], x[:, 1]), self.radius, self.std, np)

    def _log_prob_torch(self, x: torch.Tensor) -> torch.Tensor:
        return circle_log_prob(torch.sqrt((x * x).sum(dim=1) + 1e-300), self.radius, self.std, torch)


def circle_log_prob(rho, r: float, s: float, xp):
    """log density at distance `rho` from 0 of a uniform angle on the circle of radius r plus N(0, s^2 I):
    -(rho - r)^2 / (2 s^2) + log i0e(r rho / s^2) - log(2 pi s^2)  (i0e(z) = I0(z) e^-z, no overflow).
    `xp` is numpy or torch (torch's i0e is differentiable)."""
    i0e_fn = i0e if xp is np else torch.special.i0e
    return -((rho - r) ** 2) / (2 * s * s) + xp.log(i0e_fn(r * rho / (s * s))) - math.log(2 * math.pi * s * s)



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
