"""Diffusion with noise prediction (DDPM), with the ancestral DDPM sampler and the deterministic DDIM sampler.

The forward process on scaled data z0 (see `time_nets.DataScale`) is z_i = sqrt(ab_i) z0 + sqrt(1 - ab_i) eps
for noise levels i = 0..T (ab_0 = 1: clean data; ab_T ~ 0: pure noise), with ab from a cosine or linear
schedule. A network eps_hat(z_i, i/T) is trained to predict eps (mean squared error, i uniform on 1..T).
Sampling runs on a subsequence of `sample_steps` levels from T down to 0. The score of the noised marginal is
-eps_hat / sqrt(1 - ab_i). A sampler has no density: `likelihood = "none"`.
"""

from __future__ import annotations

import itertools
import math

import torch

from playground.errors import PlaygroundError
from playground.families.base import FamilyModel, register
from playground.families.time_nets import DataScale, TimeMLP

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


class Diffusion(FamilyModel):
    """eps_hat(z_i, i / T) on scaled data, with DDPM and DDIM samplers on `sample_steps` levels."""

    family = "diffusion"
    likelihood = "none"

    def __init__(self, scale: DataScale, *, width: int, layers: int, input_octaves: int = 0,
                 timesteps: int = 1000, schedule: str = "cosine", sampler: str = "ddpm", sample_steps: int = 100):
        super().__init__()
        self.scale = scale
        self.dim = scale.dim
        self.net = TimeMLP(self.dim, width, layers, x_freq=input_octaves)
        self.timesteps = int(timesteps)
        self.register_buffer("alpha_bar", alpha_bars(schedule, self.timesteps))
        self.sampler = sampler
        self.sample_steps = int(sample_steps)

    # --- the forward process and the network
    def eps_hat(self, z: torch.Tensor, i: torch.Tensor | int) -> torch.Tensor:
        """The predicted noise at level i (an int or an (n,) tensor of levels)."""
        t = torch.as_tensor(i, dtype=z.dtype) / self.timesteps
        return self.net(z, t)

    def noised(self, z0: torch.Tensor, i: torch.Tensor | int, eps: torch.Tensor) -> torch.Tensor:
        """z_i = sqrt(ab_i) z0 + sqrt(1 - ab_i) eps."""
        ab = self.alpha_bar[torch.as_tensor(i)].to(z0.dtype).reshape(-1, 1)
        return ab.sqrt() * z0 + (1 - ab).sqrt() * eps

    def training_loss(self, batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        z0 = self.scale.to_z(batch)
        i = torch.randint(1, self.timesteps + 1, (len(z0),), generator=generator)
        eps = torch.randn(z0.shape, generator=generator)
        return ((self.eps_hat(self.noised(z0, i, eps), i) - eps) ** 2).sum(1).mean()

    def score(self, x: torch.Tensor, i: int) -> torch.Tensor:
        """The model's score grad log p_i at data-space points x, where the noised points are shown in data
        coordinates x_i = mean + spread * z_i: -eps_hat / sqrt(1 - ab_i) in z, divided by `spread` in x."""
        if not 1 <= i <= self.timesteps:
            raise PlaygroundError(f"noise level must be in 1..{self.timesteps}, got {i}")
        sigma = math.sqrt(1 - float(self.alpha_bar[i]))
        with torch.no_grad():
            return -self.eps_hat(self.scale.to_z(x), i) / (sigma * self.scale.spread)

    # --- sampling
    def levels(self, steps: int | None = None) -> list[int]:
        """The noise levels a sampler visits, from T down to 0 (`steps` + 1 of them, evenly spaced)."""
        steps = self.sample_steps if steps is None else int(steps)
        if not 1 <= steps <= self.timesteps:
            raise PlaygroundError(f"sampling steps must be in 1..{self.timesteps} (the noise levels), got {steps}")
        grid = torch.linspace(self.timesteps, 0, steps + 1, dtype=torch.float64).round().long()
        return sorted(set(grid.tolist()), reverse=True)

    @torch.no_grad()
    def trajectory(self, n: int, generator: torch.Generator, sampler: str | None = None,
                   steps: int | None = None) -> tuple[list[int], torch.Tensor]:
        """(levels, z) with z of shape (len(levels), n, d): the reverse path in scaled coordinates from the
        noise z_T (drawn first, so a seed fixes the starting points whatever the sampler) to the sample z_0."""
        sampler = self.sampler if sampler is None else sampler
        if sampler not in ("ddpm", "ddim"):
            raise PlaygroundError(f"unknown sampler {sampler!r}: choose ddpm or ddim")
        levels = self.levels(steps)
        z = torch.randn(n, self.dim, generator=generator)
        path = [z]
        for t, s in itertools.pairwise(levels):
            z = self._step(z, t, s, sampler, generator)
            path.append(z)
        return levels, torch.stack(path)

    def _step(self, z: torch.Tensor, t: int, s: int, sampler: str, generator: torch.Generator) -> torch.Tensor:
        """One step from level t to level s < t. Both samplers first estimate z0 = (z - sqrt(1-ab_t) eps) /
        sqrt(ab_t). DDIM (eta = 0) moves deterministically to sqrt(ab_s) z0 + sqrt(1-ab_s) eps. DDPM samples
        the Gaussian posterior q(z_s | z_t, z0) of the forward process restricted to levels s < t, whose
        variance is (1 - ab_s) / (1 - ab_t) * beta with beta = 1 - ab_t / ab_s (no noise at s = 0)."""
        ab_t, ab_s = float(self.alpha_bar[t]), float(self.alpha_bar[s])
        eps = self.eps_hat(z, t)
        z0 = (z - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t)
        if sampler == "ddim":
            return math.sqrt(ab_s) * z0 + math.sqrt(1 - ab_s) * eps
        beta = 1 - ab_t / ab_s
        mean = (math.sqrt(ab_s) * beta / (1 - ab_t)) * z0 + (math.sqrt(1 - beta) * (1 - ab_s) / (1 - ab_t)) * z
        if s == 0:
            return mean
        var = beta * (1 - ab_s) / (1 - ab_t)
        return mean + math.sqrt(var) * torch.randn(z.shape, generator=generator)

    def sample(self, n: int, generator: torch.Generator, sampler: str | None = None,
               steps: int | None = None) -> torch.Tensor:
        _, path = self.trajectory(n, generator, sampler, steps)
        return self.scale.to_x(path[-1])


@register("diffusion")
def _build(cfg, target) -> Diffusion:
    if cfg.sample_steps > cfg.diffusion_timesteps:
        raise PlaygroundError(f"sample_steps ({cfg.sample_steps}) cannot exceed diffusion_timesteps "
                              f"({cfg.diffusion_timesteps})")
    return Diffusion(DataScale.from_target(target, cfg.seed), width=cfg.width, layers=cfg.layers,
                     input_octaves=cfg.input_octaves, timesteps=cfg.diffusion_timesteps,
                     schedule=cfg.diffusion_schedule, sampler=cfg.diffusion_sampler, sample_steps=cfg.sample_steps)
