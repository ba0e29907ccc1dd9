"""The interface every model family implements, and the registry that builds one from a FamilyConfig.

A family model is trained on batches of target samples by minimising `training_loss`, draws samples with
`sample`, and, where the family has one, reports its log density with `log_prob`: exact for flows,
autoregressive models and flow matching (through the ODE), a lower bound for the VAE (`likelihood = "bound"`,
never mixed with exact values), none for GANs and diffusion samplers (`likelihood = "none"`).
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Literal

import torch
from torch import nn

from playground.errors import PlaygroundError

Likelihood = Literal["exact", "bound", "none"]


class FamilyModel(nn.Module):
    """Base class: subclasses set `family` and `likelihood` and implement the three methods."""

    family: ClassVar[str] = ""
    likelihood: ClassVar[Likelihood] = "none"
    # True for models that update themselves in `train_step` (a two-player game has two losses and two
    # optimisers): the trainer then calls `train_step` instead of minimising `training_loss` with its own Adam.
    owns_optimizer: ClassVar[bool] = False

    def training_loss(self, batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A scalar loss on a batch of target samples (n, d); all noise drawn from `generator`."""
        raise NotImplementedError

    def train_step(self, batch: torch.Tensor, generator: torch.Generator) -> dict[str, float]:
        """One update made by the model itself (only when `owns_optimizer`); returns its losses by name."""
        raise NotImplementedError

    def apply_live(self, cfg: Any) -> None:
        """Take the config's live settings (those marked live=True, e.g. sampling steps) without retraining."""

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n samples (n, d), all randomness from `generator`."""
        raise NotImplementedError

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log q(x) per point (n,): exact, or the family's bound when `likelihood == "bound"`."""
        raise PlaygroundError(f"the {self.family} model has no density: it can only be judged by its samples")


Builder = Callable[[Any, Any], FamilyModel]     # (FamilyConfig, Target) -> model
_BUILDERS: dict[str, Builder] = {}


def register(name: str) -> Callable[[Builder], Builder]:
    """Decorator: make `name` buildable by `build`."""
    def deco(fn: Builder) -> Builder:
        _BUILDERS[name] = fn
        return fn
    return deco


def build(cfg: Any, target: Any) -> FamilyModel:
    """The model `cfg.model` describes, for data shaped like `target` (its weights seeded from cfg.seed)."""
    _import_families()
    if cfg.model not in _BUILDERS:
        raise PlaygroundError(f"unknown model {cfg.model!r}: choose one of {', '.join(sorted(_BUILDERS))}")
    torch.manual_seed(cfg.seed)
    return _BUILDERS[cfg.model](cfg, target)


def _import_families() -> None:
    """Import the family modules so that their `register` calls run (each is optional until it lands)."""
    import importlib

    for mod in ("flows", "autoregressive", "vae2d", "diffusion", "flow_matching", "gan"):
        try:
            importlib.import_module(f"playground.families.{mod}")
        except ModuleNotFoundError as e:
            if e.name != f"playground.families.{mod}":
                raise
