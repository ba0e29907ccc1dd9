"""DCGAN's vector arithmetic on a generator's noise (Radford et al. 2016, sec. 6.3): average the noise vectors of
the samples picked into each group, combine the group means with + and -, and decode the result."""

from __future__ import annotations

import torch

from playground.errors import PlaygroundError
from playground.images import models as M


def sample_noise(n: int, latent_dim: int, seed: int = 0) -> torch.Tensor:
    """The (n, latent_dim) noise behind a seeded grid of samples (the same draw as sampling.grid)."""
    return M.noise(n, latent_dim, torch.Generator().manual_seed(seed))


def group_mean(z: torch.Tensor, picks: list[int]) -> torch.Tensor:
    """The mean noise vector of the picked rows of z (averaging several samples makes a concept stand out)."""
    if not picks:
        raise PlaygroundError("a group needs at least one picked sample")
    if min(picks) < 0 or max(picks) >= len(z):
        raise PlaygroundError(f"picked sample out of range 0..{len(z) - 1}")
    return z[list(picks)].mean(0)


def combine(z: torch.Tensor, groups: dict[str, list[int]], signs: dict[str, float]) -> torch.Tensor:
    """sum over groups of sign * group mean, e.g. signs {"A": 1, "B": -1, "C": 1} gives A - B + C."""
    used = [g for g in signs if signs[g] != 0]
    if not used:
        raise PlaygroundError("combine at least one group")
    return sum(float(signs[g]) * group_mean(z, groups.get(g, [])) for g in used)


def variations(z: torch.Tensor, n: int = 8, scale: float = 0.25, seed: int = 0) -> torch.Tensor:
    """z itself and n - 1 copies with N(0, scale^2) added, to see how stable the decoded result is."""
    g = torch.Generator().manual_seed(seed)
    extra = z + scale * torch.randn((n - 1, z.numel()), generator=g, dtype=z.dtype)
    return torch.cat([z.view(1, -1), extra])


def arithmetic(gen, z: torch.Tensor, groups: dict[str, list[int]], signs: dict[str, float], n: int = 8,
               seed: int = 0, label: int | None = None) -> dict:
    """Decode each group mean and the combination (with variations). Returns {"means": {g: image}, "result": z,
    "images": (n, C, H, W) in [0, 1], "label"}. A class-conditional generator decodes all of them as one class,
    `label` (by default the class the first sample of group A was drawn as): the grid's sample i is class
    i mod K, and decoding each image with a class of its own would change the digit, not just the noise."""
    if gen.cfg.is_conditional and label is None:
        first = next((groups[g][0] for g in ("A", *groups) if groups.get(g)), None)
        if first is None:
            raise PlaygroundError("a group needs at least one picked sample")
        label = int(gen.labels(len(z))[first])
    as_class = (lambda k: None) if label is None else (lambda k: torch.full((k,), int(label), dtype=torch.long))
    means = {g: gen.images(group_mean(z, groups[g]).view(1, -1), as_class(1))[0] for g in signs if groups.get(g)}
    res = combine(z, groups, signs)
    return {"means": means, "result": res, "images": gen.images(variations(res, n, seed=seed), as_class(n)),
            "label": label}
