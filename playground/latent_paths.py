"""Paths between two latent codes: linear and spherical interpolation, one implementation for every model.

Each function takes codes `a`, `b` of shape (d,) or (n, d) and positions `t` (n values in [0, 1]) and returns
the n points, shape (n, d), in float32: a tensor (on the codes' device) for tensor codes, else a numpy array.
The arithmetic is done in float64 so that the endpoints and the norms come out exact to float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def _prepare(a: Any, b: Any, t: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool, torch.device]:
    as_tensor = isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor)
    device = a.device if isinstance(a, torch.Tensor) else b.device if isinstance(b, torch.Tensor) else None
    a, b, t = (torch.as_tensor(np.asarray(x) if isinstance(x, (list, tuple)) else x, dtype=torch.float64,
                               device=device) for x in (a, b, t))
    return a, b, t.reshape(-1, 1), as_tensor, a.device


def _finish(z: torch.Tensor, as_tensor: bool, device: torch.device) -> Any:
    z = z.float()
    return z.to(device) if as_tensor else z.cpu().numpy()


def _lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return (1 - t) * a + t * b            # this form gives exactly a at t = 0 and exactly b at t = 1


def lerp(a: Any, b: Any, t: Any) -> Any:
    """(1 − t)·a + t·b: the straight line, which cuts through the low-norm inside of a Gaussian's shell."""
    a, b, t, as_tensor, device = _prepare(a, b, t)
    return _finish(_lerp(a, b, t), as_tensor, device)


def slerp(a: Any, b: Any, t: Any) -> Any:
    """Spherical interpolation (Shoemake 1985; for GAN noise, White 2016): along the great circle between the
    directions of a and b, sin((1 − t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b with Ω the angle between them. The
    angle grows uniformly with t, and when |a| = |b| every point has that norm (a Gaussian's typical shell).
    Rows whose codes are (anti)parallel or zero have no unique circle: they fall back to the line."""
    a, b, t, as_tensor, device = _prepare(a, b, t)
    na, nb = a.norm(dim=-1, keepdim=True), b.norm(dim=-1, keepdim=True)
    cos = (a * b).sum(-1, keepdim=True) / (na * nb).clamp_min(1e-300)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    so = torch.sin(omega)
    ok = (so > 1e-6) & (na > 1e-12) & (nb > 1e-12)
    so = torch.where(ok, so, torch.ones_like(so))
    arc = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / so
    return _finish(torch.where(ok, arc, _lerp(a, b, t)), as_tensor, device)


def latent_path(a: Any, b: Any, t: Any, mode: str = "linear") -> Any:
    """The points of `mode` ("linear" or "spherical") between a and b at positions t."""
    if mode not in ("linear", "spherical"):
        raise ValueError(f"unknown interpolation {mode!r}: linear or spherical")
    return slerp(a, b, t) if mode == "spherical" else lerp(a, b, t)
