"""Image generators and discriminators for 8..64 pixel images (and 28, MNIST's own), the VAE lab's conv VAE
adapted; noise.

Every network starts at 4x4 and doubles its size `stages = log2(resolution) - 2` times, so the 64x64
DCGAN is exactly the published one (ngf = ndf = 64: 512-256-128-64 channels) and smaller images drop
the widest stages. 28x28 images start at 7x7 instead and double twice (7 -> 14 -> 28): the first (and, in
D, the last) layer's kernel is the base size, 7 instead of 4, and nothing else changes, so the networks of
the powers of two (and their checkpoints) are exactly those of before. Generators output in [-1, 1] (tanh);
`to_unit` maps a model's output to [0, 1].
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from playground.errors import PlaygroundError
from playground.latent_paths import latent_path


NET_RESOLUTIONS = (8, 16, 28, 32, 64)


def base_size(resolution: int) -> int:
    """The side of the smallest feature map: 4, or 7 for 28x28 images (7 -> 14 -> 28)."""
    return 7 if resolution == 28 else 4


def stages_for(resolution: int) -> int:
    """How many times the networks double (halve) the feature map between base_size and the image."""
    if resolution not in NET_RESOLUTIONS:
        raise PlaygroundError(f"resolution {resolution} is not possible: choose "
                              f"{', '.join(map(str, NET_RESOLUTIONS))}")
    return int(round(math.log2(resolution / base_size(resolution))))


def dcgan_init(module: nn.Module) -> None:
    """Radford et al.: conv weights ~ N(0, 0.02); batch-norm scale ~ N(1, 0.02), shift 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class DCGANGenerator(nn.Module):
    """z -> 4x4 (transposed conv) -> doubling transposed convs with BN + ReLU -> tanh image.

    `extra_layers` adds 3x3 stride-1 convs with BN + ReLU at half the image's size, before the output layer
    (the `n_extra_layers` of the DCGAN used in the WGAN paper's code): depth that 8x8 images otherwise lack.
    """

    def __init__(self, latent_dim: int, width: int, channels: int, resolution: int, extra_layers: int = 0):
        super().__init__()
        k = stages_for(resolution)
        self.latent_dim, self.channels, self.resolution = latent_dim, channels, resolution
        c = width * 2 ** (k - 1)
        b = base_size(resolution)
        layers: list[nn.Module] = [nn.ConvTranspose2d(latent_dim, c, b, 1, 0, bias=False), nn.BatchNorm2d(c),
                                   nn.ReLU(True)]
        for _ in range(k - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU(True)]
            c //= 2
        for _ in range(extra_layers):
            layers += [nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))


class DCGANDiscriminator(nn.Module):
    """Strided convs with LeakyReLU 0.2; batch norm except at the input (`batch_norm=False`: WGAN-GP critic).

    `extra_layers` adds 3x3 stride-1 convs (+ BN) with LeakyReLU after the first layer, mirroring the generator.
    """

    def __init__(self, width: int, channels: int, resolution: int, batch_norm: bool = True, extra_layers: int = 0):
        super().__init__()
        k = stages_for(resolution)
        c = width
        layers: list[nn.Module] = [nn.Conv2d(channels, c, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        for _ in range(extra_layers):
            layers += [nn.Conv2d(c, c, 3, 1, 1, bias=not batch_norm)]
            if batch_norm:
                layers += [nn.BatchNorm2d(c)]
            layers += [nn.LeakyReLU(0.2, True)]
        for _ in range(k - 1):
            layers += [nn.Conv2d(c, c * 2, 4, 2, 1, bias=not batch_norm)]
            if batch_norm:
                layers += [nn.BatchNorm2d(c * 2)]
            layers += [nn.LeakyReLU(0.2, True)]
            c *= 2
        layers += [nn.Conv2d(c, 1, base_size(resolution), 1, 0, bias=False)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()      # logits (or critic values), one per image


class SNDiscriminator(nn.Module):
    """Miyato et al.'s standard CNN: 3x3 and 4x4/2 convs, LeakyReLU 0.1, spectral norm on every layer."""

    def __init__(self, width: int, channels: int, resolution: int):
        super().__init__()
        k = stages_for(resolution)
        c_in, c = channels, width
        layers: list[nn.Module] = []
        for _ in range(k):
            layers += [spectral_norm(nn.Conv2d(c_in, c, 3, 1, 1)), nn.LeakyReLU(0.1, True),
                       spectral_norm(nn.Conv2d(c, c, 4, 2, 1)), nn.LeakyReLU(0.1, True)]
            c_in, c = c, c * 2
        layers += [spectral_norm(nn.Conv2d(c_in, c, 3, 1, 1)), nn.LeakyReLU(0.1, True)]
        self.features = nn.Sequential(*layers)
        self.linear = spectral_norm(nn.Linear(c * base_size(resolution) ** 2, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x).flatten(1)).flatten()


class ConvVAE(nn.Module):
    """The VAE lab's convolutional VAE (playground.vae.model.VAE with arch="conv" and a Bernoulli decoder),
    given the trainer's interface: forward(x, eps) -> (decoder logits, mu, logvar).

    `width` is the run's d_width: the deepest conv layer gets width * 2^(stages-1) channels, as many as the DCGAN
    generator's widest, and the lab's `hidden` (its fully connected layers) four times that, at most 1024.
    """

    def __init__(self, latent_dim: int, width: int, channels: int, resolution: int):
        super().__init__()
        from playground.vae.config import VAEConfig
        from playground.vae.model import VAE

        k = stages_for(resolution)
        self.latent_dim, self.channels, self.resolution = latent_dim, channels, resolution
        hidden = min(1024, 4 * width * 2 ** (k - 1))           # the lab's own upper bound on `hidden`
        cfg = VAEConfig(arch="conv", decoder="bernoulli", latent_dim=latent_dim, hidden=hidden)
        self.vae = VAE(cfg, (channels, resolution, resolution))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.vae.encode(x)

    def forward(self, x: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(decoder logits, mu, logvar) with the reparameterised z = mu + sigma * eps."""
        mu, logvar = self.vae.encode(x)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.vae.decoder(z, None), mu, logvar


class VAEDecoder(nn.Module):
    """z -> logits: a ConvVAE's decoder as a generator (what sampling and the EMA copy use)."""

    def __init__(self, vae: ConvVAE):
        super().__init__()
        self.latent_dim, self.channels, self.resolution = vae.latent_dim, vae.channels, vae.resolution
        self.decoder = vae.vae.decoder

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z.flatten(1), None)


def build(model: str, *, latent_dim: int, g_width: int, d_width: int, channels: int, resolution: int,
          extra_layers: int = 0) -> dict[str, nn.Module]:
    """The networks of a run by name: {'G', 'D'} for GANs, {'vae'} for the VAE.

    `extra_layers` deepens the generator of every GAN and the DCGAN-style discriminators (dcgan, wgan_gp);
    SNGAN's discriminator has 3x3 convs of its own.
    """
    if model == "vae":
        return {"vae": ConvVAE(latent_dim, d_width, channels, resolution)}
    G = DCGANGenerator(latent_dim, g_width, channels, resolution, extra_layers)
    dcgan_init(G)
    if model == "dcgan":
        D = DCGANDiscriminator(d_width, channels, resolution, batch_norm=True, extra_layers=extra_layers)
        dcgan_init(D)
    elif model == "wgan_gp":
        D = DCGANDiscriminator(d_width, channels, resolution, batch_norm=False, extra_layers=extra_layers)
        dcgan_init(D)
    elif model == "sngan":
        D = SNDiscriminator(d_width, channels, resolution)
    else:
        raise PlaygroundError(f"unknown model {model!r}")
    return {"G": G, "D": D}


def build_for(cfg, channels: int, resolution: int) -> dict[str, nn.Module]:
    """The networks an ImageRunConfig describes, for images of this shape."""
    return build(cfg.model, latent_dim=cfg.latent_dim, g_width=cfg.g_width, d_width=cfg.d_width, channels=channels,
                 resolution=resolution, extra_layers=cfg.extra_layers)


def generator_of(model: str, nets: dict[str, nn.Module]) -> nn.Module:
    """The module that maps noise to images: G, or a view of the VAE's decoder (sharing its weights)."""
    return VAEDecoder(nets["vae"]) if model == "vae" else nets["G"]


def to_unit(model: str, out: torch.Tensor) -> torch.Tensor:
    """A generator's raw output as images in [0, 1]."""
    if model == "vae":
        return torch.sigmoid(out.float())
    return (out.float().clamp(-1, 1) + 1) * 0.5


# ---------------------------------------------- the VAE's loss (GAN objectives: playground.objectives)
def vae_loss(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             kl_weight: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(loss, reconstruction, KL) per image in nats: Bernoulli likelihood of x in [0, 1], N(0, I) prior."""
    rec = F.binary_cross_entropy_with_logits(logits.float(), x.float(), reduction="sum") / x.shape[0]
    kl = 0.5 * (mu.float().pow(2) + logvar.float().exp() - 1.0 - logvar.float()).sum() / x.shape[0]
    return rec + kl_weight * kl, rec, kl


# ------------------------------------------------------------------ noise and latent paths
def noise(n: int, latent_dim: int, generator: torch.Generator, device: torch.device | str = "cpu",
          truncation: float | None = None) -> torch.Tensor:
    """N(0, I) noise; with `truncation` t, each coordinate is redrawn until |z| <= t (the truncation trick)."""
    z = torch.randn(n, latent_dim, generator=generator, device=device)
    if truncation is not None and truncation > 0:
        for _ in range(100):
            bad = z.abs() > truncation
            if not bad.any():
                break
            z = torch.where(bad, torch.randn(n, latent_dim, generator=generator, device=device), z)
        z = z.clamp(-truncation, truncation)
    return z


def interpolate(a: torch.Tensor, b: torch.Tensor, n: int, mode: str = "spherical") -> torch.Tensor:
    """n noise vectors from a to b (spherical keeps the norm typical of Gaussian noise)."""
    return latent_path(a.reshape(-1), b.reshape(-1), torch.linspace(0.0, 1.0, n), mode)
