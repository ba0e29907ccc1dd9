"""Networks and data scaling shared by the time-indexed families (diffusion, flow matching) and the VAE.

`DataScale` maps data x to z = (x - mean) / spread with one scalar spread (isotropic, so the geometry of the
target is kept): the models work in z, where every target has unit spread, and report densities back in x
(log q_x(x) = log q_z(z) - d log spread). `TimeMLP` is an MLP on [z, Fourier features of t], t in [0, 1].
"""

from __future__ import annotations

import math

import torch
from torch import nn

_SCALE_SAMPLES = 20_000        # target samples that fix the data scale (drawn once, at build time)


def mlp(n_in: int, n_out: int, width: int, layers: int) -> nn.Sequential:
    """`layers` hidden SiLU layers of `width` units (SiLU is smooth, so Jacobians and divergences are too)."""
    mods: list[nn.Module] = []
    for i in range(layers):
        mods += [nn.Linear(n_in if i == 0 else width, width), nn.SiLU()]
    mods.append(nn.Linear(width if layers else n_in, n_out))
    return nn.Sequential(*mods)


class DataScale(nn.Module):
    """z = (x - mean) / spread, with the mean and one spread for all axes as buffers (saved with the model)."""

    def __init__(self, mean: torch.Tensor, scale: float):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).reshape(1, -1))
        self.register_buffer("spread", torch.tensor(float(scale)))

    @classmethod
    def from_target(cls, target, seed: int) -> DataScale:
        """Mean and RMS spread (over axes) of target samples drawn with their own seeded generator."""
        x = target.sample(_SCALE_SAMPLES, torch.Generator().manual_seed(seed + 7919)).double()
        mean = x.mean(0)
        scale = float(((x - mean) ** 2).mean().sqrt())
        return cls(mean.float(), scale if scale > 1e-6 else 1.0)

    @property
    def dim(self) -> int:
        return self.mean.shape[1]

    def to_z(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.spread

    def to_x(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.spread + self.mean

    def log_det(self) -> torch.Tensor:
        """log |dz/dx| = -d log spread: add it to a density in z to get the density in x."""
        return -self.dim * torch.log(self.spread)


class TimeMLP(nn.Module):
    """f(z, t) for z (n, d) and t (n,) or a scalar in [0, 1]: an MLP on z and sin/cos(2^k pi t), k < n_freq."""

    def __init__(self, dim: int, width: int, layers: int, n_freq: int = 8, x_freq: int = 0):
        super().__init__()
        self.register_buffer("freqs", math.pi * 2.0 ** torch.arange(n_freq, dtype=torch.float32))
        self.register_buffer("x_freqs", math.pi * 2.0 ** torch.arange(x_freq, dtype=torch.float32))
        self.net = mlp(dim * (1 + 2 * x_freq) + 2 * n_freq, dim, width, layers)

    def forward(self, z: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=z.dtype).reshape(-1, 1).expand(z.shape[0], 1)
        ang = t * self.freqs
        parts = [z, torch.sin(ang), torch.cos(ang)]
        if len(self.x_freqs):
            xa = (z[:, :, None] * self.x_freqs).flatten(1)
            parts += [torch.sin(xa), torch.cos(xa)]
        return self.net(torch.cat(parts, dim=1))
