"""The training loop of every family: target batches, Adam with a cosine-decayed learning rate, loss history.

All training randomness (batches and the model's own noise) comes from one generator seeded by the config, so
a run is fixed by its config. A model with `owns_optimizer` (the GAN) makes its own updates in `train_step`.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from playground.configs import changed_fields, live_fields
from playground.errors import PlaygroundError
from playground.families.base import FamilyModel, build
from playground.toy.targets import Target, make_target


class FamilyTrainer:
    """One family model on one target; `train(n)` runs n steps (each on a fresh batch, or a given one)."""

    def __init__(self, cfg, target: Target | None = None, points: np.ndarray | None = None):
        cfg.validate()
        self.cfg = cfg
        self.target = target if target is not None else make_target(cfg, points)
        self.model: FamilyModel = build(cfg, self.target)
        self.rng = torch.Generator().manual_seed(cfg.seed)
        self.opt = None
        if not self.model.owns_optimizer:
            self.opt = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, foreach=True)
        self.step = 0
        self.seconds = 0.0          # wall time spent in training steps
        self.losses: list[float] = []

    def apply(self, new) -> None:
        """Take changed live settings (batch size, sampling steps, ...) without a reset; any other change
        needs a new trainer (PlaygroundError naming the fields)."""
        new.validate()
        blocked = changed_fields(self.cfg, new) - live_fields(type(new))
        if blocked:
            raise PlaygroundError(f"changing {', '.join(sorted(blocked))} needs a reset")
        self.model.apply_live(new)          # first: it may refuse (a GAN-lab setting that needs a reset)
        self.cfg = new

    def lr_at(self, step: int) -> float:
        """cfg.lr * (1 + cos(pi * step / steps)) / 2: from lr down to 0 at `steps`, 0 after it."""
        frac = min(step, self.cfg.steps) / self.cfg.steps
        return self.cfg.lr * 0.5 * (1 + math.cos(math.pi * frac))

    def train_step(self, batch: torch.Tensor | None = None) -> float:
        """One update on `batch` (default: a fresh target batch of cfg.batch_size); returns the loss."""
        t0 = time.perf_counter()
        if batch is None:
            batch = self.target.sample(self.cfg.batch_size, self.rng)
        if self.opt is None:
            losses = self.model.train_step(batch, self.rng)
            loss = float(next(iter(losses.values()))) if losses else float("nan")
        else:
            for group in self.opt.param_groups:
                group["lr"] = self.lr_at(self.step)
            out = self.model.training_loss(batch, self.rng)
            self.opt.zero_grad(set_to_none=True)
            out.backward()
            self.opt.step()
            loss = float(out.detach())
        self.step += 1
        self.losses.append(loss)
        self.seconds += time.perf_counter() - t0
        return loss

    def train(self, n: int) -> None:
        self.model.train()
        for _ in range(n):
            self.train_step()
        self.model.eval()

    @property
    def steps_per_sec(self) -> float:
        return self.step / self.seconds if self.seconds > 0 else float("nan")
