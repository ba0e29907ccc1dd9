"""The VAEs the lab can open: the shipped models (pretrained/vae cards), then VAE runs that have a checkpoint.

Labels read `pretrained: NAME` and `run: NAME`; a shared link names a model by NAME alone (`?model=NAME`).
`open_model` loads one with what every view needs (its test set, the test set's posterior, the decoder program).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from playground.errors import PlaygroundError
from playground.runs.root import runs_root
from playground.runs.rundir import RunDir, list_runs
from playground.vae.pretrained import ROOT, cards


def model_sources(root: Path | str | None = None) -> dict[str, dict]:
    """label -> {path, sha, title, card | run}: shipped models first, then runs under `root` (default: the run
    root) and under its `vae/` folder (where the lab put them before the one run root), newest first. `sha` is
    the card's weights hash ("" for runs, which are still being written)."""
    out = {f"pretrained: {name}": {"path": str(ROOT / card["weights"]), "sha": card["sha256"],
                                   "title": card["title"], "card": card} for name, card in cards().items()}
    root = Path(root) if root is not None else runs_root()
    for row in list_runs(root, kind="vae") + list_runs(root / "vae", kind="vae"):
        ck = RunDir(row["path"]).latest_path
        if ck.is_file():
            out[f"run: {row['name']}"] = {"path": str(ck), "sha": "", "title": f"{row['name']} ({row['state']})",
                                          "run": row["path"]}
    return out


def short_name(label: str) -> str:
    """`pretrained: digits-2d` -> `digits-2d` (the name a URL carries)."""
    return label.split(": ", 1)[-1]


def find(labels, name: str | None) -> str | None:
    """The label whose short name is `name`, if any."""
    return next((lab for lab in labels if name and short_name(lab) == name), None)


@dataclass(frozen=True)
class OpenedModel:
    """A VAE ready for the lab."""

    model: Any                 # playground.vae.model.VAE, in eval mode
    checkpoint: dict           # its checkpoint (config, metrics, epoch...)
    test: Any                  # the test split of its dataset (playground.data.ImageDataset)
    mu: np.ndarray             # posterior means of the test set (N, D)
    std: np.ndarray            # posterior standard deviations (N, D)
    program: dict | None       # the decoder as a program for the browser (None: the exporter does not know it)

    @property
    def metrics(self) -> dict:
        return self.checkpoint.get("metrics") or {}


def open_model(path: str | Path, sha256: str | None = None) -> OpenedModel:
    """Load a checkpoint (checked against `sha256`, or its card) with its test set and decoder program."""
    from playground.data import load_dataset
    from playground.vae.checkpoint import load_checkpoint
    from playground.vae.export import decoder_program
    from playground.vae.latent import encode

    model, ckpt = load_checkpoint(path, sha256=sha256)
    test = load_dataset(model.cfg.dataset, **model.cfg.data_kwargs("test"))
    mu, std = encode(model, test.images, test.labels if model.num_classes else None)
    try:
        program = decoder_program(model)
    except PlaygroundError:
        program = None
    return OpenedModel(model, ckpt, test, mu, std, program)
