"""The image a VAE view looks at, a test image or a user's picture, and the test images worth computing behind it:
one definition for the inference page, the VAE lab's Encode view and the `vae encode|posterior|amortise|gradients|
outlier` commands."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch

from playground.configs import spec
from playground.vae.latent import image_input
from playground.vae.posterior import DEFAULT_GRID, test_image

MAX_UPLOAD = 2_000_000        # bytes of a picture uploaded to the page
View = Literal["posterior", "amortisation", "compare", "gradients", "aggregate", "outlier"]
VIEW_LABELS = {"posterior": "Posterior", "amortisation": "Amortisation gap", "compare": "AE vs VAE vs PCA",
               "gradients": "Gradient estimators", "aggregate": "Aggregate posterior", "outlier": "Outlier score"}
GRIDS = (50, 75, 100, 150, 200)     # the page's choices of posterior grid (the CLI takes any size in 16..1000)


@dataclass
class InspectorConfig:
    """What the VAE inference page looks at: its URL (a shared link opens the same image and view), its widgets
    and the `vae posterior|amortise|gradients|outlier|encode` flags of the same names."""
    model: str = spec("", "the 2-latent VAE: a shipped model's name or a run (empty: mnist5k-2d, else digits-2d)")
    index: int = spec(0, "test image", lo=0, hi=1_000_000)
    view: View = spec("posterior", "the view: " + ", ".join(VIEW_LABELS))
    grid: int = spec(DEFAULT_GRID, "cells per side of the latent grid of the posterior", lo=16, hi=1000)
    log: bool = spec(False, "the posterior's heatmap in log density")


class Pick(NamedTuple):
    """The image the views look at: a test image or an upload."""
    x: torch.Tensor     # (1, C, H, W) in [0, 1]
    y: int | None       # its class for a conditional model (an upload is given class 0), else None
    key: tuple          # names it in the memo of reports: ("test", index) or ("upload", sha256, inverted)
    where: str          # names it in captions
    inverted: bool = False


def test_pick(model, test, index: int) -> Pick:
    x, y = test_image(model, test, index)
    return Pick(x, y, ("test", int(index)), f"test image #{int(index)}")


def looks_inverted(x: torch.Tensor) -> bool:
    """Dark strokes on light paper: mostly bright, where the training digits are light strokes on black."""
    return float(x.mean()) > 0.5


def upload_pick(model, data: bytes, name: str, invert: bool | None = None, max_bytes: int = MAX_UPLOAD,
                label: int = 0) -> Pick:
    """A user's picture (bounded; PlaygroundError if unreadable) as the model's input, inverted when `invert`
    says so or, by default (None), when it looks inverted; class `label` for a conditional model."""
    x = image_input(model, data, max_bytes)
    inv = looks_inverted(x) if invert is None else bool(invert)
    return Pick(1.0 - x if inv else x, int(label) if model.num_classes else None,
                ("upload", hashlib.sha256(data).hexdigest(), inv), f"upload {name}", inv)


def neighbours(pick: Pick, count: int) -> list[int]:
    """The test images beside a test pick (next, then previous) in 0..count-1: the likely next choices."""
    if pick.key[0] != "test":
        return []
    i = pick.key[1]
    return [j for j in (i + 1, i - 1) if 0 <= j < count]


def near(key: tuple, image: tuple) -> bool:
    """A guess worth finishing while `image` is on screen: for this image or a test image beside it."""
    return key == image or (key[0] == image[0] == "test" and abs(key[1] - image[1]) <= 1)


def linked_model(sources, cfg: InspectorConfig) -> tuple[str, str | None]:
    """The model label a link names among `sources` (labels), else the default (mnist5k-2d, digits-2d, the
    first), and the problem to report when the link named one that is not there."""
    from playground.vae.sources import find

    label = find(sources, cfg.model or None) or find(sources, "mnist5k-2d") or find(sources, "digits-2d") \
        or next(iter(sources))
    return label, (f"model {cfg.model!r} is not a 2-latent VAE found here"
                   if cfg.model and not find(sources, cfg.model) else None)


def linked_index(cfg: InspectorConfig, test_images: int) -> tuple[int, str | None]:
    """The test image a link names, within the model's `test_images`, and the problem when it was beyond."""
    if cfg.index < test_images:
        return cfg.index, None
    return test_images - 1, f"test image {cfg.index}: this model has {test_images} (0 to {test_images - 1})"


def nearest_grid(grid: int) -> int:
    """The page's grid choice (GRIDS) nearest a requested size."""
    return min(GRIDS, key=lambda g: abs(g - grid))
