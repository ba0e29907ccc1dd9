"""What the flow page draws, as plain numpy arrays: the exact density on a grid, the noise grid warped layer
by layer, and samples (pure functions of a trained Flow; no plotting here)."""

from __future__ import annotations

import numpy as np
import torch

from playground.families.flows import Flow


def grid_axes(bounds: tuple, n: int) -> list[np.ndarray]:
    """n cell centres per axis over a view box ((xmin, xmax) or (xmin, xmax, ymin, ymax))."""
    out = []
    for i in range(len(bounds) // 2):
        lo, hi = bounds[2 * i], bounds[2 * i + 1]
        out.append(lo + (np.arange(n) + 0.5) * (hi - lo) / n)
    return out


def density_grid(model, bounds: tuple, n: int = 120) -> dict:
    """The exact log density of any model with one (flow, autoregressive) at grid cell centres:
    1D {"x", "log_q" (n,)}; 2D {"x", "y", "log_q" (n_y, n_x)} (rows along y, as a heatmap wants them)."""
    axes = grid_axes(bounds, n)
    if len(axes) == 1:
        pts = axes[0][:, None]
    else:
        gx, gy = np.meshgrid(axes[0], axes[1])            # (n_y, n_x)
        pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
    with torch.no_grad():
        log_q = model.log_prob(torch.as_tensor(pts, dtype=torch.float32)).double().numpy()
    if len(axes) == 1:
        return {"x": axes[0], "log_q": log_q}
    return {"x": axes[0], "y": axes[1], "log_q": log_q.reshape(n, n)}


def noise_grid(dim: int, lines: int = 11, points: int = 101, extent: float = 3.0) -> np.ndarray:
    """Lines of a square grid in noise space: 2D (2 * lines, points, 2) (vertical lines, then horizontal);
    1D (points, 1) evenly spaced noise values (the 1D "grid")."""
    t = np.linspace(-extent, extent, points)
    if dim == 1:
        return t[:, None]
    c = np.linspace(-extent, extent, lines)
    vertical = np.stack([np.broadcast_to(c[:, None], (lines, points)), np.broadcast_to(t, (lines, points))], -1)
    return np.concatenate([vertical, vertical[..., ::-1]], axis=0)


def warp_stages(model: Flow, z: np.ndarray) -> list[np.ndarray]:
    """The noise points `z` (any shape (..., dim)) pushed through the flow's layers one at a time, in data
    units: stage 0 is the noise itself (placed as center + scale * z), stage k after k inverse layers, the last
    stage the model's samples. A list of len(layers) + 1 arrays shaped like z."""
    z = np.asarray(z, dtype=np.float32)
    flat = torch.from_numpy(z.reshape(-1, model.dim))
    stages: list = []
    with torch.no_grad():
        model.to_data(flat, stages=stages)
    return [s.double().numpy().reshape(z.shape) for s in stages]


def samples(model: Flow, n: int, seed: int = 0) -> np.ndarray:
    """n model samples (n, dim) from a generator of their own."""
    return model.sample(n, torch.Generator().manual_seed(seed)).double().numpy()
