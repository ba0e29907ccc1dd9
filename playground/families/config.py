"""FamilyConfig: every setting of the families lab (CLI flags, widgets, saved JSON and URL come from it).

The target fields share the GAN lab's names and defaults (`dist`, `n_modes`, `radius`, `std`, `formula`), so a
target means the same thing on both pages. Fields prefixed with a family's name only matter to that family.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from playground.configs import coerce, fill_derived, renamed, spec
from playground.errors import PlaygroundError
from playground.toy.config import TARGET_DEFAULTS, Loss, TargetFields, ToyConfig

Model = Literal["gan", "vae", "flow", "autoregressive", "diffusion", "flow_matching"]
FlowTransform = Literal["spline", "affine"]
FlowObjective = Literal["forward_kl", "reverse_kl"]
AROrder = Literal["x1_first", "x2_first"]
DiffusionSchedule = Literal["cosine", "linear"]
DiffusionSampler = Literal["ddpm", "ddim"]
DiffusionSpacing = Literal["quadratic", "uniform"]
FMSolver = Literal["midpoint", "euler"]
GANLoss = Loss
# Learning rates tuned per family on ring8 (bench/families_quality.py); families not listed use 1e-3.
LR_DEFAULTS = {"flow_matching": 4e-3}
# The GAN lab's settings a FamilyConfig holds in fields of its own (the rest go in `gan_settings`).
TOY_SHARED = tuple(f.name for f in dataclasses.fields(TargetFields)) + ("seed", "batch_size", "eval_samples")
TOY_OWN = tuple(f.name for f in dataclasses.fields(ToyConfig) if f.name not in TOY_SHARED + ("loss",))


@dataclass(frozen=True)
class FamilyConfig(TargetFields):
    """One model of one family on one toy target."""

    model: Model = spec("flow", "model family")
    # --- target: the TargetFields (as in the GAN lab)
    # --- networks and optimisation (shared by every family)
    width: int = spec(128, "hidden width of every MLP", lo=8, hi=1024)
    layers: int = spec(3, "hidden layers of every MLP", lo=1, hi=8)
    batch_size: int = spec(512, "target samples per step", lo=8, hi=8192, live=True)
    lr: float | None = spec(None, "Adam learning rate, cosine-decayed to 0 over `steps` (default: the family's "
                            "own, see LR_DEFAULTS)", lo=1e-6, hi=1.0, log=True)
    steps: int = spec(10_000, "training steps (the learning-rate schedule spans them)", lo=1, hi=10_000_000)
    seed: int = spec(0, "random seed: weights, batches and sampling", lo=0, hi=2**31 - 1)
    eval_samples: int = spec(2500, "fresh samples (and held-out target points) per scoreboard evaluation",
                             lo=100, hi=100_000)
    # --- normalizing flow
    flow_transform: FlowTransform = spec("spline", "flow: rational-quadratic spline or affine layers")
    flow_layers: int = spec(4, "flow: number of invertible layers (transforms)", lo=1, hi=32)
    flow_bins: int = spec(32, "flow: bins of each spline (32: what two_moons needs within 10,000 steps)", lo=2,
                          hi=64)
    flow_objective: FlowObjective = spec("forward_kl", "flow: forward KL (maximum likelihood on samples) or "
                                         "reverse KL (the target's exact density)")
    # --- autoregressive
    ar_order: AROrder = spec("x1_first", "autoregressive: p(x1) p(x2|x1) or p(x2) p(x1|x2)")
    ar_components: int = spec(8, "autoregressive: Gaussian components of each mixture density", lo=1, hi=64)
    # --- diffusion and flow matching
    input_octaves: int = spec(4, "diffusion and flow matching: octaves k of sin/cos(2^k pi z) features of the "
                              "scaled input (0: a plain MLP; more resolve sharper modes)", lo=0, hi=10)
    sample_steps: int = spec(100, "sampling steps: diffusion sampler steps, or flow-matching ODE steps",
                             lo=1, hi=1000, live=True)
    diffusion_timesteps: int = spec(1000, "diffusion: number of noise levels T of the forward process",
                                    lo=10, hi=4000)
    diffusion_schedule: DiffusionSchedule = spec("cosine", "diffusion: noise schedule")
    diffusion_spacing: DiffusionSpacing = spec("quadratic", "diffusion: sampler levels evenly spaced, or "
                                               "quadratic (dense near the data)", live=True)
    diffusion_sampler: DiffusionSampler = spec("ddpm", "diffusion: ancestral DDPM or deterministic DDIM (eta=0)",
                                               live=True)
    fm_solver: FMSolver = spec("midpoint", "flow matching: ODE solver for sampling", live=True)
    fm_ot: bool = spec(False, "flow matching: pair noise and data by exact optimal transport in each batch")
    fm_logprob_steps: int = spec(200, "flow matching: midpoint steps of the log-likelihood ODE (fewer: faster, "
                                 "less accurate; 200 is converged on the built-in targets)", lo=4, hi=4000,
                                 live=True)
    # --- VAE
    vae_latent_dim: int = spec(2, "VAE: latent dimension (1 or 2)", lo=1, hi=2)
    vae_iwae_k: int = spec(64, "VAE: importance samples K of the reported bound (K=1: the ELBO)", lo=1,
                           hi=4096, live=True)
    # --- GAN (the GAN lab's engine; its other settings keep the GAN lab's defaults)
    gan_loss: GANLoss = spec("nonsaturating", "GAN: adversarial objective", live=True)
    gan_settings: tuple[str, ...] = spec((), "GAN: any other GAN-lab setting as name=value (e.g. d_steps=5, "
                                         "pack=2, g_lr=2e-4); the ones not given keep the GAN lab's defaults",
                                         live=True, max_len=len(TOY_OWN))

    def __post_init__(self) -> None:
        fill_derived(self)

    def derived_defaults(self) -> dict:
        return {**TARGET_DEFAULTS[self.dist], "lr": LR_DEFAULTS.get(self.model, 1e-3)}

    @classmethod
    def from_toy(cls, toy: ToyConfig, **changes) -> "FamilyConfig":
        """The GAN family running exactly the GAN lab's `toy` (e.g. one of its lesson presets), with `changes` to
        the families-lab settings (steps, ...): its target, seed, batch and objective in this config's fields,
        every other setting that differs from the GAN lab's default as `gan_settings`."""
        default = ToyConfig()
        own = tuple(f"{k}={getattr(toy, k)}" for k in TOY_OWN if getattr(toy, k) != getattr(default, k))
        return cls(model="gan", **{k: getattr(toy, k) for k in TOY_SHARED}, gan_loss=toy.loss, gan_settings=own,
                   **changes)

    def gan_overrides(self) -> dict:
        """`gan_settings` as ToyConfig values by field name (old names accepted); PlaygroundError for a setting
        that is not the GAN lab's, one this config holds itself (target, seed, batch, loss), or a bad value."""
        old_to_new, out = renamed(ToyConfig), {}
        for item in self.gan_settings:
            name, eq, value = str(item).partition("=")
            name = old_to_new.get(name.strip(), name.strip())
            if not eq or not name:
                raise PlaygroundError(f"gan_settings: {item!r} is not name=value")
            if name == "loss" or name in TOY_SHARED:
                own = "gan_loss" if name == "loss" else name
                raise PlaygroundError(f"gan_settings: {name} is a setting of its own here: set {own} instead")
            if name not in TOY_OWN:
                raise PlaygroundError(f"gan_settings: {name!r} is not a GAN lab setting")
            if name in out:
                raise PlaygroundError(f"gan_settings: {name} is given twice")
            out[name] = coerce(ToyConfig, name, value.strip())
        return out

    def toy_config(self) -> ToyConfig:
        """The GAN lab's config of this model: the target, seed, batch, objective and `gan_settings`."""
        toy = ToyConfig(**{k: getattr(self, k) for k in TOY_SHARED}, loss=self.gan_loss, **self.gan_overrides())
        toy.validate()
        return toy

    def validate(self) -> None:
        if self.model == "gan":
            self.toy_config()
        elif self.gan_settings:
            self.gan_overrides()
        if self.dist == "mixture1d":
            from playground.formula import parse_mixture

            parse_mixture(self.formula)
        if self.dist not in ("uniform1d", "custom") and self.std <= 0:
            raise PlaygroundError(f"std must be positive for {self.dist}")
        if self.model == "diffusion" and self.sample_steps > self.diffusion_timesteps:
            raise PlaygroundError(f"sample_steps ({self.sample_steps}) cannot exceed diffusion_timesteps "
                                  f"({self.diffusion_timesteps}): a sampler visits each noise level at most once")
