"""The images a run trains on: loaded at the run's resolution and kept on the training device as one tensor.

Batches are drawn by index with the step's own generator (see trainer.py), so the draw of step t does not
depend on what came before it: a resumed run sees exactly the batches the uninterrupted run saw.
"""

from __future__ import annotations

import torch

from playground.errors import PlaygroundError
from playground.images.config import ImageRunConfig, resolve_resolution

BIG = 50_000_000        # elements above which the images live on the device as uint8 (4x smaller)


def load_training_data(cfg: ImageRunConfig, split: str = "train", resolution: int | None = None):
    from playground.data import load_dataset

    ds = load_dataset(cfg.dataset, split=split, resolution=resolution, data_path=cfg.data_path, seed=0)
    if len(ds) < 2:
        raise PlaygroundError(f"dataset {cfg.dataset} has {len(ds)} image(s) in split {split}; need at least 2")
    return ds


def as_trained(cfg: ImageRunConfig, images: torch.Tensor) -> torch.Tensor:
    """Images as a run trains on them: {0, 1} pixels for a run on bits (pixelcnn, a binarised vae), else as
    they are. Anything compared with the run's samples (scores, nearest neighbours) goes through this."""
    if not cfg.binarized:
        return images
    from playground.images.pixelcnn import binarize

    return binarize(images)


def load_at_run_resolution(cfg: ImageRunConfig):
    """The training split at the config's resolution (the dataset's own, rounded to 8..64, by default)."""
    native = load_training_data(cfg)
    res = resolve_resolution(cfg.resolution, native.resolution)
    return native if native.resolution == res else load_training_data(cfg, resolution=res)


class TrainingImages:
    """A dataset's images in [0, 1] on `device` (memory format as training wants), drawn as batches by index."""

    def __init__(self, dataset, cfg: ImageRunConfig, device: torch.device, memory_format: torch.memory_format):
        self.resolution = resolve_resolution(cfg.resolution, int(dataset.images.shape[-1]))
        images = dataset.images
        if images.shape[-1] != self.resolution or images.shape[-2] != self.resolution:
            from playground.data import resize_images

            images = resize_images(images, self.resolution)
        images = as_trained(cfg, images)                 # pixelcnn (and a binarised vae) see {0, 1} pixels
        self.channels = int(images.shape[1])
        self.n = int(images.shape[0])
        self.reference = images                          # [0, 1], CPU: the scores' reference set
        labels = getattr(dataset, "labels", None)
        self.num_classes = getattr(dataset, "num_classes", None) or (
            int(labels.max()) + 1 if labels is not None and len(labels) else None)
        self.labels = labels.long().to(device) if labels is not None else None
        self.uint8 = images.numel() > BIG
        data = (images * 255).round().to(torch.uint8) if self.uint8 else images.float()
        self.data = data.to(device).contiguous(memory_format=memory_format)
        self.device, self.memory_format = device, memory_format

    def batch(self, n: int, generator: torch.Generator, unit: bool = False) -> torch.Tensor:
        """n images drawn with replacement, in [-1, 1] (GANs) or [0, 1] (`unit`: the VAE's Bernoulli targets,
        pixelcnn's bits, the denoisers' data)."""
        return self.labelled_batch(n, generator, unit)[0]

    def labelled_batch(self, n: int, generator: torch.Generator, unit: bool = False
                       ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(images, their class labels or None): the same draw as `batch`."""
        idx = torch.randint(0, self.n, (n,), generator=generator, device=self.device)
        x = self._images(idx, unit)
        return x, (self.labels[idx] if self.labels is not None else None)

    def _images(self, idx: torch.Tensor, unit: bool) -> torch.Tensor:
        x = self.data[idx]
        x = x.float() / 255.0 if self.uint8 else x
        if not unit:
            x = x * 2.0 - 1.0
        return x.contiguous(memory_format=self.memory_format)
