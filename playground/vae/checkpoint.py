"""Checkpoints: a dict of state dicts + config + versions, saved with torch.save, loaded with weights_only.

A checkpoint may be checked against a sha256 (a pretrained card's, or one given by the user) before anything
is deserialised; a file whose tensors do not fit the model its config describes is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path
from typing import Any

import torch

from playground.cards import read_card
from playground.configs import from_dict, to_dict
from playground.errors import PlaygroundError
from playground.userfiles import check_size
from playground.vae.config import VAEConfig
from playground.vae.model import VAE, build_model

FORMAT = "playground.vae/1"
MAX_CHECKPOINT_BYTES = 200_000_000


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def versions() -> dict[str, str]:
    import numpy

    return {"torch": str(torch.__version__), "numpy": str(numpy.__version__), "python": platform.python_version()}


def save_checkpoint(path: str | Path, model: VAE, *, optimizer: torch.optim.Optimizer | None = None,
                    epoch: int = 0, step: int = 0, metrics: dict | None = None, extra: dict | None = None) -> Path:
    """Write atomically (temp file + rename) so a reader never sees half a checkpoint."""
    path = Path(path)
    ckpt: dict[str, Any] = {
        "format": FORMAT,
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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(ckpt, tmp)
    os.replace(tmp, path)
    return path


def read_checkpoint(path: str | Path, sha256: str | None = None) -> dict:
    """The raw checkpoint dict, after the size and (optional) hash checks; never unpickles arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        raise PlaygroundError(f"no such checkpoint: {path}")
    check_size(path.stat().st_size, MAX_CHECKPOINT_BYTES, f"the VAE checkpoint {path}")
    if sha256 is None:
        sha256 = card_sha256(path)
    if sha256:  # "" skips the check (a fresh file without its card yet)
        actual = sha256_file(path)
        if actual != sha256.lower():
            raise PlaygroundError(f"{path.name} fails its hash check (sha256 {actual[:12]}... expected "
                                  f"{sha256[:12]}...): the file is corrupt or was changed; retrain or restore it")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # unpickling errors, truncated zips, foreign formats
        raise PlaygroundError(f"{path.name} is not a loadable VAE checkpoint ({type(e).__name__}: "
                              f"{str(e).splitlines()[0][:120] if str(e) else ''})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise PlaygroundError(f"{path.name} is not a VAE checkpoint of this playground (format {FORMAT})")
    return ckpt


def card_sha256(path: Path) -> str | None:
    """The sha256 a pretrained card next to this file promises (CARD.json with "weights": this file's name)."""
    try:
        data = read_card(path.with_suffix(".json"))
    except PlaygroundError:         # not a card of ours (a user's own JSON beside their file)
        return None
    if data is not None and data.get("weights") == path.name and isinstance(data.get("sha256"), str):
        return data["sha256"]
    return None


def model_from_checkpoint(ckpt: dict, name: str = "checkpoint") -> VAE:
    try:
        cfg = from_dict(VAEConfig, ckpt["config"], strict=False)
        shape = tuple(int(s) for s in ckpt["data"]["shape"])
        num_classes = ckpt["data"].get("num_classes") or None
    except (KeyError, TypeError) as e:
        raise PlaygroundError(f"{name} lacks its config or data shape ({e})") from None
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
