"""The standard toy sets of the flow and diffusion literature (FFJORD's definitions), each with an exact density.

- gaussians8_ffjord: FFJORD's "8gaussians": 8 centres at 4 * (cos, sin) of multiples of 45 degrees, each point
  centre + N(0, 0.5^2 I), and everything divided by 1.414; so centres on the circle of radius 4 / 1.414 = 2.8289
  with std 0.5 / 1.414 = 0.3536. Much wider modes than ring8 (std 0.02 on radius 2). A GaussianMixtureTarget.
- rings: FFJORD's "rings": n concentric circles of radii radius * k / n (k = 1..n; 3, 2.25, 1.5, 0.75), equally
  likely, uniform angle, plus N(0, 0.08^2 I). Exact: a mixture of circle densities.
- two_spirals: FFJORD's "2spirals": angle n = 3 pi sqrt(u), u ~ U(0, 1), point (-n cos n, n sin n) plus a jitter
  U(0, 0.5)^2, mirrored (x -> -x) for the second spiral, all divided by 3, plus N(0, 0.1^2 I). `radius` scales the
  noise-free shape (pi, the default, is FFJORD's). The density is a curve quadrature (`spiral_arm_nodes`, as
  `curves.curve_nodes` but with the arm's exact parameter density) with a kernel per node that is the jitter box
  blurred by the Gaussian (a product of two 1D box-blurred
  Gaussians): exact up to quadrature, as the other curves. Cell masses: the same nodes with exact CDFs.
- checkerboard (pixels.py), pinwheel (pinwheel.py) and an image (picture.py) live in their own modules.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from playground.errors import PlaygroundError
from playground.numerics import logsumexp
from playground.toy.targets.base import (
    Target,
    _square_bounds,
    chunked_numpy,
    log_diff_ndtr_torch,
    scatter_logsumexp,
)
from playground.toy.targets.curves import CurveTarget, circle_log_prob, curve_table
from playground.toy.targets.mixtures import GaussianMixtureTarget
from playground.toy.targets.pixels import box_blur_cdf

FFJORD_8GAUSSIANS_RADIUS = 4 / 1.414      # FFJORD divides by 1.414, not by sqrt(2)
FFJORD_8GAUSSIANS_STD = 0.5 / 1.414


def gaussians8_ffjord(name: str, k: int, radius: float, std: float) -> GaussianMixtureTarget:
    """k Gaussians evenly on the circle of `radius` starting at angle 0 (FFJORD: k=8, radius 2.8289, std 0.3536)."""
    a = 2 * np.pi * np.arange(k) / k
    return GaussianMixtureTarget(name, radius * np.stack([np.cos(a), np.sin(a)], axis=1), std)


class RingsTarget(CurveTarget):
    """n concentric circles (radii radius * k / n), equally likely, uniform angle, plus N(0, std^2 I). Exact:
    the mean of n circle densities (the quadrature nodes of CurveTarget serve the cell masses)."""

    def __init__(self, name: str, n: int, radius: float, std: float):
        self.radii = [radius * (k + 1) / n for k in range(n)]

        def circle(r):
            return lambda t, xp: (r * xp.cos(2 * math.pi * t), r * xp.sin(2 * math.pi * t))

        super().__init__(name, [circle(r) for r in self.radii], std)

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        rho = np.hypot(x[:, 0], x[:, 1])
        each = np.stack([circle_log_prob(rho, r, self.std, np) for r in self.radii], axis=1)
        return logsumexp(each, axis=1) - math.log(len(self.radii))

    def _log_prob_torch(self, x: torch.Tensor) -> torch.Tensor:
        rho = torch.sqrt((x * x).sum(dim=1) + 1e-300)
        each = torch.stack([circle_log_prob(rho, r, self.std, torch) for r in self.radii], dim=1)
        return torch.logsumexp(each, dim=1) - math.log(len(self.radii))


def spiral_arm_nodes(k: float, std: float, spacing: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes (N, 2) and weights (sum 1) of one FFJORD spiral arm (scale k), at most spacing * std
    apart along it.

    The arm's angle n = 3 pi sqrt(u) has density 2n / (3 pi)^2 on [0, 3 pi], singular as a function of u at the
    start, so the nodes are placed in arc length s(n) = (k / 6) (n sqrt(1 + n^2) + asinh n) (closed form) with
    the end-point substitution of `curves.curve_nodes`, weighted by the exact density in s,
    p(s) = (2n / (3 pi)^2) / ((k / 3) sqrt(1 + n^2)), which is smooth (about linear in s at the start)."""
    n_fine = np.linspace(0.0, 3 * math.pi, 200_001)
    s_fine = k / 6 * (n_fine * np.sqrt(1 + n_fine**2) + np.arcsinh(n_fine))
    length = float(s_fine[-1])
    m = int(min(20_000, max(64, math.ceil(length / (spacing * std)))))
    u = (np.arange(m) + 0.5) / m
    s_nodes = length * (u - np.sin(2 * np.pi * u) / (2 * np.pi))
    n = np.interp(s_nodes, s_fine, n_fine)
    p_s = (2 * n / (3 * math.pi) ** 2) / (k / 3 * np.sqrt(1 + n * n))
    w = length * (1 - np.cos(2 * np.pi * u)) / m * p_s
    return np.stack([-n * np.cos(n), n * np.sin(n)], axis=1) * (k / 3), w / w.sum()


class TwoSpiralsTarget(Target):
    """FFJORD's two spirals (see the module docstring); `radius` is the length scale (pi for FFJORD's)."""

    def __init__(self, name: str, radius: float, std: float):
        if std <= 0:
            raise PlaygroundError(f"std must be positive for {name}")
        k = radius / math.pi

        def arm(t, xp):
            n = 3 * math.pi * xp.sqrt(t)
            return k * (-n * xp.cos(n)) / 3, k * (n * xp.sin(n)) / 3

        self.std, self.jitter = float(std), k * 0.5 / 3
        nodes, w = spiral_arm_nodes(k, std)
        # Lower-left corner of each node's jitter box: [c, c + j]^2 on the first spiral, [-c - j, -c]^2 mirrored.
        self.box_lo = np.concatenate([nodes, -nodes - self.jitter])
        self.node_weights = np.concatenate([w, w]) / 2
        lo = self.box_lo.min(axis=0) - 4 * std
        hi = self.box_lo.max(axis=0) + self.jitter + 4 * std
        super().__init__(name, 2, _square_bounds(lo, hi))
        self._table_t = torch.as_tensor(curve_table([arm], std), dtype=torch.float32)
        self._box_t = torch.from_numpy(self.box_lo)
        self._w_t = torch.from_numpy(self.node_weights)
        self._log_w_t = torch.log(self._w_t)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        idx = torch.randint(len(self._table_t), (n,), generator=generator)
        sign = torch.randint(0, 2, (n, 1), generator=generator).float().mul_(2).sub_(1)
        jit = torch.rand(n, 2, generator=generator) * self.jitter
        return ((self._table_t[idx] + jit) * sign).add_(torch.randn(n, 2, generator=generator), alpha=self.std)

    differentiable = True

    def _log_prob_torch(self, x: torch.Tensor) -> torch.Tensor:
        s, c = self.std, self.jitter / self.std
        # Only nodes within (nearest + 9 std + 2 j) of a point can matter: every other term is below e^-40
        # times the nearest one's (times 1,200 nodes: 1e-15 relative), so dropping them changes nothing.
        with torch.no_grad():
            d = torch.cdist(x, self._box_t + self.jitter / 2)
            p, q = torch.nonzero(d <= d.min(dim=1, keepdim=True).values + 9 * s + 2 * self.jitter, as_tuple=True)
        z = (x[p] - self._box_t[q]) / s                                      # box [0, c] in std units
        # Linear domain (ndtr is cheap): Phi(z) - Phi(z - c) per axis, from the tail nearer to z.
        right = z > c
        u = torch.special.ndtr(torch.where(right, c - z, z)) - torch.special.ndtr(torch.where(right, -z, z - c))
        total = torch.zeros(len(x), dtype=x.dtype).index_add(0, p, self._w_t[q] * u.prod(dim=1))
        out = torch.log(total.clamp(min=1e-290)) - 2 * math.log(self.jitter)
        bad = total < 1e-290           # far from the spirals every term underflowed: redo those rows in logs
        if bool(bad.any()):
            keep = bad[p]
            zb = z[keep]
            terms = self._log_w_t[q[keep]] + (log_diff_ndtr_torch(zb, zb - c) - math.log(self.jitter)).sum(dim=1)
            out = torch.where(bad, scatter_logsumexp(terms, p[keep], len(x)), out)
        return out

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        return chunked_numpy(self._log_prob_torch, x, per_point=len(self.box_lo))

    def cell_masses(self, edges: list[np.ndarray]) -> tuple[np.ndarray, float]:
        ex, ey = self._check_edges(edges)
        cx = np.diff(box_blur_cdf(ex, self.box_lo[:, 0], self.jitter, self.std), axis=1)
        cy = np.diff(box_blur_cdf(ey, self.box_lo[:, 1], self.jitter, self.std), axis=1)
        masses = np.clip((cx * self.node_weights[:, None]).T @ cy, 0.0, None)
        return masses, max(0.0, 1.0 - float(masses.sum()))
