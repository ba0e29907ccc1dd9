"""Diffusion (DDPM/DDIM) and flow matching (rectified flow) on images, both with a U-Net (`images.unet`).

Images in [0, 1] are modelled as z = 2x - 1 in [-1, 1]; samples are mapped back and clipped. The schedule and
the sampler/solver steps are the shape-agnostic ones of `playground.diffusion_core` (shared with the toy
families). Both models take optional class labels when their U-Net is conditional. `trajectory` returns the
denoising path of a batch (the strip of one sample's states the Sample page shows); its first state is the
noise drawn first from the generator, so one seed fixes the start whatever the number of steps. `estimate` is
the model's guess of the finished image from one of those states (the strip's second row): a diffusion state is
noisy until its last steps, but the clean image it is heading to shows early.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from playground import diffusion_core as core
from playground.errors import PlaygroundError
from playground.images.unet import UNet


def to_model(x: torch.Tensor) -> torch.Tensor:
    return x * 2.0 - 1.0


def to_images(z: torch.Tensor) -> torch.Tensor:
    return ((z.float() + 1.0) * 0.5).clamp(0.0, 1.0)


class _ImageModel(nn.Module):
    """What both share: the U-Net, image shapes, noise drawn on the CPU from the run's generator."""

    def __init__(self, net: UNet, resolution: int):
        super().__init__()
        if resolution % net.factor:
            raise PlaygroundError(f"resolution {resolution} is not a multiple of {net.factor} (the U-Net's depth)")
        self.net, self.resolution = net, int(resolution)

    @property
    def channels(self) -> int:
        return self.net.channels

    def _randn(self, shape, generator: torch.Generator) -> torch.Tensor:
        """Noise drawn on the generator's device (the trainer's may be a CUDA one), moved to the model's."""
        dev = next(self.parameters()).device
        return torch.randn(shape, generator=generator, device=generator.device).to(dev)

    def forward(self, x: torch.Tensor, generator: torch.Generator, y: torch.Tensor | None = None) -> torch.Tensor:
        """The training loss of images x in [0, 1] (forward, so that DistributedDataParallel sees the call)."""
        return self.loss(x, generator, y)

    def _noise(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self._randn((n, self.channels, self.resolution, self.resolution), generator)

    def sample(self, n: int, generator: torch.Generator, steps: int | None = None, y: torch.Tensor | None = None,
               **kw) -> torch.Tensor:
        """n images in [0, 1] (n, C, R, R)."""
        return to_images(self.trajectory(n, generator, steps=steps, y=y, **kw)[-1])


class ImageDiffusion(_ImageModel):
    """eps_hat(z_i, i / T [, y]): trained on the noise-prediction MSE, sampled by DDPM or DDIM."""

    def __init__(self, net: UNet, resolution: int, timesteps: int = 1000, schedule: str = "cosine",
                 sampler: str = "ddim", sample_steps: int = 50):
        super().__init__(net, resolution)
        self.timesteps = int(timesteps)
        self.register_buffer("alpha_bar", core.alpha_bars(schedule, self.timesteps))
        self.sampler, self.sample_steps = sampler, int(sample_steps)
        self.clip = True            # pixels live in [-1, 1]: clamp each step's clean-image estimate (core.reverse_step)

    def eps_hat(self, z: torch.Tensor, i: torch.Tensor | int, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z, torch.as_tensor(i, dtype=torch.float32) / self.timesteps, y)

    def loss(self, x: torch.Tensor, generator: torch.Generator, y: torch.Tensor | None = None) -> torch.Tensor:
        """Mean over images of the squared error of the predicted noise, summed over pixels (Ho et al.'s
        simplified objective), at levels i uniform on 1..T."""
        z0 = to_model(x)
        i = torch.randint(1, self.timesteps + 1, (len(z0),), generator=generator, device=generator.device)
        eps = self._randn(z0.shape, generator).to(z0.dtype)
        ab = self.alpha_bar[i.to(self.alpha_bar.device)]
        err = self.eps_hat(core.noised(z0, ab, eps), i.to(z0.device), y) - eps
        return err.square().flatten(1).sum(1).mean()

    @torch.no_grad()
    def trajectory(self, n: int, generator: torch.Generator, steps: int | None = None,
                   y: torch.Tensor | None = None, sampler: str | None = None) -> list[torch.Tensor]:
        """The states (in [-1, 1] model space) from noise z_T to the sample z_0."""
        sampler = sampler or self.sampler
        lv = core.levels(self.timesteps, self.sample_steps if steps is None else int(steps))
        z = self._noise(n, generator)
        path = [z]
        for t, s in itertools.pairwise(lv):
            eps = self.eps_hat(z, torch.full((n,), t), y)
            z = core.reverse_step(z, eps, float(self.alpha_bar[t]), float(self.alpha_bar[s]), sampler, generator,
                                  last=s == 0, clip=1.0 if self.clip else None)
            path.append(z)
        return path

    @torch.no_grad()
    def estimate(self, z: torch.Tensor, state: int, steps: int | None = None,
                 y: torch.Tensor | None = None) -> torch.Tensor:
        """The clean image z0 = (z - sqrt(1 - ab_t) eps_hat) / sqrt(ab_t) predicted from the trajectory's state
        `state` (level t of the same sampling grid), clamped to [-1, 1] as the sampler does; the sample itself at
        level 0."""
        lv = core.levels(self.timesteps, self.sample_steps if steps is None else int(steps))
        t = lv[state]
        if t == 0:
            return z
        ab = float(self.alpha_bar[t])
        z0 = (z - (1 - ab) ** 0.5 * self.eps_hat(z, torch.full((len(z),), t), y)) / ab ** 0.5
        return z0.clamp(-1.0, 1.0) if self.clip else z0


class ImageFlowMatching(_ImageModel):
    """v(z_t, t [, y]) regressing z1 - z0 on straight noise-to-data paths; sampled by an ODE solver."""

    def __init__(self, net: UNet, resolution: int, solver: str = "midpoint", sample_steps: int = 25):
        super().__init__(net, resolution)
        self.solver, self.sample_steps = solver, int(sample_steps)

    def loss(self, x: torch.Tensor, generator: torch.Generator, y: torch.Tensor | None = None) -> torch.Tensor:
        z1 = to_model(x)
        z0 = self._randn(z1.shape, generator).to(z1.dtype)
        t = torch.rand(len(z1), generator=generator, device=generator.device).to(z1.device)
        zt, target = core.flow_path(z0, z1, t)
        return (self.net(zt, t, y) - target).square().flatten(1).sum(1).mean()

    @torch.no_grad()
    def trajectory(self, n: int, generator: torch.Generator, steps: int | None = None,
                   y: torch.Tensor | None = None, solver: str | None = None) -> list[torch.Tensor]:
        """The ODE states (model space) from noise at t = 0 to the sample at t = 1."""
        return core.integrate(lambda z, t: self.net(z, t, y), self._noise(n, generator),
                              self.sample_steps if steps is None else int(steps), solver or self.solver)

    @torch.no_grad()
    def estimate(self, z: torch.Tensor, state: int, steps: int | None = None,
                 y: torch.Tensor | None = None) -> torch.Tensor:
        """The data end z1 = z_t + (1 - t) v(z_t, t) of the straight path through the trajectory's state `state`
        (t = state / steps on the solver's uniform grid); the sample itself at t = 1."""
        k = self.sample_steps if steps is None else int(steps)
        t = state / k
        if state >= k:
            return z
        return z + (1 - t) * self.net(z, torch.full((len(z),), t, device=z.device), y)


def build_image_model(kind: str, *, channels: int, resolution: int, width: int = 32,
                      mults: tuple[int, ...] = (1, 2, 2), blocks: int = 1, num_classes: int | None = None,
                      **options) -> _ImageModel:
    """`diffusion` or `flow_matching` with a fresh U-Net; `options` go to the model (timesteps, schedule,
    sampler, solver, sample_steps)."""
    net = UNet(channels, width, mults, blocks, num_classes)
    if kind == "diffusion":
        return ImageDiffusion(net, resolution, **options)
    if kind == "flow_matching":
        return ImageFlowMatching(net, resolution, **options)
    raise PlaygroundError(f"unknown image model {kind!r}: choose diffusion or flow_matching")
