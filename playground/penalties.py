"""Gradient penalties on a discriminator's input gradient, for toy points (n, d) and images (n, c, h, w) alike.

Every sample's gradient is flattened to one vector, so the same functions serve both shapes. Trainers with
their own forward pass (one critic call over [real, fake, interpolates], mixed precision) build the pieces
themselves: `interpolation_weights` -> `interpolates` -> their gradient -> `gradient_norm_penalty`.
"""

from __future__ import annotations

import torch


def input_gradient(d: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """D's output at x and the gradient of sum D(x) w.r.t. x, kept in the graph so a penalty can be trained."""
    x = x.detach().requires_grad_(True)
    out = d(x)
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return out, grad


def interpolation_weights(real: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One uniform weight per sample, shaped (n, 1, ..., 1) to broadcast over the sample's other axes."""
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    return torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)


def interpolates(real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """x_hat = alpha real + (1 - alpha) fake, on the segments between paired real and generated samples."""
    return alpha * real.detach() + (1 - alpha) * fake.detach().to(real.dtype)


def gradient_norm_penalty(grad: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's two-sided penalty E[(|grad|_2 - 1)^2], each sample's gradient taken as one vector."""
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def gradient_penalty(d: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     generator: torch.Generator | None = None, alpha: torch.Tensor | None = None) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): the norm penalty at random interpolates of real and fake samples.

    Pass `alpha` to choose the interpolation weights; otherwise they are drawn from `generator`."""
    if alpha is None:
        alpha = interpolation_weights(real, generator)
    _, grad = input_gradient(d, interpolates(real, fake, alpha))
    return gradient_norm_penalty(grad)


def r1_penalty(d: torch.nn.Module, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): 1/2 E|grad D(x_real)|^2 (times gamma, by the caller)."""
    x = real.detach().requires_grad_(True)
    return r1_from_output(d(x), x)


def r1_from_output(out: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """R1 from D's output `out` = D(real), computed with `real.requires_grad`: lets a training step use one
    forward pass of D on the real batch for both its loss and the penalty."""
    (grad,) = torch.autograd.grad(out.sum(), real, create_graph=True)
    return 0.5 * grad.pow(2).flatten(1).sum(dim=1).mean()
