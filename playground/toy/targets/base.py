"""The Target interface and the shared pieces of exact evaluation: midpoint and Gaussian cell masses, view boxes."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy.special import log_ndtr, ndtr

from playground.errors import PlaygroundError

_LOG_2PI = math.log(2.0 * math.pi)
_CHUNK_ELEMENTS = 1_000_000          # points x nodes per chunk of the quadrature (about 8 MB per temporary)
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

    # A target whose class sets this implements `_log_prob_torch`: log p as a differentiable torch function,
    # which training by reverse KL needs (it moves model samples along grad log p).
    differentiable = False

    def log_prob_torch(self, x: torch.Tensor) -> torch.Tensor:
        """log p at the rows of `x` ((n, dim) tensor -> (n,)), differentiable in x; computed in float64 and
        returned in x's dtype. Raises PlaygroundError for a target without a smooth exact density."""
        if not (self.has_density and self.differentiable):
            raise PlaygroundError(f"target {self.name!r} has no smooth exact density to train against by "
                                  "reverse KL: use forward KL (maximum likelihood) or another target")
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"log_prob_torch expects an (n, {self.dim}) tensor, got shape {tuple(x.shape)}")
        return self._log_prob_torch(x.double()).to(x.dtype)

    def _log_prob_torch(self, x: torch.Tensor) -> torch.Tensor:
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



def log_diff_ndtr_torch(hi: torch.Tensor, lo: torch.Tensor) -> torch.Tensor:
    """log(Phi(hi) - Phi(lo)) for hi > lo in torch (differentiable), accurate in both tails (as above)."""
    flip = lo > 0
    a = torch.where(flip, -lo, hi)
    b = torch.where(flip, -hi, lo)
    la, lb = torch.special.log_ndtr(a), torch.special.log_ndtr(b)
    d = (lb - la).clamp(max=-1e-300)                # < 0; the clamp keeps log(-expm1(0)) away from -inf * 0
    log1mexp = torch.where(d > -math.log(2), torch.log(-torch.expm1(d)), torch.log1p(-torch.exp(d)))
    return la + log1mexp


def chunked_numpy(fn: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray, per_point: int) -> np.ndarray:
    """Run a float64 torch density `fn` on the rows of numpy `x` without gradients, in chunks of about
    _CHUNK_ELEMENTS / per_point rows (per_point = the temporaries' size per row)."""
    out = np.empty(len(x))
    step = max(1, _CHUNK_ELEMENTS // max(1, per_point))
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
    with torch.no_grad():
        for s in range(0, len(x), step):
            out[s:s + step] = fn(xt[s:s + step]).numpy()
    return out


def richardson_cell_masses(log_prob: Callable[[np.ndarray], np.ndarray], edges: list[np.ndarray],
                           spacing: float) -> tuple[np.ndarray, float]:
    """Cell masses by the midpoint rule with sub-points at most `spacing` apart and at half that spacing,
    Richardson-extrapolated (the h^2 error terms cancel); for smooth densities without a closed form."""
    sub = max(1, math.ceil(max(float(np.diff(e).max()) for e in edges) / spacing))
    coarse, _ = midpoint_cell_masses(log_prob, edges, sub=sub)
    fine, _ = midpoint_cell_masses(log_prob, edges, sub=2 * sub)
    masses = np.clip((4 * fine - coarse) / 3, 0.0, None)
    return masses, max(0.0, 1.0 - float(masses.sum()))


def scatter_logsumexp(terms: torch.Tensor, owner: torch.Tensor, n: int) -> torch.Tensor:
    """log sum exp(terms[i]) over the i with owner[i] == j, for j < n (differentiable; -inf for no term)."""
    peak = torch.full((n,), -math.inf, dtype=terms.dtype).scatter_reduce(0, owner, terms.detach(), reduce="amax")
    peak = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))
    total = torch.zeros(n, dtype=terms.dtype).index_add(0, owner, torch.exp(terms - peak[owner]))
    return torch.log(total) + peak
