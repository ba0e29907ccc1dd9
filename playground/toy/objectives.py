"""Adversarial objectives as pairs of small functions over the discriminator's raw outputs.

Every function takes D's raw output (a logit for the sigmoid losses, a critic value otherwise), shape (n, 1),
and returns a per-sample loss (n,). Means are taken by the caller so per-sample gradients are available
for the arrows. With D(x) = sigmoid(l): log D = -softplus(-l) and log(1 - D) = -softplus(l).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# ---- discriminator losses: (real_out, fake_out) -> per-sample loss (minimised by D)


def bce_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """-log D(x) - log(1 - D(G(z))): the minimax and non-saturating GANs share it."""
    return (F.softplus(-real) + F.softplus(fake)).squeeze(-1)


def least_squares_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """LSGAN (a=0, b=1): 1/2 (D(x) - 1)^2 + 1/2 D(G(z))^2."""
    return (0.5 * (real - 1) ** 2 + 0.5 * fake**2).squeeze(-1)


def hinge_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return (F.relu(1 - real) + F.relu(1 + fake)).squeeze(-1)


def wasserstein_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The critic maximises E f(x) - E f(G(z)); as a loss: f(G(z)) - f(x)."""
    return (fake - real).squeeze(-1)


# ---- generator losses: fake_out -> per-sample loss (minimised by G)


def minimax_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """log(1 - D(G(z))): saturates (vanishing gradient) where D confidently rejects the sample."""
    return (-F.softplus(fake)).squeeze(-1)


def nonsaturating_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """-log D(G(z))."""
    return F.softplus(-fake).squeeze(-1)


def least_squares_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """1/2 (D(G(z)) - 1)^2."""
    return (0.5 * (fake - 1) ** 2).squeeze(-1)


def wasserstein_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """-f(G(z)); also the generator loss of the hinge GAN."""
    return (-fake).squeeze(-1)


OBJECTIVES = {
    "minimax": (bce_d_loss, minimax_g_loss),
    "nonsaturating": (bce_d_loss, nonsaturating_g_loss),
    "least_squares": (least_squares_d_loss, least_squares_g_loss),
    "hinge": (hinge_d_loss, wasserstein_g_loss),
    "wgan": (wasserstein_d_loss, wasserstein_g_loss),
    "wgan_gp": (wasserstein_d_loss, wasserstein_g_loss),
}

# How to read D's raw output on screen: as a probability (sigmoid) or as a raw score.
SIGMOID_LOSSES = ("minimax", "nonsaturating")


def input_gradient(d: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """D's output at x and the gradient of sum D(x) w.r.t. x, kept in the graph for a penalty."""
    x = x.detach().requires_grad_(True)
    out = d(x)
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return out, grad


def gradient_penalty(d: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator
                     ) -> torch.Tensor:
    """WGAN-GP: E[(|grad D(x_hat)| - 1)^2] on random interpolates x_hat between real and fake samples."""
    eps = torch.rand(real.shape[0], 1, generator=generator)
    x_hat = eps * real + (1 - eps) * fake.detach()
    _, grad = input_gradient(d, x_hat)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


def r1_penalty(d: torch.nn.Module, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): 1/2 E|grad D(x_real)|^2 (times gamma, by the caller)."""
    x = real.detach().requires_grad_(True)
    return r1_from_output(d(x), x)


def r1_from_output(out: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """R1 from D's output `out` = D(real), computed with `real.requires_grad`: lets a training step use one
    forward pass of D on the real batch for both its loss and the penalty."""
    (grad,) = torch.autograd.grad(out.sum(), real, create_graph=True)
    return 0.5 * grad.pow(2).sum(dim=1).mean()
