"""Honest metrics of a toy generator against its target: mode coverage and grid-based divergences.

`mode_metrics` follows the VEEGAN / PacGAN protocol for Gaussian-mixture targets. `grid_divergences` estimates
KL(p||q), KL(q||p) and JS between the target p and the generator q from samples, on a grid plus one cell for
everything outside it. `evaluate` runs whichever apply and returns plain Python numbers (JSON-serialisable).
"""

from __future__ import annotations

import math
import weakref

import numpy as np

from playground.errors import PlaygroundError

HQ_THRESHOLD = 3.0          # a sample is high quality if its Mahalanobis distance to its nearest mode is < 3
DEFAULT_BINS_2D = 40        # 40 x 40 cells (+1 outside) over target.bounds
DEFAULT_BINS_1D = 200
PRIOR_COUNT = 1.0           # pseudo-samples (shaped like the target) that smooth q for KL(p||q)
P_FLOOR = 1e-300            # target cell masses are floored here so that KL(q||p) stays finite


def _as_numpy(samples) -> np.ndarray:
    if hasattr(samples, "detach"):
        samples = samples.detach().cpu().numpy()
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    return x


def mode_metrics(samples, means: np.ndarray, covs: np.ndarray, weights: np.ndarray | None = None) -> dict:
    """Mode coverage of `samples` ((n, d)) for a Gaussian mixture with `means` (k, d) and `covs` (k, d, d).

    Each sample goes to its nearest mode by Mahalanobis distance under that mode's covariance; it is high
    quality (HQ) if that distance is below 3 (for exact 2D samples a fraction 1 - exp(-4.5) = 0.989 is HQ,
    for 1D 0.997). A mode is covered if at least one HQ sample is assigned to it. `mode_kl` is
    KL(histogram of the HQ samples' modes || target mode weights) in nats with 0 log 0 = 0; the target weights
    are `weights`, uniform when None (as for ring8 and grid25). It is None when no sample is HQ.
    Returns {"modes_covered", "n_modes", "high_quality_frac", "mode_kl"}.
    """
    x = _as_numpy(samples)
    means = np.asarray(means, dtype=np.float64)
    covs = np.asarray(covs, dtype=np.float64)
    k, d = means.shape
    if x.shape[1] != d:
        raise ValueError(f"samples have {x.shape[1]} columns, the modes {d}")
    w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=np.float64) / np.sum(weights)
    n = len(x)
    if n == 0:
        return {"modes_covered": 0, "n_modes": int(k), "high_quality_frac": 0.0, "mode_kl": None}
    # Whitening W_k = L_k^{-1} with L_k L_k^T = cov_k: Mahalanobis^2 = |W_k (x - mu_k)|^2.
    whiten = np.linalg.inv(np.linalg.cholesky(covs))                                  # (k, d, d)
    mw = np.einsum("kij,kj->ki", whiten, means)                                        # (k, d)
    # xw[n, i * k + m] = sum_j whiten[m, i, j] x[n, j] as one matrix product; then sum over i in place.
    finite = np.isfinite(x).all(axis=1)
    all_finite = bool(finite.all())
    x_ok = x if all_finite else np.where(finite[:, None], x, 0.0)
    xw = x_ok @ whiten.transpose(2, 1, 0).reshape(d, d * k)
    d2 = None
    for i in range(d):
        diff = xw[:, i * k:(i + 1) * k] - mw[:, i]
        diff *= diff
        d2 = diff if d2 is None else np.add(d2, diff, out=d2)                           # (n, k)
    if not all_finite:
        d2[~finite] = np.inf                                                           # never high quality
    nearest = d2.argmin(axis=1)
    hq = d2[np.arange(n), nearest] < HQ_THRESHOLD**2
    counts = np.bincount(nearest[hq], minlength=k)
    n_hq = int(counts.sum())
    mode_kl = None
    if n_hq > 0:
        h = counts / n_hq
        nz = h > 0
        mode_kl = float(np.sum(h[nz] * np.log(h[nz] / w[nz])))
    return {"modes_covered": int(np.count_nonzero(counts)), "n_modes": int(k),
            "high_quality_frac": float(n_hq / n), "mode_kl": mode_kl}


# Target cell masses (grid plus outside cell), computed once per (target, bins).
_MASS_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def grid_edges(target, bins: int | tuple | None = None) -> list[np.ndarray]:
    """The grid over `target.bounds` used by `grid_divergences` (one edge array per dimension)."""
    b = target.bounds
    if bins is None:
        bins = DEFAULT_BINS_1D if target.dim == 1 else DEFAULT_BINS_2D
    nb = (bins,) * target.dim if isinstance(bins, int) else tuple(bins)
    if len(nb) != target.dim or any(int(v) < 1 for v in nb):
        raise PlaygroundError(f"bins must be a positive integer or {target.dim} of them, got {bins!r}")
    return [np.linspace(b[2 * i], b[2 * i + 1], int(nb[i]) + 1) for i in range(target.dim)]


def target_grid_masses(target, bins: int | tuple | None = None) -> tuple[list[np.ndarray], np.ndarray]:
    """(edges, p) with p the flattened target cell masses followed by the outside mass, summing to 1."""
    edges = grid_edges(target, bins)
    key = tuple(len(e) - 1 for e in edges)
    per_target = _MASS_CACHE.setdefault(target, {})
    if key not in per_target:
        masses, outside = target.cell_masses(edges)
        p = np.append(np.clip(np.asarray(masses, dtype=np.float64).ravel(), 0.0, None), max(outside, 0.0))
        per_target[key] = p / p.sum()
    return edges, per_target[key]


def grid_histogram(samples, edges: list[np.ndarray]) -> np.ndarray:
    """Counts per cell (flattened, x-major) plus a last entry counting samples outside the grid.

    Samples outside the grid, or not finite, go to the outside cell: none is dropped or clipped into an edge
    cell.
    Cells are half-open [e_j, e_{j+1}).
    """
    x = _as_numpy(samples)
    n_cells = [len(e) - 1 for e in edges]
    inside = np.all(np.isfinite(x), axis=1)
    flat = np.zeros(len(x), dtype=np.int64)
    for i, e in enumerate(edges):
        xi = np.where(inside, x[:, i], e[0])
        inside &= (xi >= e[0]) & (xi < e[-1])
        j = np.searchsorted(e, xi, side="right") - 1
        flat = flat * n_cells[i] + np.clip(j, 0, n_cells[i] - 1)
    total = int(np.prod(n_cells))
    flat = np.where(inside, flat, total)
    return np.bincount(flat, minlength=total + 1).astype(np.float64)


def grid_divergences(target, samples, bins: int | tuple | None = None,
                     prior_count: float = PRIOR_COUNT) -> dict:
    """Estimates, in nats, of KL(p||q), KL(q||p) and JS(p, q) between the target p and the generator q.

    Both are discretised on a grid over `target.bounds` (default 40 x 40 in 2D, 200 bins in 1D) plus one
    "outside" cell: p's masses are the target's exact cell masses, q's are the sample histogram with samples
    outside the grid counted in the outside cell. What is estimated is the divergence between these
    discretised distributions (a lower bound on the continuous one), and with few samples the plug-in
    estimate is biased upward: 2,500 exact samples score about kl 0.006 / rkl 0.006 / js 0.001 on ring8,
    0.02 / 0.02 / 0.005 on grid25, 0.1-0.2 / 0.05-0.07 / 0.015-0.02 on two_gaussians and the curves; the
    bias shrinks like 1/n. Compare generators at the same n.

    - kl = KL(p||q) needs q > 0 wherever p > 0, so q is smoothed with `prior_count` pseudo-samples distributed
      like p: q_s = (counts + a p) / (n + a). By convexity this never raises the estimate
      (KL(p||q_s) <= n / (n + a) KL(p||raw q)), it changes finite values little for n >> a, and it caps the
      estimate at log(1 + n / a) (7.8 nats for n = 2,500, a = 1) when q misses mass of p.
    - rkl = KL(q||p) uses the raw histogram (empty cells contribute 0); p is floored at 1e-300 so a sample
      where the target has no mass adds about (690 + log q_j) / n instead of infinity.
    - js = JS(p, q) uses the raw histogram; it needs no smoothing and is at most log 2.
    """
    x = _as_numpy(samples)
    if x.shape[1] != target.dim:
        raise PlaygroundError(
            f"samples have {x.shape[1]} columns but target {target.name!r} is {target.dim}D")
    if len(x) == 0:
        raise PlaygroundError("no samples to evaluate")
    edges, p = target_grid_masses(target, bins)
    counts = grid_histogram(x, edges)
    n = counts.sum()
    q = counts / n
    nz = p > 0
    # log(p / q_s) = log(n + a) - log(counts / p + a), in logs so that a tiny p cannot underflow q_s to 0.
    with np.errstate(divide="ignore"):
        log_ratio = math.log(n + prior_count) - np.logaddexp(np.log(counts[nz]) - np.log(p[nz]),
                                                               math.log(prior_count))
    kl = float(np.sum(p[nz] * log_ratio))
    occ = q > 0
    p_floor = np.maximum(p, P_FLOOR)
    rkl = float(np.sum(q[occ] * np.log(q[occ] / p_floor[occ])))
    m = 0.5 * (p + q)
    js = 0.5 * float(np.sum(p[nz] * np.log(p[nz] / m[nz])))
    js += 0.5 * float(np.sum(q[occ] * np.log(q[occ] / m[occ])))
    return {"kl": max(kl, 0.0), "rkl": max(rkl, 0.0), "js": min(max(js, 0.0), math.log(2))}


def evaluate(target, samples) -> dict:
    """Mode metrics (Gaussian-mixture targets) and grid divergences (targets with a density) as plain
    Python numbers; {} for a custom target."""
    x = _as_numpy(samples)
    out: dict = {}
    if target.means is not None:
        out.update(mode_metrics(x, target.means, target.covs, target.weights))
    if target.has_density:
        out.update(grid_divergences(target, x))
    return {k: (None if v is None else int(v) if isinstance(v, (int, np.integer)) else float(v))
            for k, v in out.items()}
