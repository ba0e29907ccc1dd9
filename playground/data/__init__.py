"""Image datasets as tensors: built-in `digits` and procedural `sprites`, torchvision sets, image folders, npz.

    from playground.data import load_dataset
    ds = load_dataset("digits", split="train")        # ds.images: (N, 1, 8, 8) float32 in [0, 1]
    ds = load_dataset("sprites", size=2000, seed=3)     # ds.factors: ground-truth factor indices
"""

from playground.data.base import ImageDataset, resize_images, to_channels
from playground.data.registry import BUILTIN, DATASETS, load_dataset

__all__ = ["BUILTIN", "DATASETS", "ImageDataset", "load_dataset", "resize_images", "to_channels"]
