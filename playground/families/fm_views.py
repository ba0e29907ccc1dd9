"""What the flow-matching page draws, as numpy arrays: the velocity field at time t, ODE trajectories and how
straight they are, samples, and the exact density on a grid. Pure functions of a trained `FlowMatching` model,
each with its own seed. Time runs from t = 0 (noise) to t = 1 (data); points are in data coordinates
x = mean + spread * z, where the velocity is spread * v(z, t).
"""

from __future__ import annotations

import numpy as np
import torch

from playground.families.flow_matching import FlowMatching
from playground.families.grids import grid_points


def velocity_field(model: FlowMatching, t: float, bounds: tuple, n_grid: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """(points, velocity dx/dt) on a grid over `bounds` at time t in [0, 1]."""
    pts = grid_points(bounds, n_grid)
    with torch.no_grad():
        v = model.velocity(model.scale.to_z(torch.as_tensor(pts, dtype=torch.float32)), float(t))
    return pts, (v * model.scale.spread).numpy().astype(np.float64)


def trajectories(model: FlowMatching, n: int, seed: int = 0, steps: int | None = None,
                 solver: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(times (K+1,), path (K+1, n, d)) from noise to samples; the same seed gives the same starting noise
    for every solver and step count."""
    z0 = torch.randn(n, model.dim, generator=torch.Generator().manual_seed(seed))
    path = model.integrate(z0, steps, solver)
    times = np.linspace(0.0, 1.0, len(path))
    return times, model.scale.to_x(path).numpy().astype(np.float64)


def straightness(path: np.ndarray) -> np.ndarray:
    """Per trajectory, the length of the path over the distance from its start to its end (1 = straight)."""
    seg = np.linalg.norm(np.diff(path, axis=0), axis=-1).sum(axis=0)
    chord = np.linalg.norm(path[-1] - path[0], axis=-1)
    return seg / np.maximum(chord, 1e-12)


def samples(model: FlowMatching, n: int, seed: int = 0, steps: int | None = None,
            solver: str | None = None) -> np.ndarray:
    with torch.no_grad():
        x = model.sample(n, torch.Generator().manual_seed(seed), steps=steps, solver=solver)
    return x.numpy().astype(np.float64)


def density_grid(model: FlowMatching, bounds: tuple, n_grid: int = 60,
                 steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(points, log q) on a grid over `bounds`: the exact log density through the ODE."""
    pts = grid_points(bounds, n_grid)
    return pts, model.log_prob(torch.as_tensor(pts, dtype=torch.float32), steps=steps).numpy()
