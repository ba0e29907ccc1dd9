"""Disturbances of real images at a strength s in [0, 1], and the FID / IS curve they trace ("what the scores see").

Each disturbance maps images (N, C, H, W) in [0, 1] to images of the same shape in [0, 1]; strength 0 is the
identity. The curve scores the disturbed *test* images against the *training* images in the dataset
classifier's features, the experiment from the lectures (Heusel et al. 2017, fig. 1, with the dataset's own
classifier in place of Inception: the labels say so).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import torch
import torch.nn.functional as F

from playground.errors import PlaygroundError
from playground.images.inception_score import inception_score
from playground.images.metrics import fid_from_features


def _check(s: float) -> float:
    s = float(s)
    if not 0.0 <= s <= 1.0:
        raise PlaygroundError(f"disturbance strength must be in [0, 1], got {s}")
    return s


def gaussian_noise(x: torch.Tensor, s: float, gen: torch.Generator, labels=None) -> torch.Tensor:
    """Add N(0, (0.5 s)^2) to every pixel, clipped to [0, 1]."""
    return (x + 0.5 * s * torch.randn(x.shape, generator=gen)).clamp(0, 1)


def blur(x: torch.Tensor, s: float, gen: torch.Generator | None = None, labels=None) -> torch.Tensor:
    """Gaussian blur with sigma = s * side / 8 pixels (a normalised non-negative kernel keeps the range)."""
    sigma = s * x.shape[-1] / 8
    if sigma < 1e-3:
        return x.clone()
    r = max(1, math.ceil(3 * sigma))
    t = torch.arange(-r, r + 1, dtype=x.dtype)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    # separable: rows then columns, reflecting at the border so edges do not darken
    y = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    y = F.conv2d(F.pad(y, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
    return y.clamp(0, 1)


def salt_and_pepper(x: torch.Tensor, s: float, gen: torch.Generator, labels=None) -> torch.Tensor:
    """A fraction s/2 of pixels (whole pixels, all channels) set to black and s/2 to white."""
    n, _, h, w = x.shape
    u = torch.rand((n, 1, h, w), generator=gen)
    y = x.clone()
    y = torch.where(u < s / 2, torch.zeros_like(y), y)
    return torch.where((u >= s / 2) & (u < s), torch.ones_like(y), y)


def swirl(x: torch.Tensor, s: float, gen: torch.Generator | None = None, labels=None) -> torch.Tensor:
    """Rotate each pixel about the centre by angle 1.5 s pi exp(-r / 0.5) (r in half-widths): a vortex; bilinear
    sampling takes convex combinations, so the range is kept."""
    if s == 0:
        return x.clone()
    n, _, h, w = x.shape
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    r = torch.sqrt(xx ** 2 + yy ** 2)
    theta = torch.atan2(yy, xx) + 1.5 * s * math.pi * torch.exp(-r / 0.5)
    grid = torch.stack([r * torch.cos(theta), r * torch.sin(theta)], -1).to(x.dtype)
    return F.grid_sample(x, grid.expand(n, h, w, 2), mode="bilinear", padding_mode="border",
                         align_corners=True).clamp(0, 1)


def drop_classes(x: torch.Tensor, s: float, gen: torch.Generator, labels: torch.Tensor | None = None
                 ) -> torch.Tensor:
    """Mode dropping: round(s (K - 1)) of the K classes vanish; their images are replaced by images drawn from the
    kept classes, so the set keeps its size."""
    if labels is None:
        raise PlaygroundError("dropping classes needs a labelled dataset")
    classes = torch.unique(labels)
    k = len(classes)
    n_drop = round(s * (k - 1))
    if n_drop == 0:
        return x.clone()
    dropped = classes[torch.randperm(k, generator=gen)[:n_drop]]
    gone = torch.isin(labels, dropped)
    kept = torch.nonzero(~gone).flatten()
    y = x.clone()
    y[gone] = x[kept[torch.randint(len(kept), (int(gone.sum()),), generator=gen)]]
    return y


def repeat_one(x: torch.Tensor, s: float, gen: torch.Generator, labels=None) -> torch.Tensor:
    """Mode collapse: a random fraction s of the images become copies of one image (the first)."""
    m = round(s * (len(x) - 1))
    y = x.clone()
    if m:
        idx = torch.randperm(len(x) - 1, generator=gen)[:m] + 1
        y[idx] = x[0]
    return y


Disturbance = Literal["gaussian_noise", "blur", "salt_and_pepper", "swirl", "drop_classes", "repeat_one"]
DISTURBANCES: dict[str, Callable] = {
    "gaussian_noise": gaussian_noise, "blur": blur, "salt_and_pepper": salt_and_pepper, "swirl": swirl,
    "drop_classes": drop_classes, "repeat_one": repeat_one,
}
TITLES = {"gaussian_noise": "Gaussian noise", "blur": "blur", "salt_and_pepper": "salt and pepper",
          "swirl": "swirl", "drop_classes": "dropping classes", "repeat_one": "repeating one image"}


def disturb(images: torch.Tensor, kind: str, strength: float, seed: int = 0,
            labels: torch.Tensor | None = None) -> torch.Tensor:
    """`images` disturbed by `kind` at `strength` in [0, 1] (0: a copy of the input), seeded."""
    if kind not in DISTURBANCES:
        raise PlaygroundError(f"unknown disturbance {kind!r}; choose one of {', '.join(DISTURBANCES)}")
    s = _check(strength)
    if s == 0:
        return images.clone()
    return DISTURBANCES[kind](images.float(), s, torch.Generator().manual_seed(seed), labels=labels)


def score_curve(test_images: torch.Tensor, train_features: torch.Tensor, extractor, kind: str,
                strengths: Sequence[float], *, labels: torch.Tensor | None = None, seed: int = 0,
                progress: Callable[[int, int], None] | None = None) -> dict:
    """FID (disturbed test vs training, in the extractor's features) and IS (the extractor's classifier) per
    strength. Returns {"kind", "strengths", "fid", "is", "is_std", "fid_features", "is_features"}."""
    strengths = [_check(s) for s in strengths]
    if not strengths:
        raise PlaygroundError("give at least one strength")
    if len(test_images) < 2:
        raise PlaygroundError("need at least two test images to score")
    out = {"kind": kind, "strengths": strengths, "fid": [], "is": [], "is_std": [],
           "fid_features": extractor.label}
    for i, s in enumerate(strengths):
        y = disturb(test_images, kind, s, seed=seed, labels=labels)
        out["fid"].append(fid_from_features(train_features, extractor(y)))
        sc = inception_score(extractor, y)
        out["is"].append(sc["is"])
        out["is_std"].append(sc["is_std"])
        out["is_features"] = sc["is_features"]
        if progress:
            progress(i + 1, len(strengths))
    return out
