"""Sampling from a trained run: load its generator (EMA weights when present), grids, truncation, interpolation.

A run is a directory, or the name of a shipped model: `pretrained/image_runs/NAME/` with its card
`pretrained/image_runs/NAME.json`, whose sha256 the checkpoint must match before it is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from playground.cards import card_path, read_card
from playground.configs import from_dict
from playground.errors import PlaygroundError
from playground.images import models as M
from playground.images.config import ImageRunConfig
from playground.images.trainer import load_run_checkpoint
from playground.paths import pretrained_dir
from playground.pictures import grid_image, png_bytes
from playground.runs.checkpoints import sha256_file
from playground.runs.rundir import RunDir

PRETRAINED_RUNS = pretrained_dir() / "image_runs"


@dataclass
class LoadedGenerator:
    cfg: ImageRunConfig
    net: torch.nn.Module
    step: int
    checkpoint: str
    ema: bool

    @property
    def latent_dim(self) -> int:
        return self.cfg.latent_dim

    @torch.no_grad()
    def images(self, z: torch.Tensor) -> torch.Tensor:
        """Images (N, C, H, W) in [0, 1] from noise z."""
        return torch.cat([M.to_unit(self.cfg.model, self.net(z[i:i + 256])) for i in range(0, len(z), 256)])


def resolve_run(run: str | Path) -> Path:
    """A run directory, or the folder of the shipped model of that name (`digits-dcgan`)."""
    p = Path(run)
    if not p.exists() and p.name == str(run) and (PRETRAINED_RUNS / p.name).is_dir():
        return PRETRAINED_RUNS / p.name
    return p


def card_of(run_dir: str | Path) -> dict | None:
    """The card of a shipped model (NAME.json beside its run directory NAME/), or None for an ordinary run."""
    path = Path(run_dir)
    return read_card(card_path(path.parent, path.name), "image-run")


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


def load_generator(run_dir: str | Path, which: str = "latest", use_ema: bool = True) -> LoadedGenerator:
    path = checkpoint_path(run_dir, which)
    run = resolve_run(run_dir)
    card = card_of(run)
    if card is not None and path.resolve() == (run / str(card.get("checkpoint"))).resolve() \
            and sha256_file(path) != card.get("sha256"):
        raise PlaygroundError(f"{path} does not match the sha256 on its card ({card.get('name')}); "
                              "retrain it with `make pretrained`")
    ck = load_run_checkpoint(path)
    cfg = from_dict(ImageRunConfig, ck["config"])
    nets = M.build_for(cfg, int(ck["channels"]), int(ck["resolution"]))
    gen = M.generator_of(cfg.model, nets)
    try:
        if use_ema and ck.get("ema") is not None:
            gen.load_state_dict(ck["ema"])
            ema = True
        else:
            for k, net in nets.items():
                net.load_state_dict(ck["nets"][k])
            ema = False
    except (KeyError, RuntimeError) as e:
        raise PlaygroundError(f"the checkpoint's weights do not fit its config: {str(e).splitlines()[0]}") from None
    gen.eval().requires_grad_(False)
    return LoadedGenerator(cfg, gen, int(ck["step"]), str(which), ema)


def grid(gen: LoadedGenerator, n: int = 64, seed: int = 0, truncation: float | None = None) -> np.ndarray:
    """(n, C, H, W) images in [0, 1] from seeded noise (optionally truncated)."""
    if not 1 <= n <= 1024:
        raise PlaygroundError(f"n must be between 1 and 1024, got {n}")
    z = M.noise(n, gen.latent_dim, torch.Generator().manual_seed(seed), truncation=truncation)
    return gen.images(z).numpy()


def interpolation(gen: LoadedGenerator, seed_a: int, seed_b: int, steps: int = 10, mode: str = "spherical",
                  truncation: float | None = None) -> np.ndarray:
    """Images along the path between the noise of seed_a and of seed_b."""
    if mode not in ("linear", "spherical"):
        raise PlaygroundError(f"interpolation must be linear or spherical, got {mode!r}")
    za = M.noise(1, gen.latent_dim, torch.Generator().manual_seed(seed_a), truncation=truncation)[0]
    zb = M.noise(1, gen.latent_dim, torch.Generator().manual_seed(seed_b), truncation=truncation)[0]
    return gen.images(M.interpolate(za, zb, steps, mode)).numpy()


def grid_png(images: np.ndarray, nrow: int | None = None, scale: int = 1) -> bytes:
    return png_bytes(grid_image(images, nrow=nrow), scale=scale)


def auto_scale(resolution: int, target: int = 48) -> int:
    """Upscaling factor so small images (8x8 digits) are visible in a PNG."""
    return max(1, target // resolution)
