"""The image model families: which networks a run builds, which module samples, and how it draws images.

A run's `model` names a family (config.FAMILY): gan (dcgan, wgan_gp, sngan, cgan), vae, pixelcnn, or denoiser
(diffusion, flow_matching). The trainer, the sampler loading and the scores read the family's record instead of
comparing model names. The training steps are in steps.py; this module has no optimiser state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from playground.errors import PlaygroundError
from playground.images import models as M

CHUNK = 500            # images per forward pass when drawing many


@dataclass(frozen=True)
class Family:
    """What differs between families. `net_key` names the trained module in `nets` that the sampler is (or is
    a view of: the VAE's decoder); `has_latent`: images are a deterministic function of Gaussian noise z, so
    interpolation, truncation and latent arithmetic apply; `grid`: images in an unconditional sample grid
    (a conditional grid has `grid_cols` per class)."""

    name: str
    net_key: str
    has_latent: bool
    grid: int
    grid_cols: int
    likelihood: bool          # an exact log-likelihood (pixelcnn) to report on the test split


FAMILIES = {
    "gan": Family("gan", "G", True, 64, 8, False),
    "vae": Family("vae", "vae", True, 64, 8, False),
    "pixelcnn": Family("pixelcnn", "pixelcnn", False, 16, 2, True),      # 784 sequential steps per draw at 28 px
    "denoiser": Family("denoiser", "denoiser", False, 64, 8, False),
}


def family_of(cfg) -> Family:
    return FAMILIES[cfg.family]


def build(cfg, channels: int, resolution: int, num_classes: int | None) -> dict[str, nn.Module]:
    """The networks a config describes for images of this shape (num_classes: the dataset's, if it is labelled)."""
    k = num_classes if cfg.is_conditional else None
    if cfg.is_conditional and not num_classes:
        raise PlaygroundError(f"{cfg.model} with class labels needs a labelled dataset; {cfg.dataset} has no labels")
    if cfg.model == "cgan":
        from playground.images.cgan import build_cgan

        return build_cgan(latent_dim=cfg.latent_dim, g_width=cfg.g_width, d_width=cfg.d_width, channels=channels,
                          resolution=resolution, num_classes=k, extra_layers=cfg.extra_layers)
    if cfg.model == "pixelcnn":
        from playground.images.pixelcnn import PixelCNN

        if channels != 1:
            raise PlaygroundError(f"pixelcnn models one-channel (grey) images; {cfg.dataset} has {channels} channels")
        return {"pixelcnn": PixelCNN(cfg.pixelcnn_width, cfg.pixelcnn_blocks, num_classes=k, maps=cfg.pixelcnn_maps,
                                      size=resolution)}
    if cfg.family == "denoiser":
        from playground.images.diffusion import build_image_model

        opts = ({"timesteps": cfg.timesteps, "schedule": cfg.schedule, "sampler": cfg.sampler}
                if cfg.model == "diffusion" else {"solver": cfg.solver})
        return {"denoiser": build_image_model(cfg.model, channels=channels, resolution=resolution,
                                              width=cfg.unet_width, mults=tuple(cfg.unet_mults),
                                              blocks=cfg.unet_blocks, num_classes=k,
                                              sample_steps=cfg.sample_steps, **opts)}
    return M.build_for(cfg, channels, resolution)


def sampler_of(cfg, nets: dict[str, nn.Module]) -> nn.Module:
    """The module that draws images (the EMA copies it): G, the VAE's decoder, the PixelCNN or the denoiser."""
    return M.generator_of(cfg.model, nets) if cfg.model == "vae" else nets[family_of(cfg).net_key]


def balanced_labels(n: int, num_classes: int) -> torch.Tensor:
    """Classes 0, 1, ..., K-1, 0, 1, ... for n generated images: every class equally often (scores, grids)."""
    return torch.arange(n) % num_classes


def grid_layout(cfg, num_classes: int | None) -> tuple[int, int, torch.Tensor | None]:
    """(rows, columns, labels) of a run's fixed sample grid: for a conditional model one row per class."""
    fam = family_of(cfg)
    if cfg.is_conditional and num_classes:
        labels = torch.arange(num_classes).repeat_interleave(fam.grid_cols)
        return num_classes, fam.grid_cols, labels
    side = int(round(fam.grid ** 0.5))
    return side, side, None


@torch.no_grad()
def latent_images(cfg, net: nn.Module, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """Images in [0, 1] (CPU) of a latent model (GAN or VAE decoder) from noise z (and classes, if conditional)."""
    dev = next(net.parameters()).device
    out = []
    for i in range(0, len(z), CHUNK):
        zi = z[i:i + CHUNK].to(dev)
        raw = net(zi, labels[i:i + CHUNK].to(dev)) if labels is not None else net(zi)
        out.append(M.to_unit(cfg.model, raw).cpu())
    return torch.cat(out) if out else torch.zeros(0)


@torch.no_grad()
def draw(cfg, net: nn.Module, n: int, generator: torch.Generator, labels: torch.Tensor | None = None,
         steps: int | None = None, resolution: int | None = None,
         progress: Callable[[int, int], None] | None = None) -> torch.Tensor:
    """n images in [0, 1] (CPU) from the sampling module, with randomness from `generator` (a CPU one).

    Latent models draw their noise first (the same z for the same seed, whatever else changes); pixelcnn and
    the denoisers draw inside their samplers. `steps`: the denoisers' sampling steps (default: the config's);
    `progress(images done, n)` is called as the drawing goes (for pixelcnn after every row of pixels)."""
    fam = family_of(cfg)
    if fam.has_latent:
        return latent_images(cfg, net, M.noise(n, cfg.latent_dim, generator), labels)
    out = []
    for i in range(0, n, CHUNK):
        k = min(CHUNK, n - i)
        y = None if labels is None else labels[i:i + k].to(next(net.parameters()).device)
        if fam.name == "pixelcnn":        # one pixel at a time: report progress row by row
            size = int(resolution)
            for done, images in net.sampling_states(k, size, generator, y=y, every=size):
                if progress is not None:
                    progress(i + k * done // (size * size), n)
            out.append(images)
        else:
            out.append(net.sample(k, generator, steps=steps, y=y).cpu())
            if progress is not None:
                progress(i + k, n)
    return torch.cat(out)
