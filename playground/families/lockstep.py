"""Several family models trained in lockstep on one target, and the exact state of a trainer (to branch or resume).

Lockstep: every model shares the target, the seed, the batch size and the run length; each tick draws ONE target
batch from the lockstep's own generator and gives it to every model, the GAN included, which then makes one
update (its own noise from its own generator). The batch generator's seed is derived from the seed
(`batch_seed`): seeded alike, its stream and the models' noise streams would be shifted copies of each other, so
a model's noise would repeat the noise inside the target's samples.

`capture(trainer)` / `restore(trainer, state)` copy everything a trainer's future depends on (weights, optimiser
moments, generator states, step, wall time, losses), so continuing from a restored state gives bit-for-bit the
same training as never having stopped. Restoring into a trainer built from a changed config (another objective,
learning rate, sampler...) is how "branch from here with changed settings" works: the weights must fit the new
networks, or a PlaygroundError says which settings change their shapes.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch

from playground.errors import PlaygroundError
from playground.families.trainer import FamilyTrainer
from playground.toy.targets import Target, make_target

# The settings every model of a lockstep shares (the target, the seed and the batches, and the run length).
SHARED = ("dist", "n_modes", "radius", "std", "formula", "seed", "batch_size", "steps", "eval_samples")
MAX_MODELS = 4
BATCH_SEED_OFFSET = 0x5EED_BA7C       # the lockstep batches' generator: seed + this (mod 2**63)


def batch_seed(seed: int) -> int:
    return (seed + BATCH_SEED_OFFSET) % 2**63


def _clone(obj):
    """A deep copy with tensors cloned (state dicts hold views into live parameters)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: _clone(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_clone(v) for v in obj)
    return copy.deepcopy(obj)


def capture(tr: FamilyTrainer) -> dict:
    """Everything the trainer's future depends on, as plain tensors and numbers (checkpoint-safe)."""
    state = {"model": _clone(tr.model.state_dict()), "rng": tr.rng.get_state(), "step": int(tr.step),
             "seconds": float(tr.seconds), "losses": torch.tensor(tr.losses, dtype=torch.float32)}
    if tr.opt is not None:
        state["opt"] = _clone(tr.opt.state_dict())
    gan = getattr(tr.model, "gan", None)
    if gan is not None:          # the GAN lab's engine keeps its optimisers, generator and counters itself
        state["gan"] = {"d_opt": _clone(gan.d_opt.state_dict()), "g_opt": _clone(gan.g_opt.state_dict()),
                        "rng": gan.rng.get_state(), "step": int(gan.step), "d_updates": int(gan.d_updates),
                        "g_updates": int(gan.g_updates)}
        if getattr(gan, "G_ema", None) is not None:          # the GAN lab's moving average of G, when on
            state["gan"]["g_ema"] = _clone(gan.G_ema.state_dict())
    return state


def restore(tr: FamilyTrainer, state: dict) -> None:
    """Put a captured state into `tr` (built from the same config, or one whose networks have the same shapes)."""
    try:
        tr.model.load_state_dict(_clone(state["model"]))
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0][:200]
        raise PlaygroundError(f"the saved weights do not fit the {tr.cfg.model} model of these settings (a "
                              f"setting that changes the network's shape differs): {first}") from None
    tr.rng.set_state(state["rng"].clone())
    tr.step, tr.seconds = int(state["step"]), float(state["seconds"])
    tr.losses = [float(v) for v in state["losses"].tolist()]
    if tr.opt is not None and "opt" in state:
        tr.opt.load_state_dict(_clone(state["opt"]))
    gan = getattr(tr.model, "gan", None)
    if gan is not None and "gan" in state:
        g = state["gan"]
        gan.d_opt.load_state_dict(_clone(g["d_opt"]))
        gan.g_opt.load_state_dict(_clone(g["g_opt"]))
        gan.rng.set_state(g["rng"].clone())
        gan.step, gan.d_updates, gan.g_updates = int(g["step"]), int(g["d_updates"]), int(g["g_updates"])
        if "g_ema" in g and getattr(gan, "G_ema", None) is not None:
            gan.G_ema.load_state_dict(_clone(g["g_ema"]))
    tr.model.eval()


def shared_mismatch(cfgs: list) -> list[str]:
    """The shared settings on which the configs disagree."""
    return [k for k in SHARED if len({getattr(c, k) for c in cfgs}) > 1]


class Lockstep:
    """1 to 4 FamilyTrainers on one target, one shared batch per tick."""

    def __init__(self, cfgs: list, target: Target | None = None, points: np.ndarray | None = None):
        if not 1 <= len(cfgs) <= MAX_MODELS:
            raise PlaygroundError(f"choose 1 to {MAX_MODELS} models, got {len(cfgs)}")
        bad = shared_mismatch(cfgs)
        if bad:
            raise PlaygroundError(f"models trained in lockstep share {', '.join(bad)}: give them the same values")
        for c in cfgs:
            c.validate()
        self.cfgs = list(cfgs)
        self.target = target if target is not None else make_target(cfgs[0], points)
        self.trainers = [FamilyTrainer(c, target=self.target) for c in cfgs]
        self.rng = torch.Generator().manual_seed(batch_seed(cfgs[0].seed))
        self.step = 0

    @property
    def steps(self) -> int:
        return self.cfgs[0].steps

    def tick(self) -> None:
        """One step of every model on the same fresh target batch (in train mode; eval mode after, for the views)."""
        self._modes(True)
        try:
            self._step()
        finally:
            self._modes(False)

    def _step(self) -> None:
        batch = self.target.sample(self.cfgs[0].batch_size, self.rng)
        for tr in self.trainers:
            tr.train_step(batch)
        self.step += 1

    def _modes(self, training: bool) -> None:
        for tr in self.trainers:
            tr.model.train(training)

    def advance(self, seconds: float, max_ticks: int = 1_000_000) -> int:
        """Ticks for about `seconds` (at least one; none past the run's length; no tick that would overrun the
        slice by its average length); returns how many. The modes switch once per slice, not per tick (walking
        the module tree costs 1 to 2% of a step)."""
        t0 = time.perf_counter()
        n = 0
        self._modes(True)
        try:
            while n < max_ticks and self.step < self.steps:
                self._step()
                n += 1
                elapsed = time.perf_counter() - t0
                if elapsed + elapsed / n > seconds:
                    break
        finally:
            self._modes(False)
        return n

    def apply(self, cfgs: list) -> None:
        """Live changes (batch size, sampling steps, ...) for the same models; PlaygroundError if one needs a reset."""
        if len(cfgs) != len(self.trainers) or [c.model for c in cfgs] != [c.model for c in self.cfgs]:
            raise PlaygroundError("the set of models changed: that needs a reset")
        bad = shared_mismatch(cfgs)
        if bad:
            raise PlaygroundError(f"models trained in lockstep share {', '.join(bad)}: give them the same values")
        for tr, c in zip(self.trainers, cfgs):
            tr.apply(c)
        self.cfgs = list(cfgs)

    # --- exact state (history, branching)
    def capture(self) -> dict:
        return {"rng": self.rng.get_state(), "step": self.step, "trainers": [capture(t) for t in self.trainers]}

    def restore(self, state: dict) -> None:
        if len(state["trainers"]) != len(self.trainers):
            raise PlaygroundError(f"the saved state has {len(state['trainers'])} models, these settings "
                                  f"{len(self.trainers)}")
        for tr, s in zip(self.trainers, state["trainers"]):
            restore(tr, s)
        self.rng.set_state(state["rng"].clone())
        self.step = int(state["step"])

    def state_bytes(self) -> int:
        """About how much memory one captured state takes (weights and optimiser moments)."""
        total = 0
        for tr in self.trainers:
            n = sum(p.numel() for p in tr.model.parameters())
            total += 4 * n * (3 if tr.model.owns_optimizer or tr.opt is not None else 1)
        return total
