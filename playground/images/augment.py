"""Differentiable augmentation of every image a GAN's discriminator sees (DiffAugment, Zhao et al. 2020).

With a few thousand training images D memorises them and stops teaching G. Transforming real AND fake
images the same random way before D, with gradients flowing through the transform to G, keeps D from fitting
the particular pixels while G still learns the untransformed distribution: the transforms are applied to both
sides, so the optimum is unchanged (p_g = p_data implies T(p_g) = T(p_data)). Each image gets its own draw.

- translation: shift by whole pixels, up to `ratio` of the side each way, filling with the background;
- cutout: one square of half the side, at a random place, set to the background.

Images are in G's range [-1, 1]; the background is -1 (black paper, as in MNIST). Randomness comes only from
the generator passed in (the trainer's per-step generator), so a resumed run repeats the same draws.
"""

from __future__ import annotations

import torch

POLICIES = ("none", "translation", "cutout", "translation_cutout")
BACKGROUND = -1.0


def translate(x: torch.Tensor, generator: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    """Each image shifted by (dy, dx), integers in [-r, r], r = round(ratio * side); uncovered pixels are the
    background. Indexing, so the gradient reaches every pixel that stays in view."""
    n, _, h, w = x.shape
    ry, rx = int(round(ratio * h)), int(round(ratio * w))
    if ry == 0 and rx == 0:
        return x
    dy = torch.randint(-ry, ry + 1, (n, 1, 1), generator=generator, device=generator.device).to(x.device)
    dx = torch.randint(-rx, rx + 1, (n, 1, 1), generator=generator, device=generator.device).to(x.device)
    padded = torch.nn.functional.pad(x, (rx, rx, ry, ry), value=BACKGROUND)
    # output pixel (i, j) of image b reads padded pixel (i + ry - dy, j + rx - dx): the image moved by (dy, dx)
    iy = torch.arange(h, device=x.device).view(1, h, 1) + ry - dy
    ix = torch.arange(w, device=x.device).view(1, 1, w) + rx - dx
    b = torch.arange(n, device=x.device).view(n, 1, 1)
    # gathered as (N, H, W, C) and viewed back as NCHW: channels-last memory, what the trainer uses on CUDA
    return padded.permute(0, 2, 3, 1)[b, iy, ix].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, generator: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    """Each image with one square of side round(ratio * side) set to the background; its centre is uniform
    over the image (the square may hang over the edge)."""
    n, _, h, w = x.shape
    sh, sw = int(round(ratio * h)), int(round(ratio * w))
    cy = torch.randint(0, h, (n, 1, 1), generator=generator, device=generator.device).to(x.device)
    cx = torch.randint(0, w, (n, 1, 1), generator=generator, device=generator.device).to(x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1) - cy
    cols = torch.arange(w, device=x.device).view(1, 1, w) - cx
    inside = (rows >= -(sh // 2)) & (rows < sh - sh // 2) & (cols >= -(sw // 2)) & (cols < sw - sw // 2)
    return torch.where(inside[:, None], torch.full_like(x, BACKGROUND), x)


def augment(x: torch.Tensor, policy: str, generator: torch.Generator) -> torch.Tensor:
    """x transformed by `policy` (one of POLICIES), a fresh draw per image."""
    if policy in ("translation", "translation_cutout"):
        x = translate(x, generator)
    if policy in ("cutout", "translation_cutout"):
        x = cutout(x, generator)
    return x


def augmented(D, policy: str, generator: torch.Generator):
    """D judging augmented images (D itself when the policy is none): what every D call of a GAN step uses."""
    if policy == "none":
        return D
    return lambda x, *rest: D(augment(x, policy, generator), *rest)
