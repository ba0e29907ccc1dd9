"""Grids of points over a view box, shared by the families' views (fields, densities, quadrature)."""

from __future__ import annotations

import numpy as np


def grid_points(bounds: tuple, n_grid: int) -> np.ndarray:
    """An n_grid (1D bounds (lo, hi)) or n_grid x n_grid (2D bounds (xlo, xhi, ylo, yhi), x-major) grid."""
    if len(bounds) == 2:
        return np.linspace(bounds[0], bounds[1], n_grid)[:, None]
    gx, gy = np.meshgrid(np.linspace(bounds[0], bounds[1], n_grid), np.linspace(bounds[2], bounds[3], n_grid),
                         indexing="ij")
    return np.stack([gx.ravel(), gy.ravel()], axis=1)
