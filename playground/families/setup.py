"""The families lab's setup: 1 to 4 FamilyConfigs on one target, which settings each family uses, presets, and
the whole setup as URL query parameters.

A setup is a list of FamilyConfigs that agree on the SHARED settings (target, seed, batches, run length). In a
URL the shared settings are plain `field=value` pairs, `models=flow,flow_matching` lists the models, and each
model's own settings that differ from their defaults are `m<k>.field=value` (k = 1..4; a plain `field=value` of
a model setting, e.g. `width=32`, is every model's default in a hand-written link); `playground.configs`
checks every value, so a bad link is reported and skipped, never fatal.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from playground.configs import coerce, from_dict, from_query, to_dict, to_query
from playground.errors import PlaygroundError
from playground.families.config import FamilyConfig
from playground.families.lockstep import MAX_MODELS, SHARED

DEFAULT_MODELS = ("flow", "flow_matching")
NEW_SLOT_MODELS = ("flow", "flow_matching", "diffusion", "gan")      # what "add a model" adds in slot k
NETWORK = ("width", "layers", "lr")
FAMILY_FIELDS: dict[str, tuple[str, ...]] = {
    "flow": ("flow_objective", "flow_transform", "flow_layers", "flow_bins") + NETWORK,
    "autoregressive": ("ar_order", "ar_components") + NETWORK,
    "vae": ("vae_latent_dim", "vae_iwae_k") + NETWORK,
    "diffusion": ("diffusion_sampler", "sample_steps", "diffusion_timesteps", "diffusion_schedule",
                  "input_octaves") + NETWORK,
    "flow_matching": ("fm_solver", "sample_steps", "fm_ot", "fm_logprob_steps", "input_octaves") + NETWORK,
    "gan": ("gan_loss", "gan_settings"),       # any other GAN-lab setting as name=value
}
MODEL_FIELDS = tuple(f.name for f in dataclasses.fields(FamilyConfig) if f.name not in SHARED)


@dataclass(frozen=True)
class Preset:
    title: str
    lesson: str
    models: tuple[dict, ...]
    shared: tuple[tuple[str, object], ...] = ()

    def configs(self) -> list[FamilyConfig]:
        return [FamilyConfig(**dict(self.shared), **m) for m in self.models]


PRESETS = {
    "flow_vs_fm": Preset("Flow vs flow matching", "Two exact densities: one warps space layer by layer, the other "
                         "follows a velocity field through time.", ({"model": "flow"}, {"model": "flow_matching"})),
    "forward_vs_reverse": Preset(
        "Flow: forward KL vs reverse KL", "The same flow trained by maximum likelihood (mode covering) and by "
        "reverse KL against the exact density (mode seeking): watch which modes each keeps.",
        ({"model": "flow"}, {"model": "flow", "flow_objective": "reverse_kl"}), (("dist", "gaussians8_ffjord"),)),
    "ar_orders": Preset("Autoregressive: x1 first vs x2 first", "Both orders can represent any density in the "
                        "limit; a finite model fits one better than the other.",
                        ({"model": "autoregressive"}, {"model": "autoregressive", "ar_order": "x2_first"}),
                        (("dist", "two_moons"),)),
    "density_models": Preset("Exact, bound, exact", "A flow and flow matching report exact KL; the VAE only a "
                             "bound (shown apart, never mixed).",
                             ({"model": "flow"}, {"model": "vae"}, {"model": "flow_matching"})),
    "samplers": Preset("GAN vs diffusion vs flow matching", "Sharp samples without a density, a sampler "
                       "through time, and an ODE with an exact density.",
                       ({"model": "gan"}, {"model": "diffusion"}, {"model": "flow_matching"})),
}


def gan_lesson_preset(fix: str) -> Preset:
    """The GAN lab's toolbox lesson `fix` side by side: its mode-collapse start and the same start with the fix,
    each the GAN lab's full config (FamilyConfig.from_toy), for the 4,000 steps the lesson was measured over."""
    from playground.toy.config import ToyConfig
    from playground.toy.presets import FIXES, LESSON_PAIRS, PRESETS as GAN_PRESETS

    cfgs = [FamilyConfig.from_toy(GAN_PRESETS[name].config(ToyConfig), steps=4000) for name in LESSON_PAIRS[fix]]
    shared = tuple((k, getattr(cfgs[0], k)) for k in SHARED)
    models = tuple({k: getattr(c, k) for k in MODEL_FIELDS} for c in cfgs)
    return Preset(f"GAN toolbox: mode collapse vs {FIXES[fix][0]}", "The GAN lab's lesson in lockstep: the same "
                  f"start, the same seed and batches, one change. {FIXES[fix][1]}", models, shared)


def _add_gan_lessons() -> None:
    from playground.toy.presets import LESSON_PAIRS

    PRESETS.update({f"gan_{fix}": gan_lesson_preset(fix) for fix in LESSON_PAIRS})


_add_gan_lessons()


def slot_config(base: FamilyConfig, model: str) -> FamilyConfig:
    """`base`'s shared settings with `model` at its own defaults (a newly added or switched slot)."""
    return FamilyConfig(model=model, **{k: getattr(base, k) for k in SHARED})


def with_shared(cfg: FamilyConfig, shared: FamilyConfig) -> FamilyConfig:
    """`cfg` with the shared settings taken from `shared` (validated)."""
    return from_dict(FamilyConfig, {**to_dict(cfg), **{k: getattr(shared, k) for k in SHARED}})


def default_setup() -> list[FamilyConfig]:
    return [FamilyConfig(model=m) for m in DEFAULT_MODELS]


def setup_query(cfgs: list[FamilyConfig]) -> dict[str, str]:
    """Query parameters of a setup (shared settings, `models`, and `m<k>.field` for each model's own)."""
    out = {k: v for k, v in to_query(cfgs[0]).items() if k in SHARED}
    if [c.model for c in cfgs] != list(DEFAULT_MODELS):
        out["models"] = ",".join(c.model for c in cfgs)
    for k, c in enumerate(cfgs, start=1):
        for name, v in to_query(c).items():
            if name not in SHARED and name != "model":
                out[f"m{k}.{name}"] = v
    return out


def setup_from_query(params: dict) -> tuple[list[FamilyConfig], list[str]]:
    """The setup of a URL's query parameters, and the problems found in it (bad values are skipped)."""
    problems: list[str] = []
    models = list(DEFAULT_MODELS)
    if "models" in params:
        raw = params["models"][-1] if isinstance(params["models"], list) else params["models"]
        try:
            models = [coerce(FamilyConfig, "model", m.strip()) for m in str(raw).split(",") if m.strip()]
            if not 1 <= len(models) <= MAX_MODELS:
                raise PlaygroundError(f"models: give 1 to {MAX_MODELS}, got {len(models)}")
        except PlaygroundError as e:
            problems.append(str(e))
            models = list(DEFAULT_MODELS)
    shared = {k: v for k, v in params.items() if k in SHARED}
    every = {k: v for k, v in params.items() if k in MODEL_FIELDS and k != "model"}   # a default for all models
    cfgs = []
    for k, model in enumerate(models, start=1):
        own = {name[len(f"m{k}."):]: v for name, v in params.items() if name.startswith(f"m{k}.")}
        own = {n: v for n, v in own.items() if n in MODEL_FIELDS and n != "model"}
        cfg, found = from_query(FamilyConfig, {**shared, **every, **own, "model": model})
        problems += [p for p in found if p not in problems]
        cfgs.append(cfg)
    if any(getattr(c, s) != getattr(cfgs[0], s) for c in cfgs for s in SHARED):
        cfgs = [with_shared(c, cfgs[0]) for c in cfgs]           # a model whose own values failed falls back
    return cfgs, problems
