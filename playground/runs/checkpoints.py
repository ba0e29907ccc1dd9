"""One checkpoint format for every trainer: a dict of tensors, numbers, strings and containers, tagged.

    {"format": "playground.<family>/<version>", "config": {...}, "versions": {...}, ...the trainer's state}

Saved with torch.save into an atomic write (temp file, fsync, rename); loaded with `weights_only=True`,
which refuses anything but plain data, so a checkpoint from elsewhere can never run code. The format tag
tells a file of this playground (and of which family) from any other .pt file. A run keeps its checkpoints
at `checkpoints/latest.pt` and `checkpoints/best.pt`.
"""

from __future__ import annotations

import hashlib
import io
import platform
from pathlib import Path

from playground.errors import PlaygroundError
from playground.runs.files import atomic_write_bytes
from playground.userfiles import check_size

LATEST, BEST = "latest", "best"
MAX_BYTES = 2_000_000_000


def sha256_file(path: Path | str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def versions() -> dict[str, str]:
    """The library versions a checkpoint was written with (for the record; loading does not depend on them)."""
    import numpy
    import torch

    return {"torch": str(torch.__version__), "numpy": str(numpy.__version__), "python": platform.python_version()}


def save_checkpoint(path: Path | str, state: dict, format: str) -> Path:
    """Write `state` tagged with `format`, atomically; returns the path."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    torch.save({**state, "format": format}, buf)
    atomic_write_bytes(path, buf.getvalue())
    return path


def load_checkpoint(path: Path | str, format: str, *, what: str = "checkpoint", max_bytes: int = MAX_BYTES,
                    sha256: str | None = None) -> dict:
    """The checkpoint dict at `path` after the size, hash (when given) and format checks; never unpickles
    arbitrary objects. `what` names the kind of file in messages ("VAE checkpoint")."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise PlaygroundError(f"no {what} at {path}")
    check_size(path.stat().st_size, max_bytes, f"the {what} {path}")
    if sha256:
        actual = sha256_file(path)
        if actual != sha256.lower():
            raise PlaygroundError(f"{path.name} fails its hash check (sha256 {actual[:12]}... expected "
                                  f"{sha256[:12]}...): the file is corrupt or was changed; retrain or restore it")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - refusals, garbled zips, foreign formats: any failure = untrusted
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise PlaygroundError(f"{path} is not a loadable {what}: not a trusted checkpoint (refused by the "
                              f"weights-only loader: {first[:160]})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != format:
        raise PlaygroundError(f"{path} is not a {what} written by this playground (format {format})")
    return ckpt
