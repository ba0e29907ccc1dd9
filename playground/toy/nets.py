"""MLP generator and discriminator for toy 1D/2D data."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _sn

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "elu": nn.ELU, "tanh": nn.Tanh}


def mlp(n_in: int, n_out: int, layers: int, width: int, activation: str, spectral: bool = False) -> nn.Sequential:
    """`layers` hidden layers of `width` units; optional spectral normalisation on every linear map."""
    mods: list[nn.Module] = []
    d = n_in
    for _ in range(layers):
        lin = nn.Linear(d, width)
        mods += [_sn(lin) if spectral else lin, ACTIVATIONS[activation]()]
        d = width
    out = nn.Linear(d, n_out)
    mods.append(_sn(out) if spectral else out)
    return nn.Sequential(*mods)


def make_generator(noise_dim: int, data_dim: int, layers: int, width: int, activation: str) -> nn.Sequential:
    return mlp(noise_dim, data_dim, layers, width, activation)


def make_discriminator(data_dim: int, layers: int, width: int, activation: str, spectral: bool) -> nn.Sequential:
    """Outputs one logit (or critic value) per sample, shape (n, 1)."""
    return mlp(data_dim, 1, layers, width, activation, spectral)


def sample_noise(n: int, dim: int, kind: str, generator: torch.Generator) -> torch.Tensor:
    if kind == "uniform":
        return torch.rand(n, dim, generator=generator) * 2 - 1
    return torch.randn(n, dim, generator=generator)
