"""Class-conditional GAN: a DCGAN generator with conditional batch norm, and a projection discriminator.

G also reads the class as a one-hot appended to its noise: with conditional batch norm alone (two BN layers
at 28x28) G followed the class slowly (mnist5k, 1,000 steps: 11% of its samples classified as asked, chance
10%; with the one-hot input and Adam's betas (0, 0.9): 36%; and learning rates 4e-4 for G and D: 95%).

Conditional batch norm (de Vries et al. 2017; Miyato & Koyama 2018): each BN layer normalises without its own
affine parameters, then scales and shifts with a per-class gamma_y and beta_y. The projection discriminator
(Miyato & Koyama 2018) scores D(x, y) = psi(phi(x)) + <e_y, phi(x)>: an unconditional score plus the inner
product of the image's features with the class's embedding, which is the logit form of log p(y|x) - log p(y)
that a Bayes-optimal conditional D contains. phi is SNGAN's spectrally normalised CNN, sum-pooled.

Classes may be given as integer labels (N,) or as (N, K) class weights (soft labels), so a class
interpolation with fixed noise is a straight line between two one-hot vectors. Any objective from
`playground.objectives` applies to D's scores (hinge is the published choice with spectral norm).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from playground.errors import PlaygroundError
from playground.images.models import SNDiscriminator, base_size, dcgan_init, stages_for


def class_weights(y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Integer labels (N,) as one-hot rows, or (N, K) weights passed through; float32."""
    if y.ndim == 1:
        if len(y) and (int(y.min()) < 0 or int(y.max()) >= num_classes):
            raise PlaygroundError(f"class labels must lie in 0..{num_classes - 1}")
        return torch.nn.functional.one_hot(y.long(), num_classes).float()
    if y.ndim != 2 or y.shape[1] != num_classes:
        raise PlaygroundError(f"class weights must be (N, {num_classes}), got {tuple(y.shape)}")
    return y.float()


class ConditionalBatchNorm2d(nn.Module):
    """BN without affine parameters, then gamma_y * x_hat + beta_y (gamma ~ N(1, 0.02) like DCGAN's BN scales,
    beta 0)."""

    def __init__(self, features: int, num_classes: int):
        super().__init__()
        self.num_classes = num_classes
        self.bn = nn.BatchNorm2d(features, affine=False)
        self.gamma = nn.Parameter(1.0 + 0.02 * torch.randn(num_classes, features))
        self.beta = nn.Parameter(torch.zeros(num_classes, features))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """x (N, C, H, W); w (N, K) class weights (see class_weights)."""
        w = w.to(x.dtype)
        gamma, beta = w @ self.gamma.to(x.dtype), w @ self.beta.to(x.dtype)
        return gamma[:, :, None, None] * self.bn(x) + beta[:, :, None, None]


class ConditionalGenerator(nn.Module):
    """DCGAN's generator (4x4, or 7x7 for 28x28 images, doubling transposed convs, tanh) on [z, one_hot(y)],
    every BN class-conditional."""

    def __init__(self, latent_dim: int, width: int, channels: int, resolution: int, num_classes: int,
                 extra_layers: int = 0):
        super().__init__()
        k = stages_for(resolution)
        self.latent_dim, self.channels = latent_dim, channels
        self.resolution, self.num_classes = resolution, num_classes
        c = width * 2 ** (k - 1)
        # the class enters twice: as a one-hot appended to the noise (Mirza & Osindero), so the first layer's
        # weights carry it from the start, and through every BN's per-class scale and shift
        convs = [nn.ConvTranspose2d(latent_dim + num_classes, c, base_size(resolution), 1, 0, bias=False)]
        norms = [ConditionalBatchNorm2d(c, num_classes)]
        for _ in range(k - 1):
            convs.append(nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False))
            c //= 2
            norms.append(ConditionalBatchNorm2d(c, num_classes))
        for _ in range(extra_layers):
            convs.append(nn.Conv2d(c, c, 3, 1, 1, bias=False))
            norms.append(ConditionalBatchNorm2d(c, num_classes))
        self.convs, self.norms = nn.ModuleList(convs), nn.ModuleList(norms)
        self.out = nn.ConvTranspose2d(c, channels, 4, 2, 1, bias=False)
        for conv in [*self.convs, self.out]:   # conv weights ~ N(0, 0.02)
            dcgan_init(conv)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        w = class_weights(y.to(z.device), self.num_classes)
        h = torch.cat([z.view(z.shape[0], -1), w.to(z.dtype)], 1)[:, :, None, None]
        for conv, norm in zip(self.convs, self.norms):
            h = torch.relu(norm(conv(h), w))
        return torch.tanh(self.out(h))


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = psi(phi(x)) + <e_y, phi(x)>, phi = SNGAN's CNN (spectral norm) summed over positions."""

    def __init__(self, width: int, channels: int, resolution: int, num_classes: int):
        super().__init__()
        k = stages_for(resolution)
        self.num_classes = num_classes
        self.features = SNDiscriminator(width, channels, resolution).features   # its conv stack only
        c = width * 2 ** k
        self.linear = spectral_norm(nn.Linear(c, 1))
        self.embed = spectral_norm(nn.Linear(num_classes, c, bias=False))      # e_y = embed(one_hot(y))

    def phi(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).sum(dim=(2, 3))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One score per image, shape (N,)."""
        h = self.phi(x)
        w = class_weights(y.to(x.device), self.num_classes).to(h.dtype)
        return self.linear(h).flatten() + (self.embed(w) * h).sum(1)


def build_cgan(*, latent_dim: int, g_width: int, d_width: int, channels: int, resolution: int, num_classes: int,
               extra_layers: int = 0) -> dict[str, nn.Module]:
    """{'G', 'D'} of a class-conditional run (the shape `models.build` returns for the other GANs)."""
    if num_classes < 2:
        raise PlaygroundError("a class-conditional GAN needs a dataset with labels of at least 2 classes")
    return {"G": ConditionalGenerator(latent_dim, g_width, channels, resolution, num_classes, extra_layers),
            "D": ProjectionDiscriminator(d_width, channels, resolution, num_classes)}


def random_labels(n: int, num_classes: int, generator: torch.Generator) -> torch.Tensor:
    """Classes for generated samples, uniform (the published cGAN setting on balanced datasets)."""
    return torch.randint(0, num_classes, (n,), generator=generator)


@torch.no_grad()
def class_noise_grid(G: ConditionalGenerator, noise: torch.Tensor) -> torch.Tensor:
    """Images (K, M, C, H, W) in G's output range: row y is class y, column j uses noise[j] for every class."""
    k, m = G.num_classes, len(noise)
    z = noise.repeat(k, 1)
    y = torch.arange(k).repeat_interleave(m)
    out = G(z, y)
    return out.view(k, m, *out.shape[1:])


@torch.no_grad()
def class_interpolation(G: ConditionalGenerator, z: torch.Tensor, a: int, b: int, steps: int) -> torch.Tensor:
    """`steps` images from class a to class b with one noise vector z (1, latent_dim) held fixed: the class weights
    move on the line (1 - t) one_hot(a) + t one_hot(b)."""
    t = torch.linspace(0.0, 1.0, steps).view(-1, 1)
    w = (1 - t) * class_weights(torch.tensor([a]), G.num_classes) + t * class_weights(torch.tensor([b]),
                                                                                       G.num_classes)
    return G(z.reshape(1, -1).repeat(steps, 1), w)
