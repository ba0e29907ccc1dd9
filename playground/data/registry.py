"""`load_dataset(name, ...)`: one entry point for every image dataset the playground knows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from playground.data import sprites as sprites_mod
from playground.data.base import ImageDataset, check_split, holdout_split, resize_images, to_channels
from playground.errors import PlaygroundError

BUILTIN = ("digits", "sprites", "mnist5k")         # always available, no files needed (mnist5k: in a wheel)
TORCHVISION = ("mnist", "fashion_mnist", "cifar10", "celeba")
USER = ("folder", "npz")
DATASETS = BUILTIN + TORCHVISION + USER

DIGITS_TEST = 300            # fixed split of sklearn's 1,797 digits: 1,497 train / 300 test
SPRITES_SIZE = {"train": 6000, "test": 1000}
MAX_SIZE = 200_000
MAX_RESOLUTION = 256


def load_dataset(name: str, split: str = "train", resolution: int | None = None, data_path: str | Path = "data",
                 seed: int = 0, size: int | None = None, channels: int | None = None, download: bool = False,
                 path: str | Path | None = None) -> ImageDataset:
    """Load `name` as an ImageDataset (images float32 (N, C, H, W) in [0, 1]).

    name: digits | sprites | mnist5k | mnist | fashion_mnist | cifar10 | celeba | folder | npz.
    mnist5k: 28x28 natively; resolution 32 pads it with 2 black pixels a side (see data/mnist5k.py).
    split: train | test | all. resolution: resize (square) to this side. size: at most this many images
    (sprites: exactly this many, generated from `seed`). channels: 1 or 3 (sprites: 3 turns colour on).
    data_path: folder holding torchvision sets. path: the folder or .npz file for `folder` / `npz`
    (defaults to data_path).
    """
    if name not in DATASETS:
        raise PlaygroundError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    check_split(split)
    if resolution is not None and not (2 <= int(resolution) <= MAX_RESOLUTION):
        raise PlaygroundError(f"resolution {resolution} is outside 2..{MAX_RESOLUTION}")
    if size is not None and not (1 <= int(size) <= MAX_SIZE):
        raise PlaygroundError(f"size {size} is outside 1..{MAX_SIZE}")
    if channels is not None and channels not in (1, 3):
        raise PlaygroundError(f"channels must be 1 or 3, got {channels}")
    if name == "sprites":
        ds = _sprites(split, resolution or 32, seed, size, colour=channels == 3)
        return ds
    if name == "digits":
        ds = _digits(split)
    elif name == "mnist5k":
        from playground.data import mnist5k

        ds = mnist5k.load(split, resolution)
    elif name in TORCHVISION:
        from playground.data.torchvision_sets import load_torchvision

        images, labels, names = load_torchvision(name, split, data_path, download=download, size=size, seed=seed,
                                                 resolution=resolution)
        ds = ImageDataset(name=name, images=images, labels=labels, class_names=names,
                          num_classes=len(names) if names else None, split=split,
                          metadata={"data_path": str(Path(data_path).resolve())})
    elif name == "folder":
        from playground.data.files import load_folder

        where = Path(path or data_path)
        images, labels, names, skipped, files = load_folder(where, resolution or 64, channels or 3)
        ds = ImageDataset(name="folder", images=images, labels=labels, class_names=names,
                          num_classes=len(names) if names else None, split="all",
                          metadata={"path": str(where), "skipped": skipped, "files": files})
        ds = _holdout(ds, split)
    else:  # npz
        from playground.data.files import load_npz

        where = Path(path or data_path)
        images, labels = load_npz(where)
        nc = int(labels.max()) + 1 if labels is not None and len(labels) else None
        ds = ImageDataset(name="npz", images=images, labels=labels, num_classes=nc, split="all",
                          metadata={"path": str(where)})
        ds = _holdout(ds, split)
    if size is not None and size < len(ds) and name not in TORCHVISION:
        idx = np.sort(np.random.default_rng(seed).choice(len(ds), size, replace=False))
        ds = ds.subset(idx)
    if channels is not None and channels != ds.channels:
        ds.images = to_channels(ds.images, channels)
    if resolution is not None and (ds.images.shape[-1] != resolution or ds.images.shape[-2] != resolution):
        ds.images = resize_images(ds.images, int(resolution))
    elif ds.images.shape[-1] != ds.images.shape[-2]:
        ds.images = resize_images(ds.images, min(ds.images.shape[-2:]))
    ds.images = ds.images.contiguous()
    return ds


def _holdout(ds: ImageDataset, split: str) -> ImageDataset:
    if split == "all":
        return ds
    out = ds.subset(holdout_split(len(ds), split))
    out.split = split
    return out


def _digits(split: str) -> ImageDataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    images = torch.from_numpy((d.images / 16.0).astype(np.float32))[:, None]
    labels = torch.from_numpy(d.target.astype(np.int64))
    perm = np.random.default_rng(0).permutation(len(images))  # fixed, whatever the caller's seed
    idx = {"test": perm[:DIGITS_TEST], "train": perm[DIGITS_TEST:], "all": np.arange(len(images))}[split]
    idx = torch.from_numpy(np.sort(idx))
    return ImageDataset(name="digits", images=images[idx], labels=labels[idx], num_classes=10,
                        class_names=[str(i) for i in range(10)], split=split)


def _sprites(split: str, resolution: int, seed: int, size: int | None, colour: bool) -> ImageDataset:
    if split == "all":
        a = _sprites("train", resolution, seed, size, colour)
        b = _sprites("test", resolution, seed, None if size is None else max(1, size // 6), colour)
        ds = ImageDataset(name="sprites", images=torch.cat([a.images, b.images]),
                          labels=torch.cat([a.labels, b.labels]),
                          num_classes=a.num_classes, class_names=a.class_names,
                          factors={k: np.concatenate([a.factors[k], b.factors[k]]) for k in a.factors},
                          factor_sizes=a.factor_sizes, factor_values=a.factor_values, split="all",
                          metadata=a.metadata)
        return ds
    n = size if size is not None else SPRITES_SIZE[split]
    images, factors = sprites_mod.generate(n, seed=seed, resolution=resolution, colour=colour,
                                           stream=0 if split == "train" else 1)
    values = sprites_mod.factor_values(colour)
    return ImageDataset(
        name="sprites", images=torch.from_numpy(images), labels=torch.from_numpy(factors["shape"].copy()),
        num_classes=len(sprites_mod.SHAPES), class_names=list(sprites_mod.SHAPES), factors=factors,
        factor_sizes={k: len(v) for k, v in values.items()}, factor_values=values, split=split,
        metadata={"seed": seed, "colour": colour})
