"""FFJORD's pinwheel with its exact density, found by solving for the pre-image angle of each point.

Definition (FFJORD's "pinwheel", with scale 2, 5 arms, tangential std 0.1, radial std 0.3, rate 0.25): draw
f ~ N((1, 0), diag(s_r^2, s_t^2)) and an arm k uniformly, rotate f by -a with a = 2 pi k / K + rate * exp(f_1),
and scale by `radius`. Here `std` is the tangential std in the output's units (FFJORD: 0.1 * 2 = 0.2) and the
radial std is three times it.

Density: rotations keep |f| = rho, and in polar coordinates f = rho (cos phi, sin phi) lands at angle
theta = phi - a(rho cos phi). So p(x) = (1 / K r^2) sum_k sum_phi N(f(phi)) / |d theta / d phi|, over the
angles phi with g_k(phi) = phi - rate exp(rho cos phi) - 2 pi k / K - theta = 0 mod 2 pi, where
d theta / d phi = 1 + rate f_2 exp(f_1). g_k rises by 2 pi over a turn, so every point has at least one
pre-image per arm; the roots are bracketed on a grid of `GRID` angles (level crossings of g / 2 pi) and refined
by bisection. A fold where g turns back and forth inside one grid step would be missed, but folds need
|rate f_2 exp(f_1)| > 1, more than 4 std out in both coordinates (mass below 1e-8).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from playground.errors import PlaygroundError
from playground.toy.targets.base import (
    Target,
    _square_bounds,
    chunked_numpy,
    richardson_cell_masses,
    scatter_logsumexp,
)

RATE = 0.25
GRID = 64                  # bracketing grid over a turn: exact root counts out to |f| ~ 3.9 (10 radial stds)
BISECTIONS = 24            # brackets of 2 pi / GRID halved to ~6e-9; the final Newton step squares that


class PinwheelTarget(Target):
    """K arms; `radius` = the arms' mean distance from 0, `std` = tangential std (radial: 3 std)."""

    def __init__(self, name: str, arms: int, radius: float, std: float):
        if std <= 0:
            raise PlaygroundError(f"std must be positive for {name}")
        self.arms, self.scale, self.std = int(arms), float(radius), float(std)
        self.sig_t = self.std / self.scale                  # stds of f, in units of radius
        self.sig_r = 3 * self.sig_t
        lim = np.full(2, self.scale * (1 + 4.5 * self.sig_r))
        super().__init__(name, 2, _square_bounds(-lim, lim))
        self._rads = torch.arange(self.arms, dtype=torch.float64) * (2 * math.pi / self.arms)
        self._grid = torch.linspace(0.0, 2 * math.pi, GRID + 1, dtype=torch.float64)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        f = torch.randn(n, 2, generator=generator) * torch.tensor([self.sig_r, self.sig_t])
        f[:, 0] += 1.0
        k = torch.randint(self.arms, (n,), generator=generator)
        a = self._rads.float()[k] + RATE * torch.exp(f[:, 0])
        c, s = torch.cos(a), torch.sin(a)
        # rotation by -a, as FFJORD's einsum("ti,tij->tj", f, R(a))
        return torch.stack([c * f[:, 0] + s * f[:, 1], c * f[:, 1] - s * f[:, 0]], dim=1) * self.scale

    def _g(self, phi: torch.Tensor, rho: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return phi - RATE * torch.exp(rho * torch.cos(phi)) - c

    def _roots(self, rho: torch.Tensor, c: torch.Tensor):
        """Every bracketed root of g(phi) = 2 pi m: (point index, arm index, 2 pi m, phi), without gradients."""
        with torch.no_grad():
            g = self._g(self._grid, rho[:, None, None], c[..., None])                       # (n, K, G+1)
            lev = torch.floor(g / (2 * math.pi))
            p, k, j = torch.nonzero(lev[..., 1:] != lev[..., :-1], as_tuple=True)
            target = 2 * math.pi * torch.maximum(lev[p, k, j], lev[p, k, j + 1])
            lo, hi = self._grid[j], self._grid[j + 1]
            rho_p, c_p = rho[p], c[p, k]
            lo_neg = (g[p, k, j] - target) < 0
            for _ in range(BISECTIONS):
                mid = 0.5 * (lo + hi)
                below = (self._g(mid, rho_p, c_p) - target) < 0
                go_right = below == lo_neg
                lo, hi = torch.where(go_right, mid, lo), torch.where(go_right, hi, mid)
        return p, k, target, 0.5 * (lo + hi)

    differentiable = True

    def _log_prob_torch(self, x: torch.Tensor) -> torch.Tensor:
        y = x / self.scale
        rho = torch.sqrt((y * y).sum(dim=1) + 1e-300)
        theta = torch.atan2(y[:, 1], y[:, 0])
        c = theta[:, None] + self._rads                                                    # (n, K)
        p, k, target, phi0 = self._roots(rho.detach(), c.detach())
        rho_p, c_p = rho[p], c[p, k]
        # One Newton step from the (detached) root: the same value, and by the implicit function theorem the
        # right gradient with respect to x (the correction term vanishes at the root).
        e0 = torch.exp(rho_p * torch.cos(phi0))
        phi = phi0 - (phi0 - RATE * e0 - c_p - target) / (1 + RATE * rho_p * torch.sin(phi0) * e0)
        f1, f2 = rho_p * torch.cos(phi), rho_p * torch.sin(phi)
        log_n = (-0.5 * ((f1 - 1) / self.sig_r) ** 2 - 0.5 * (f2 / self.sig_t) ** 2
                 - math.log(2 * math.pi * self.sig_r * self.sig_t))
        term = log_n - torch.log(torch.abs(1 + RATE * f2 * torch.exp(f1)))
        return scatter_logsumexp(term, p, len(x)) - math.log(self.arms) - 2 * math.log(self.scale)

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        return chunked_numpy(self._log_prob_torch, x, per_point=self.arms * (GRID + 1) * 3)

    def cell_masses(self, edges: list[np.ndarray]) -> tuple[np.ndarray, float]:
        """Integrated density (no closed form): Richardson-extrapolated midpoint rule, spacing std / 2."""
        return richardson_cell_masses(self.log_prob, self._check_edges(edges), self.std / 2)
