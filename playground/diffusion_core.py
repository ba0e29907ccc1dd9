"""Diffusion and flow-matching math on tensors of any shape (N, ...): toy points and images alike.

Diffusion (noise prediction): z_i = sqrt(ab_i) z0 + sqrt(1 - ab_i) eps for levels i = 0..T with the noise
schedule ab of `alpha_bars` (ab_0 = 1: clean data). A sampler visits
`levels(T, steps, spacing)` from T down to 0; each move t -> s < t first estimates z0 from the predicted noise, then
goes deterministically (DDIM, eta = 0) or samples the forward process's Gaussian posterior (DDPM).

Flow matching (rectified flow): noise z0 at t = 0, data z1 at t = 1, the straight path z_t = (1 - t) z0 + t z1
with velocity z1 - z0; samples solve dz/dt = v(z, t) from 0 to 1 with Euler or midpoint steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from playground.errors import PlaygroundError

AB_MIN = 1e-4                  # the smallest ab of a schedule (see alpha_bars)


def alpha_bars(schedule: str, timesteps: int) -> torch.Tensor:
    """ab_i for i = 0..T (float64, ab_0 = 1, decreasing). cosine: Nichol & Dhariwal's
    cos^2((i/T + s) / (1 + s) * pi / 2) with s = 0.008 and each step's beta capped at 0.999; linear: betas from
    0.1/T to 20/T (1e-4 to 0.02 for T = 1000, as in Ho et al.)."""
    i = torch.arange(timesteps + 1, dtype=torch.float64)
    if schedule == "cosine":
        s = 0.008
        f = torch.cos((i / timesteps + s) / (1 + s) * math.pi / 2) ** 2
        betas = (1 - f[1:] / f[:-1]).clamp(max=0.999)
    elif schedule == "linear":
        betas = torch.linspace(0.1 / timesteps, 20.0 / timesteps, timesteps, dtype=torch.float64)
    else:
        raise PlaygroundError(f"unknown noise schedule {schedule!r}: choose cosine or linear")
    ab = torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1 - betas, 0)])
    # Keep the last level's signal fraction at AB_MIN or above: with noise prediction the clean-data estimate
    # (z - sqrt(1 - ab) eps_hat) / sqrt(ab) multiplies the network's error by 1/sqrt(ab), which the pure cosine
    # schedule (ab_T ~ 1e-9) makes ruinous; ab -> AB_MIN + (1 - AB_MIN) ab keeps the shape and ab_0 = 1.
    return AB_MIN + (1 - AB_MIN) * ab

__all__ = ["AB_MIN", "alpha_bars", "flow_path", "integrate", "levels", "noised", "per_sample", "reverse_step"]

SAMPLERS = ("ddpm", "ddim")
SOLVERS = ("euler", "midpoint")


def per_sample(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A per-sample value (N,) (or a scalar) shaped (N, 1, 1, ...) to broadcast against `like`."""
    v = torch.as_tensor(v, dtype=like.dtype, device=like.device)
    return v.reshape(-1, *([1] * (like.ndim - 1)))


def noised(z0: torch.Tensor, ab: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """sqrt(ab) z0 + sqrt(1 - ab) eps, with ab (N,) the signal fraction of each sample's level."""
    ab = per_sample(ab, z0)
    return ab.sqrt() * z0 + (1 - ab).sqrt() * eps


def levels(timesteps: int, steps: int, spacing: str = "uniform") -> list[int]:
    """The noise levels a sampler visits, from T down to 0 (`steps` + 1 of them). "uniform": evenly spaced.
    "quadratic": level_k = k + round((T - K) (k / K)^2) for k = K..0, strictly decreasing and dense near the
    data, so the last step starts below the data's own fine scale (DDPM's and DDIM's last step returns the
    posterior mean E[z0 | z_t], which shrinks every mode narrower than that step's noise)."""
    if not 1 <= steps <= timesteps:
        raise PlaygroundError(f"sampling steps must be in 1..{timesteps} (the noise levels), got {steps}")
    if spacing == "quadratic":
        k = torch.arange(steps, -1, -1, dtype=torch.float64)
        return (k + ((timesteps - steps) * (k / steps) ** 2).round()).long().tolist()
    if spacing != "uniform":
        raise PlaygroundError(f"unknown level spacing {spacing!r}: choose uniform or quadratic")
    grid = torch.linspace(timesteps, 0, steps + 1, dtype=torch.float64).round().long()
    return sorted(set(grid.tolist()), reverse=True)


def reverse_step(z: torch.Tensor, eps: torch.Tensor, ab_t: float, ab_s: float, sampler: str,
                 generator: torch.Generator | None = None, last: bool = False,
                 clip: float | None = None) -> torch.Tensor:
    """One move from level t to level s < t given the predicted noise eps at t. z0 = (z - sqrt(1-ab_t) eps) /
    sqrt(ab_t); DDIM goes to sqrt(ab_s) z0 + sqrt(1-ab_s) eps; DDPM samples q(z_s | z_t, z0), whose variance is
    (1 - ab_s) / (1 - ab_t) * beta with beta = 1 - ab_t / ab_s (no noise on the `last` step, to level 0).

    `clip` (bounded data such as images in [-1, 1]): z0 is clamped to [-clip, clip] and DDIM's eps re-derived
    from the clamped z0 (eps = (z - sqrt(ab_t) z0) / sqrt(1 - ab_t)), so the step stays on the line through z
    and a data-range estimate. At high noise 1/sqrt(ab_t) amplifies the network's error up to 100-fold; unclipped,
    that error lands in the sample as saturated blobs."""
    if sampler not in SAMPLERS:
        raise PlaygroundError(f"unknown sampler {sampler!r}: choose ddpm or ddim")
    z0 = (z - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t)
    if clip is not None:
        z0 = z0.clamp(-clip, clip)
        eps = (z - math.sqrt(ab_t) * z0) / math.sqrt(1 - ab_t)
    if sampler == "ddim":
        return math.sqrt(ab_s) * z0 + math.sqrt(1 - ab_s) * eps
    beta = 1 - ab_t / ab_s
    mean = (math.sqrt(ab_s) * beta / (1 - ab_t)) * z0 + (math.sqrt(1 - beta) * (1 - ab_s) / (1 - ab_t)) * z
    if last:
        return mean
    var = beta * (1 - ab_s) / (1 - ab_t)
    noise = torch.randn(z.shape, generator=generator, dtype=z.dtype).to(z.device)
    return mean + math.sqrt(var) * noise


def flow_path(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(z_t, target velocity z1 - z0) on the straight path from noise z0 (t = 0) to data z1 (t = 1)."""
    t = per_sample(t, z1)
    return (1 - t) * z0 + t * z1, z1 - z0


def integrate(velocity: Callable[[torch.Tensor, float], torch.Tensor], z0: torch.Tensor, steps: int,
              solver: str = "midpoint") -> list[torch.Tensor]:
    """The states of dz/dt = velocity(z, t) from z0 at t = 0 to t = 1 on a uniform grid (steps + 1 of them).
    Midpoint costs two evaluations a step and is second-order accurate; Euler one, first-order."""
    if steps < 1:
        raise PlaygroundError(f"ODE steps must be at least 1, got {steps}")
    if solver not in SOLVERS:
        raise PlaygroundError(f"unknown ODE solver {solver!r}: choose euler or midpoint")
    h = 1.0 / steps
    z, path = z0, [z0]
    for k in range(steps):
        t = k * h
        if solver == "euler":
            z = z + h * velocity(z, t)
        else:
            z = z + h * velocity(z + 0.5 * h * velocity(z, t), t + 0.5 * h)
        path.append(z)
    return path
