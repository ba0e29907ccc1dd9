"""The GAN family: the GAN lab's engine (`playground.toy.trainer.ToyGAN`) behind the FamilyModel interface.

Nothing of the GAN step loop is repeated here: the family's config fills a ToyConfig (target fields, seed,
batch size, objective; every other setting keeps the GAN lab's default) and each training step is one ToyGAN
iteration. A two-player game has two losses and two optimisers, so the model updates itself in `train_step`
(`owns_optimizer`), drawing its real batches from its own seeded generator as the GAN lab does. It has no
density: `likelihood = "none"`.
"""

from __future__ import annotations

import numpy as np
import torch

from playground.families.base import FamilyModel, register
from playground.toy.config import ToyConfig
from playground.toy.nets import sample_noise
from playground.toy.trainer import ToyGAN


def toy_config(cfg) -> ToyConfig:
    """The GAN lab's config for a family config: its target, seed, batch size and objective."""
    return ToyConfig(dist=cfg.dist, n_modes=cfg.n_modes, radius=cfg.radius, std=cfg.std, formula=cfg.formula,
                     seed=cfg.seed, batch_size=cfg.batch_size, loss=cfg.gan_loss)


class GANFamily(FamilyModel):
    """A ToyGAN; its generator G and discriminator D are this module's submodules (parameters, state dict)."""

    family = "gan"
    likelihood = "none"
    owns_optimizer = True

    def __init__(self, toy_cfg: ToyConfig, points: np.ndarray | None = None):
        super().__init__()
        self.gan = ToyGAN(toy_cfg, points)
        self.G = self.gan.G
        self.D = self.gan.D

    def apply_live(self, cfg) -> None:
        """The batch size and objective are live in the GAN lab too."""
        self.gan.apply(toy_config(cfg))

    def train_step(self, batch: torch.Tensor, generator: torch.Generator) -> dict[str, float]:
        """One GAN lab iteration (d_steps D updates, then g_steps G updates) on the GAN's own batches."""
        self.gan.train(1)
        _, d_loss, g_loss = self.gan.losses()
        return {"g_loss": float(g_loss[-1]), "d_loss": float(d_loss[-1])}

    def training_loss(self, batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The generator's loss on fresh noise against the current D (a number to watch, not to minimise)."""
        c = self.gan.cfg
        z = sample_noise(len(batch), c.latent_dim, c.noise, generator)
        return self.gan.g_loss_fn(self.D(self.G(z))).mean()

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """The GAN lab's displayed generator (G, or its EMA when on) at fresh noise from `generator`."""
        c = self.gan.cfg
        return torch.from_numpy(self.gan.generate(sample_noise(n, c.latent_dim, c.noise, generator))).float()


@register("gan")
def _build(cfg, target) -> GANFamily:
    return GANFamily(toy_config(cfg), getattr(target, "points", None))
