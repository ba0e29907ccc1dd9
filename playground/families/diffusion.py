"""Diffusion with noise prediction (DDPM), with the ancestral DDPM sampler and the deterministic DDIM sampler.

The forward process on scaled data z0 (see `time_nets.DataScale`) is z_i = sqrt(ab_i) z0 + sqrt(1 - ab_i) eps
for noise levels i = 0..T (ab_0 = 1: clean data; ab_T ~ 0: pure noise), with ab from a cosine or linear
schedule. A network eps_hat(z_i, i/T) is trained to predict eps (mean squared error, i uniform on 1..T).
Sampling runs on a subsequence of `sample_steps` levels from T down to 0 (quadratic spacing by default:
dense near the data) with the shape-agnostic steps of
`playground.diffusion_core` (shared with the image models). The score of the noised marginal is
-eps_hat / sqrt(1 - ab_i). A sampler has no density: `likelihood = "none"`.
"""

from __future__ import annotations

import itertools
import math

import torch

from playground import diffusion_core as core
from playground.diffusion_core import alpha_bars
from playground.errors import PlaygroundError
from playground.families.base import FamilyModel, register
from playground.families.time_nets import DataScale, TimeMLP


class Diffusion(FamilyModel):
    """eps_hat(z_i, i / T) on scaled data, with DDPM and DDIM samplers on `sample_steps` levels."""

    family = "diffusion"
    likelihood = "none"

    def __init__(self, scale: DataScale, *, width: int, layers: int, input_octaves: int = 0,
                 timesteps: int = 1000, schedule: str = "cosine", sampler: str = "ddpm", sample_steps: int = 100,
                 spacing: str = "quadratic"):
        super().__init__()
        self.scale = scale
        self.dim = scale.dim
        self.net = TimeMLP(self.dim, width, layers, x_freq=input_octaves)
        self.timesteps = int(timesteps)
        self.register_buffer("alpha_bar", alpha_bars(schedule, self.timesteps))
        self.sampler = sampler
        self.sample_steps = int(sample_steps)
        self.spacing = spacing

    def apply_live(self, cfg) -> None:
        self.sampler, self.sample_steps = cfg.diffusion_sampler, int(cfg.sample_steps)
        self.spacing = cfg.diffusion_spacing

    # --- the forward process and the network
    def eps_hat(self, z: torch.Tensor, i: torch.Tensor | int) -> torch.Tensor:
        """The predicted noise at level i (an int or an (n,) tensor of levels)."""
        t = torch.as_tensor(i, dtype=z.dtype) / self.timesteps
        return self.net(z, t)

    def noised(self, z0: torch.Tensor, i: torch.Tensor | int, eps: torch.Tensor) -> torch.Tensor:
        """z_i = sqrt(ab_i) z0 + sqrt(1 - ab_i) eps."""
        return core.noised(z0, self.alpha_bar[torch.as_tensor(i)].to(z0.dtype), eps)

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
        """The noise levels a sampler visits, from T down to 0 (`steps` + 1 of them, see `core.levels`)."""
        return core.levels(self.timesteps, self.sample_steps if steps is None else int(steps), self.spacing)

    @torch.no_grad()
    def trajectory(self, n: int, generator: torch.Generator, sampler: str | None = None,
                   steps: int | None = None) -> tuple[list[int], torch.Tensor]:
        """(levels, z) with z of shape (len(levels), n, d): the reverse path in scaled coordinates from the
        noise z_T (drawn first, so a seed fixes the starting points whatever the sampler) to the sample z_0."""
        sampler = self.sampler if sampler is None else sampler
        if sampler not in core.SAMPLERS:
            raise PlaygroundError(f"unknown sampler {sampler!r}: choose ddpm or ddim")
        levels = self.levels(steps)
        z = torch.randn(n, self.dim, generator=generator)
        path = [z]
        for t, s in itertools.pairwise(levels):
            z = core.reverse_step(z, self.eps_hat(z, t), float(self.alpha_bar[t]), float(self.alpha_bar[s]),
                                  sampler, generator, last=s == 0)
            path.append(z)
        return levels, torch.stack(path)

    def sample(self, n: int, generator: torch.Generator, sampler: str | None = None,
               steps: int | None = None) -> torch.Tensor:
        _, path = self.trajectory(n, generator, sampler, steps)
        return self.scale.to_x(path[-1])


@register("diffusion")
def _build(cfg, target) -> Diffusion:
    return Diffusion(DataScale.from_target(target, cfg.seed), width=cfg.width, layers=cfg.layers,
                     input_octaves=cfg.input_octaves, timesteps=cfg.diffusion_timesteps,
                     schedule=cfg.diffusion_schedule, sampler=cfg.diffusion_sampler, sample_steps=cfg.sample_steps,
                     spacing=cfg.diffusion_spacing)
