"""The GAN family: the GAN lab's engine (`playground.toy.trainer.ToyGAN`) behind the FamilyModel interface.

Nothing of the GAN step loop is repeated here: the family's config gives a full ToyConfig
(`FamilyConfig.toy_config`: target fields, seed, batch size, objective, and any other GAN-lab setting in
`gan_settings`) and each training step is one ToyGAN iteration. A two-player game has two losses and two
optimisers, so the model updates itself in `train_step` (`owns_optimizer`). Like every family it trains on the
batch it is given (in lockstep: the tick's shared batch) with its noise from the trainer's generator: every real
sample the engine draws during the step is taken from that batch (see `StepBatch`). It has no density.
"""

from __future__ import annotations

import numpy as np
import torch

from playground.errors import PlaygroundError
from playground.families.base import FamilyModel, register
from playground.toy.config import ToyConfig
from playground.toy.nets import sample_noise
from playground.toy.trainer import ToyGAN


def toy_config(cfg) -> ToyConfig:
    """The GAN lab's config for a family config (see FamilyConfig.toy_config)."""
    return cfg.toy_config()


class StepBatch:
    """Stands in for the target inside the GAN lab's engine during one step: its draws of real samples come from
    the step's batch. A draw of the batch's size is the batch itself (a copy: the engine may mark it for
    gradients); any other size (packing, unrolled look-ahead...) is rows of it in random order, each row used
    once before any is repeated. Everything else is the target's."""

    def __init__(self, target, batch: torch.Tensor):
        self._target, self._batch = target, batch.detach()

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        m = len(self._batch)
        if n == m:
            return self._batch.clone()
        reps = -(-n // m)
        idx = torch.cat([torch.randperm(m, generator=generator) for _ in range(reps)])[:n]
        return self._batch[idx]

    def __getattr__(self, name):
        return getattr(self._target, name)


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
        """The GAN lab's live settings (batch size, objective, learning rates, toolbox...) without a reset."""
        new = toy_config(cfg)
        blocked = self.gan.needs_reset(new)
        if blocked:
            raise PlaygroundError(f"changing the GAN's {', '.join(sorted(blocked))} needs a reset")
        self.gan.apply(new)

    def train_step(self, batch: torch.Tensor, generator: torch.Generator) -> dict[str, float]:
        """One GAN lab iteration (d_steps D updates, then g_steps G updates) on `batch`, noise from `generator`.
        With the GAN lab's defaults this is exactly a ToyGAN iteration whose generator drew `batch` first."""
        gan = self.gan
        gan.rng = generator
        target, gan.target = gan.target, StepBatch(gan.target, batch)
        try:
            gan.train(1)
        finally:
            gan.target = target
        _, d_loss, g_loss = gan.losses()
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
