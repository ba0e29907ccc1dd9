"""The dataset record every loader returns, and the resize / channel helpers they share."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from playground.errors import PlaygroundError

SPLITS = ("train", "test", "all")


@dataclasses.dataclass
class ImageDataset:
    """Images as one float32 tensor (N, C, H, W) in [0, 1], with optional labels and ground-truth factors."""

    name: str
    images: torch.Tensor
    labels: torch.Tensor | None = None
    num_classes: int | None = None
    class_names: list[str] | None = None
    # Ground-truth generative factors (sprites): name -> integer index array (N,), and each factor's
    # number of values and the actual value of each index.
    factors: dict[str, np.ndarray] | None = None
    factor_sizes: dict[str, int] | None = None
    factor_values: dict[str, np.ndarray] | None = None
    split: str = "train"
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.images.ndim != 4:
            raise PlaygroundError(f"{self.name}: images must be (N, C, H, W), got shape {tuple(self.images.shape)}")
        if self.labels is not None and len(self.labels) != len(self.images):
            raise PlaygroundError(f"{self.name}: {len(self.labels)} labels for {len(self.images)} images")

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])

    @property
    def resolution(self) -> int:
        return int(self.images.shape[-1])

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.images.shape[1:])  # type: ignore[return-value]

    def subset(self, index: Any) -> ImageDataset:
        """The same dataset restricted to `index` (a slice, an index array or a boolean mask)."""
        idx = torch.as_tensor(np.arange(len(self))[index])
        np_idx = idx.numpy()
        return dataclasses.replace(
            self,
            images=self.images[idx],
            labels=None if self.labels is None else self.labels[idx],
            factors=None if self.factors is None else {k: v[np_idx] for k, v in self.factors.items()},
            metadata=dict(self.metadata),
        )

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "split": self.split, "size": len(self), "channels": self.channels,
                "resolution": self.resolution, "num_classes": self.num_classes,
                "factors": list(self.factor_sizes) if self.factor_sizes else None}


def resize_images(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """Square images (N, C, H, W) to (N, C, resolution, resolution): centre-crop to square, then resize.

    Downscaling uses anti-aliased bilinear interpolation; values stay in [0, 1].
    """
    n, c, h, w = images.shape
    if h != w:
        s = min(h, w)
        top, left = (h - s) // 2, (w - s) // 2
        images = images[:, :, top:top + s, left:left + s]
    if images.shape[-1] == resolution:
        return images
    out = []
    for start in range(0, n, 2048):  # bounded peak memory
        chunk = images[start:start + 2048]
        out.append(F.interpolate(chunk, size=(resolution, resolution), mode="bilinear",
                                 align_corners=False, antialias=True))
    return torch.cat(out).clamp_(0.0, 1.0) if out else images.new_zeros((0, c, resolution, resolution))


LUMA = (0.299, 0.587, 0.114)


def to_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """Grey (1) <-> RGB (3): grey is repeated, colour becomes luminance."""
    c = images.shape[1]
    if channels == c:
        return images
    if channels == 3 and c == 1:
        return images.repeat(1, 3, 1, 1)
    if channels == 1 and c == 3:
        w = torch.tensor(LUMA, dtype=images.dtype).view(1, 3, 1, 1)
        return (images * w).sum(1, keepdim=True)
    raise PlaygroundError(f"cannot convert {c}-channel images to {channels} channels (use 1 or 3)")


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise PlaygroundError(f"split {split!r} is not one of {', '.join(SPLITS)}")
    return split


def holdout_split(n: int, split: str, test_fraction: float = 0.1, seed: int = 0) -> np.ndarray:
    """Indices of a fixed, seeded train/test partition of n items (test gets `test_fraction`, at least 1)."""
    perm = np.random.default_rng(seed).permutation(n)
    n_test = max(1, round(n * test_fraction)) if n >= 2 else 0
    if split == "all":
        return np.arange(n)
    idx = perm[:n_test] if split == "test" else perm[n_test:]
    return np.sort(idx)
