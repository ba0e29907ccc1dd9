"""What the autoregressive page draws, as numpy arrays: the first variable's marginal, the second variable's
conditional density at a slice value of the first, and the exact joint density (`flow_views.density_grid`
works for any model with a density)."""

from __future__ import annotations

import torch

from playground.families.autoregressive import Autoregressive
from playground.families.flow_views import density_grid, grid_axes

__all__ = ["conditional", "density_grid", "marginal", "variable_names"]


def variable_names(model: Autoregressive) -> tuple[str, str]:
    """("x1", "x2") or ("x2", "x1"): the first and second variable of the model's order."""
    return ("x1", "x2") if model.first == 0 else ("x2", "x1")


def marginal(model: Autoregressive, bounds: tuple, n: int = 200) -> dict:
    """q(first variable) on n cell centres of its axis of the view box: {"variable", "x", "log_q"}."""
    axis = grid_axes(bounds, n)[model.first]
    with torch.no_grad():
        log_q = model.marginal_log_prob(torch.as_tensor(axis, dtype=torch.float32)).double().numpy()
    return {"variable": variable_names(model)[0], "x": axis, "log_q": log_q}


def conditional(model: Autoregressive, given: float, bounds: tuple, n: int = 200) -> dict:
    """q(second variable | first = given) on n cell centres of the second variable's axis:
    {"variable", "given", "x", "log_q"}; in 2D only."""
    if model.dim != 2:
        model.conditional_log_prob(torch.zeros(1), given)          # raises the model's own message
    axis = grid_axes(bounds, n)[1 - model.first]
    with torch.no_grad():
        log_q = model.conditional_log_prob(torch.as_tensor(axis, dtype=torch.float32), given).double().numpy()
    return {"variable": variable_names(model)[1], "given": float(given), "x": axis, "log_q": log_q}
