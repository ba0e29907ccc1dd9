"""The probe page's experiments, shared with `python -m playground images probe|memorise` (same defaults):
score curves of disturbed test images, and the memorisation check of a run's samples."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from playground.configs import spec
from playground.errors import PlaygroundError
from playground.images.disturb import Disturbance

DEFAULT_KINDS = ("gaussian_noise", "blur")
DEFAULT_STRENGTHS = "0, 0.25, 0.5, 0.75, 1"
DEFAULT_TEST_IMAGES = 300


@dataclass
class ProbeConfig:
    """The score-curve experiment: the probe page's widgets and URL, and `images probe`'s flags."""
    dataset: Literal["mnist5k", "digits"] = spec("mnist5k", "dataset (its feature classifier ships)")
    kinds: tuple[Disturbance, ...] = spec(DEFAULT_KINDS, "disturbances of the test images")
    strengths: str = spec(DEFAULT_STRENGTHS, "1 to 11 strengths in [0, 1], comma-separated")
    n_test: int = spec(DEFAULT_TEST_IMAGES, "test images disturbed and scored", lo=20, hi=2000)
    seed: int = spec(0, "seed of the disturbances", lo=0, hi=10_000)
DEFAULT_SAMPLES, DEFAULT_NEIGHBOURS = 64, 4


def parse_strengths(text: str) -> tuple:
    """'0, 0.25, 1' -> (0.0, 0.25, 1.0): 1 to 11 strengths in [0, 1], sorted, without repeats."""
    try:
        vals = tuple(float(v) for v in text.replace(";", ",").split(",") if v.strip())
    except ValueError:
        raise PlaygroundError(f"strengths must be numbers separated by commas, got {text!r}") from None
    if not vals or len(vals) > 11 or any(not 0 <= v <= 1 for v in vals):
        raise PlaygroundError("give 1 to 11 strengths, each between 0 and 1")
    return tuple(sorted(set(vals)))


def probe_data(dataset: str, resolution: int | None = None, channels: int | None = None):
    """Train and test splits, the dataset's classifier, and the training features."""
    from playground.data import load_dataset
    from playground.images.metrics import make_extractor

    tr = load_dataset(dataset, "train", resolution=resolution, channels=channels)
    te = load_dataset(dataset, "test", resolution=resolution, channels=channels)
    res, ch = tr.images.shape[-1], tr.images.shape[1]
    ex = make_extractor("auto", dataset, res, ch,
                        load=lambda split: load_dataset(dataset, split, resolution=res, channels=ch))
    return tr, te, ex, ex(tr.images)


def curve(data, kind: str, strengths: tuple, n_test: int = DEFAULT_TEST_IMAGES, seed: int = 0) -> dict:
    """FID and IS of the first n_test test images disturbed by `kind` at each strength (data: probe_data)."""
    from playground.images.disturb import score_curve

    tr, te, ex, feats = data
    return score_curve(te.images[:n_test], feats, ex, kind, strengths, labels=te.labels[:n_test], seed=seed)


def memorisation(gen, data, n: int = DEFAULT_SAMPLES, seed: int = 0, k: int = DEFAULT_NEIGHBOURS):
    """(samples, training images as the run sees them, memorisation_check's result): a run on bits is compared
    with binarised images (grey ones would push its samples away from the training set and hide copying)."""
    from playground.images import sampling
    from playground.images.memorisation import memorisation_check
    from playground.images.training_data import as_trained

    samples = torch.from_numpy(sampling.grid(gen, n, seed=seed))
    tr, te, ex, _ = data
    train, test = as_trained(gen.cfg, tr.images), as_trained(gen.cfg, te.images)
    return samples, train, memorisation_check(samples, test, train, ex, k=k)
