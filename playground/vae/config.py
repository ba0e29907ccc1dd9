"""VAEConfig: one dataclass for the CLI flags, the page's widgets, run directories and checkpoints."""

from __future__ import annotations

import dataclasses
from typing import Literal

from playground.configs import spec
from playground.errors import PlaygroundError

Dataset = Literal["digits", "sprites", "mnist5k", "mnist", "fashion_mnist", "cifar10", "folder", "npz"]


@dataclasses.dataclass(frozen=True)
class VAEConfig:
    RENAMED = {"latent": "latent_dim", "beta": "kl_weight"}   # one vocabulary across configs (README)

    dataset: Dataset = spec("digits", "training data: built-in digits/sprites/mnist5k (real 28x28 MNIST, in a wheel), "
                                          "torchvision sets, a folder or .npz")
    data_path: str = spec("data", "folder holding torchvision sets, or the image folder / .npz file")
    resolution: int = spec(0, "resize images to this side in pixels (0 = the dataset's own)", lo=0, hi=64)
    colour: bool = spec(False, "colour images (3 channels; sprites get a colour factor)")
    train_size: int = spec(0, "use at most this many training images (0 = all; sprites: generate this many)",
                           lo=0, hi=200_000, label="training images")
    arch: Literal["mlp", "conv"] = spec("mlp", "encoder/decoder architecture", label="architecture")
    hidden: int = spec(128, "width of the hidden layers (conv: the deepest conv layer has a quarter as many channels)",
                       lo=8, hi=1024)
    latent_dim: int = spec(2, "number of latent dimensions", lo=2, hi=64, label="latent dimensions")
    decoder: Literal["bernoulli", "gaussian"] = spec(
        "bernoulli", "likelihood p(x|z): Bernoulli per pixel, or Gaussian with a learned variance per pixel")
    kl_weight: float = spec(1.0, "weight of the KL term (1 = VAE, >1 = beta-VAE)", lo=0.0, hi=100.0, label="β")
    conditional: bool = spec(False, "feed the class label to encoder and decoder (conditional VAE)")
    epochs: int = spec(50, "passes over the training set", lo=0, hi=10_000)
    batch_size: int = spec(128, "images per step", lo=1, hi=4096)
    lr: float = spec(1e-3, "Adam learning rate", lo=1e-6, hi=1.0, log=True, label="learning rate")
    seed: int = spec(0, "seed of the weights, batches, sprites and sampling", lo=0, hi=2**31 - 1)
    iwae_k: int = spec(64, "importance samples for the IWAE bound in evaluation", lo=1, hi=5000,
                       label="IWAE samples K")

    def validate(self) -> None:
        if self.dataset in ("folder", "npz") and not self.data_path:
            raise PlaygroundError(f"dataset={self.dataset} needs data_path (the {self.dataset} to read)")
        if self.arch == "conv" and self.resolution and self.resolution < 4:
            raise PlaygroundError("the conv architecture needs images of at least 4x4 pixels")

    def data_kwargs(self, split: str = "train") -> dict:
        """Arguments for playground.data.load_dataset."""
        size = self.train_size or None
        if split == "test":
            size = None
        kw = {"split": split, "resolution": self.resolution or None, "seed": self.seed, "size": size,
              "channels": 3 if self.colour else None}
        if self.dataset in ("folder", "npz"):
            kw["path"] = self.data_path
        elif self.dataset not in ("digits", "sprites", "mnist5k"):
            kw["data_path"] = self.data_path
        if self.dataset == "sprites":  # sprites are generated from a data seed that does not move with the model seed
            kw["seed"] = 0
        return kw


# Named starting points: the VAE lab's training form opens on "sprites_bvae"; `vae train --preset NAME` starts
# from the same settings (flags override them).
PRESETS: dict[str, VAEConfig] = {
    "sprites_bvae": VAEConfig(dataset="sprites", kl_weight=4.0, latent_dim=8, epochs=20, train_size=3000, iwae_k=16),
}
