"""Checkpoints: a dict of state dicts + config + versions, saved with torch.save, loaded with weights_only.

A checkpoint may be checked against a sha256 (a pretrained card's, or one given by the user) before anything
is deserialised; a file whose tensors do not fit the model its config describes is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from playground.cards import card_beside
from playground.configs import from_dict, to_dict
from playground.errors import PlaygroundError
from playground.runs.checkpoints import load_checkpoint as load_tagged
from playground.runs.checkpoints import save_checkpoint as save_tagged
from playground.runs.checkpoints import sha256_file, versions  # noqa: F401 (re-exported)
from playground.vae.config import VAEConfig
from playground.vae.model import VAE, build_model
from playground.vae.pretrained import ROOT as SHIPPED

FORMAT = "playground.vae/1"
MAX_CHECKPOINT_BYTES = 200_000_000


def save_checkpoint(path: str | Path, model: VAE, *, optimizer: torch.optim.Optimizer | None = None,
                    epoch: int = 0, step: int = 0, metrics: dict | None = None, extra: dict | None = None) -> Path:
    """Write through the run layer (atomic, fsync'd, tagged FORMAT) so a reader never sees half a checkpoint."""
    ckpt: dict[str, Any] = {
        "config": to_dict(model.cfg),
        "data": {"shape": list(model.shape), "num_classes": model.num_classes},
        "model": model.state_dict(),
        "epoch": int(epoch),
        "step": int(step),
        "metrics": json.loads(json.dumps(metrics or {})),
        "versions": versions(),
    }
    if optimizer is not None:
        ckpt["optimizer"] = optimizer.state_dict()
    if extra:
        ckpt["extra"] = json.loads(json.dumps(extra))
    return save_tagged(path, ckpt, FORMAT)


def read_checkpoint(path: str | Path, sha256: str | None = None) -> dict:
    """The raw checkpoint dict, after the size and (optional) hash checks; never unpickles arbitrary objects."""
    path = Path(path)
    if sha256 is None and path.is_file():
        sha256 = card_sha256(path)            # "" skips the check (a fresh file without its card yet)
    return load_tagged(path, FORMAT, what="VAE checkpoint", max_bytes=MAX_CHECKPOINT_BYTES, sha256=sha256)


def card_sha256(path: Path) -> str | None:
    """The sha256 a pretrained card next to this file promises (CARD.json with "weights": this file's name)."""
    data = card_beside(path.with_suffix(".json"), None, SHIPPED)
    if data is not None and data.get("weights") == path.name and isinstance(data.get("sha256"), str):
        return data["sha256"]
    return None


def model_from_checkpoint(ckpt: dict, name: str = "checkpoint") -> VAE:
    try:
        cfg = from_dict(VAEConfig, ckpt["config"], strict=False)
        shape = tuple(int(s) for s in ckpt["data"]["shape"])
        num_classes = ckpt["data"].get("num_classes") or None
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise PlaygroundError(f"{name} lacks its config or data shape ({e})") from None
    # bounded before any network is built: a hand-made shape of 1 x 30000 x 30000 would ask for 460 GB
    if len(shape) != 3 or shape[0] not in (1, 3) or not all(4 <= s <= 256 for s in shape[1:]):
        raise PlaygroundError(f"{name} has an image shape this lab cannot hold: {shape} (channels 1 or 3, "
                              "4 to 256 pixels a side)")
    if num_classes is not None and not (isinstance(num_classes, int) and 1 <= num_classes <= 1000):
        raise PlaygroundError(f"{name} has an impossible number of classes: {num_classes!r}")
    model = build_model(cfg, shape, num_classes)
    state = ckpt.get("model")
    if not isinstance(state, dict):
        raise PlaygroundError(f"{name} holds no model weights")
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        raise PlaygroundError(f"{name} does not match its config: missing {missing[:3]}, unexpected {unexpected[:3]}")
    for k, v in own.items():
        if not isinstance(state[k], torch.Tensor) or tuple(state[k].shape) != tuple(v.shape):
            got = tuple(state[k].shape) if isinstance(state[k], torch.Tensor) else type(state[k]).__name__
            raise PlaygroundError(f"{name}: weight {k} has shape {got}, the config needs {tuple(v.shape)}")
    model.load_state_dict(state)
    model.eval()
    return model


def load_checkpoint(path: str | Path, sha256: str | None = None) -> tuple[VAE, dict]:
    """(model in eval mode, checkpoint dict). sha256: expected hash (default: the card next to the file)."""
    ckpt = read_checkpoint(path, sha256)
    return model_from_checkpoint(ckpt, Path(path).name), ckpt
