"""Sampling from a trained run: load its generator (EMA weights when present), grids, truncation, interpolation.

A run is a directory, or the name of a shipped model: `pretrained/image_runs/NAME/` with its card
`pretrained/image_runs/NAME.json`, whose sha256 the checkpoint must match before it is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from playground.cards import card_beside, card_path
from playground.configs import from_saved
from playground.errors import PlaygroundError
from playground.images import families
from playground.images import models as M
from playground.images.config import ImageRunConfig
from playground.images.trainer import load_run_checkpoint
from playground.paths import pretrained_dir
from playground.pictures import grid_image, png_bytes
from playground.runs.checkpoints import sha256_file
from playground.runs.rundir import RunDir, list_runs

PRETRAINED_RUNS = pretrained_dir() / "image_runs"


@dataclass
class LoadedModel:
    """A trained run's sampling module (EMA weights when present) with what drawing from it needs."""

    cfg: ImageRunConfig
    net: torch.nn.Module      # G, the VAE's decoder, the PixelCNN, or the diffusion / flow-matching model
    step: int
    checkpoint: str
    ema: bool
    resolution: int
    channels: int
    num_classes: int | None = None     # conditional models only

    @property
    def family(self) -> str:
        return self.cfg.family

    @property
    def has_latent(self) -> bool:
        """Images are a function of Gaussian noise z (GANs, the VAE): interpolation, truncation, arithmetic."""
        return families.family_of(self.cfg).has_latent

    @property
    def latent_dim(self) -> int:
        return self.cfg.latent_dim

    def labels(self, n: int) -> torch.Tensor | None:
        """Every class equally often (conditional models), else None."""
        return families.balanced_labels(n, self.num_classes) if self.cfg.is_conditional else None

    def images(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images (N, C, H, W) in [0, 1] from noise z (latent models; a conditional one needs `labels`)."""
        if not self.has_latent:
            raise PlaygroundError(f"a {self.cfg.model} model has no noise vector to map: use sample()")
        if labels is None:
            labels = self.labels(len(z))
        return families.latent_images(self.cfg, self.net, z, labels)

    def sample(self, n: int, seed: int = 0, labels: torch.Tensor | None = None, steps: int | None = None
               ) -> torch.Tensor:
        """n images (n, C, H, W) in [0, 1] from `seed` (classes: balanced unless given; `steps`: the denoisers')."""
        if labels is None:
            labels = self.labels(n)
        return families.draw(self.cfg, self.net, n, torch.Generator().manual_seed(seed), labels, steps=steps,
                             resolution=self.resolution)


LoadedGenerator = LoadedModel     # the name the GAN/VAE views grew up with


def resolve_run(run: str | Path) -> Path:
    """A run directory, or the folder of the shipped model of that name (`digits-dcgan`)."""
    p = Path(run)
    if not p.exists() and p.name == str(run) and (PRETRAINED_RUNS / p.name).is_dir():
        return PRETRAINED_RUNS / p.name
    return p


def pretrained_runs() -> list[dict]:
    """Summaries of the shipped image runs in the order `playground.images.pretrained.MODELS` lists them (a
    fixed order: their finish times would put whichever was retrained last first), unknown folders last."""
    from playground.images.pretrained import MODELS

    order = {name: i for i, name in enumerate(MODELS)}
    return sorted(list_runs(PRETRAINED_RUNS, kind="images"), key=lambda r: order.get(r["name"], len(order)))


def card_of(run_dir: str | Path) -> dict | None:
    """The card of a shipped model (NAME.json beside its run directory NAME/), or None for an ordinary run. A
    broken card of a shipped model is an error; beside a user's run, NAME.json that is not a card is the user's
    own file (the run's `--json` summary saved as RUN.json, say) and is ignored."""
    path = Path(run_dir)
    return card_beside(card_path(path.parent, path.name), "image-run", PRETRAINED_RUNS)


def checkpoint_path(run_dir: str | Path, which: str = "latest") -> Path:
    run = RunDir.open(resolve_run(run_dir))
    if which in ("latest", "best"):
        p = run.checkpoints_dir / f"{which}.pt"
        if not p.exists():
            have = run.checkpoints()
            raise PlaygroundError(f"{run.path} has no {which} checkpoint"
                                  + (f" (it has: {', '.join(have)})" if have else " yet"))
        return p
    p = Path(which)
    if not p.is_file():
        raise PlaygroundError(f"no checkpoint file {which}")
    return p


def load_model(run_dir: str | Path, which: str = "latest", use_ema: bool = True) -> LoadedModel:
    """Any image run's sampling module from its checkpoint (a shipped model's checked against its card)."""
    path = checkpoint_path(run_dir, which)
    run = resolve_run(run_dir)
    card = card_of(run)
    if card is not None and path.resolve() == (run / str(card.get("checkpoint"))).resolve() \
            and sha256_file(path) != card.get("sha256"):
        raise PlaygroundError(f"{path} does not match the sha256 on its card ({card.get('name')}); "
                              "retrain it with `make pretrained`")
    ck = load_run_checkpoint(path)
    try:
        cfg = from_saved(ImageRunConfig, ck["config"])
        channels, resolution, step = int(ck["channels"]), int(ck["resolution"]), int(ck["step"])
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise PlaygroundError(f"{path} is not an image run's checkpoint (missing or bad {e})") from None
    num_classes = ck.get("num_classes")
    if channels not in (1, 3) or not 4 <= resolution <= 256 or (num_classes is not None and not (
            isinstance(num_classes, int) and 1 <= num_classes <= 1000)):
        raise PlaygroundError(f"{path} holds an impossible image model: {channels} channels, {resolution} px, "
                              f"{num_classes!r} classes")
    nets = families.build(cfg, channels, resolution, num_classes)
    net = families.sampler_of(cfg, nets)
    try:
        if use_ema and ck.get("ema") is not None:
            net.load_state_dict(ck["ema"])
            ema = True
        else:
            if not ck.get("nets"):                  # shipped models keep only their EMA sampling weights
                raise PlaygroundError("this checkpoint keeps only the EMA weights (enough to sample, not the raw "
                                      "training weights); sample with EMA on")
            mine = {id(p) for p in net.parameters()}
            for k, module in nets.items():        # only the networks that hold the sampler's weights (not D, say;
                if mine & {id(p) for p in module.parameters()}:     # the VAE's decoder is shared, not a child)
                    module.load_state_dict(ck["nets"][k])
            ema = False
    except (KeyError, RuntimeError) as e:
        raise PlaygroundError(f"the checkpoint's weights do not fit its config: {str(e).splitlines()[0]}") from None
    net.eval().requires_grad_(False)
    return LoadedModel(cfg, net, step, str(which), ema, resolution, channels,
                       num_classes if cfg.is_conditional else None)


def load_generator(run_dir: str | Path, which: str = "latest", use_ema: bool = True) -> LoadedModel:
    """A latent model (GAN or VAE) of a run: what truncation, interpolation and latent arithmetic need."""
    gen = load_model(run_dir, which, use_ema)
    if not gen.has_latent:
        raise PlaygroundError(f"this run trains a {gen.cfg.model} model, which has no noise vector to walk; "
                              "choose a GAN or VAE run")
    return gen


def grid(gen: LoadedModel, n: int = 64, seed: int = 0, truncation: float | None = None, label: int | None = None,
         steps: int | None = None) -> np.ndarray:
    """(n, C, H, W) images in [0, 1] from seeded noise (optionally truncated); a conditional model draws class
    `label`, or every class equally often; `steps`: the sampling steps of diffusion and flow matching."""
    if not 1 <= n <= 1024:
        raise PlaygroundError(f"n must be between 1 and 1024, got {n}")
    labels = None
    if label is not None:
        if not gen.cfg.is_conditional:
            raise PlaygroundError(f"this {gen.cfg.model} run is not class-conditional: leave the label out")
        if not 0 <= label < int(gen.num_classes):
            raise PlaygroundError(f"label must be between 0 and {gen.num_classes - 1}, got {label}")
        labels = torch.full((n,), int(label), dtype=torch.long)
    if steps is not None and gen.family != "denoiser":
        raise PlaygroundError(f"sampling steps are for diffusion and flow matching, not {gen.cfg.model}")
    if not gen.has_latent:
        if truncation:
            raise PlaygroundError(f"truncation needs a noise vector; a {gen.cfg.model} model has none")
        return gen.sample(n, seed, labels, steps).numpy()
    z = M.noise(n, gen.latent_dim, torch.Generator().manual_seed(seed), truncation=truncation)
    return gen.images(z, labels).numpy()


INTERPOLATION_STEPS = 10      # images in an interpolation strip: the Sample page's default and the CLI's


def interpolation(gen: LoadedModel, seed_a: int, seed_b: int, steps: int = INTERPOLATION_STEPS, mode: str = "spherical",
                  truncation: float | None = None) -> np.ndarray:
    """Images along the path between the noise of seed_a and of seed_b (latent models; a conditional one keeps
    one class along the path: class 0)."""
    if not gen.has_latent:
        raise PlaygroundError(f"interpolation needs a noise vector; a {gen.cfg.model} model has none")
    if mode not in ("linear", "spherical"):
        raise PlaygroundError(f"interpolation must be linear or spherical, got {mode!r}")
    za = M.noise(1, gen.latent_dim, torch.Generator().manual_seed(seed_a), truncation=truncation)[0]
    zb = M.noise(1, gen.latent_dim, torch.Generator().manual_seed(seed_b), truncation=truncation)[0]
    path = M.interpolate(za, zb, steps, mode)
    labels = torch.zeros(steps, dtype=torch.long) if gen.cfg.is_conditional else None
    return gen.images(path, labels).numpy()


def grid_png(images: np.ndarray, nrow: int | None = None, scale: int = 1) -> bytes:
    return png_bytes(grid_image(images, nrow=nrow), scale=scale)


def auto_scale(resolution: int, target: int = 48) -> int:
    """Upscaling factor so small images (8x8 digits) are visible in a PNG."""
    return max(1, target // resolution)
