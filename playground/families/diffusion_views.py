"""What the diffusion page draws, as numpy arrays: forward noising, reverse paths, the score field, quality
against sampling steps. Pure functions of a trained `Diffusion` model; each takes its own seed, so looking
never touches the training generator.

Times are fractions t in [0, 1] of the forward process (t = 0: data, t = 1: noise), mapped to the nearest
noise level round(t T). Noised points are shown in data coordinates: x_t = mean + spread * z_t.
"""

from __future__ import annotations

import numpy as np
import torch

from playground.families.diffusion import Diffusion
from playground.families.grids import grid_points
from playground.toy.metrics import evaluate


def level(model: Diffusion, t: float) -> int:
    """The noise level round(t T) of a time fraction t in [0, 1] (clamped)."""
    return round(min(max(float(t), 0.0), 1.0) * model.timesteps)


def forward_noising(model: Diffusion, x0: np.ndarray, t: float | np.ndarray, seed: int = 0) -> np.ndarray:
    """The points x0 (n, d) noised to time t (a scalar: (n, d); k times: (k, n, d)). Each point keeps its own
    noise draw eps for every t (fixed by `seed`), so a time slider moves points smoothly."""
    z0 = model.scale.to_z(torch.as_tensor(np.asarray(x0), dtype=torch.float32).reshape(len(x0), -1))
    eps = torch.randn(z0.shape, generator=torch.Generator().manual_seed(seed))
    times = np.atleast_1d(np.asarray(t, dtype=np.float64))
    out = np.stack([model.scale.to_x(model.noised(z0, level(model, s), eps)).numpy() for s in times])
    return out[0] if np.ndim(t) == 0 else out


def reverse_trajectory(model: Diffusion, n: int, seed: int = 0, sampler: str | None = None,
                       steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(times (K+1,), path (K+1, n, d)): n points from noise (t = 1) to samples (t = 0) in data coordinates.
    The same seed starts every sampler and step count from the same noise."""
    levels, path = model.trajectory(n, torch.Generator().manual_seed(seed), sampler, steps)
    times = np.asarray(levels, dtype=np.float64) / model.timesteps
    return times, model.scale.to_x(path).numpy().astype(np.float64)


def score_field(model: Diffusion, t: float, bounds: tuple, n_grid: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """(points, score) on a grid over `bounds`: the model's score of the noised marginal at time t (> 0) in
    data coordinates, -eps_hat / (sqrt(1 - ab) * spread). Arrows point towards higher density."""
    pts = grid_points(bounds, n_grid)
    i = max(1, level(model, t))
    s = model.score(torch.as_tensor(pts, dtype=torch.float32), i)
    return pts, s.numpy().astype(np.float64)


def quality_vs_steps(model: Diffusion, target, steps_list: list[int], n: int = 2500, seed: int = 0,
                     sampler: str | None = None) -> dict[str, np.ndarray]:
    """Sample quality at each number of sampling steps (same starting noise): arrays `steps`, `grid_js`,
    `grid_kl`, `high_quality` and `modes_covered` (NaN where the target has no such metric)."""
    keys = {"grid_js": "js", "grid_kl": "kl", "high_quality": "high_quality_frac", "modes_covered": "modes_covered"}
    out = {k: np.full(len(steps_list), np.nan) for k in keys}
    for j, k in enumerate(steps_list):
        x = model.sample(n, torch.Generator().manual_seed(seed), sampler=sampler, steps=int(k))
        m = evaluate(target, x)
        for name, key in keys.items():
            if m.get(key) is not None:
                out[name][j] = m[key]
    out["steps"] = np.asarray(steps_list, dtype=np.int64)
    return out
