"""TensorBoard event files beside a run's metrics.jsonl (scalars: losses and scores; images: sample grids).

`tensorboard --logdir runs` then shows every run. Without the tensorboard package every call is a no-op:
the run directory's own files stay the source of truth.
"""

from __future__ import annotations

import numbers
from pathlib import Path

_WRITERS: dict[str, object] = {}      # one writer (one event file) per run directory in this process


def _writer(run_path: Path):
    key = str(Path(run_path).resolve())
    if key not in _WRITERS:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:            # tensorboard not installed: events are optional
            _WRITERS[key] = None
        else:
            _WRITERS[key] = SummaryWriter(log_dir=key, flush_secs=30)
    return _WRITERS[key]


def row_step(row: dict) -> int:
    """The x of a metrics row: its step, else its epoch, else 0."""
    for k in ("step", "epoch"):
        if isinstance(row.get(k), numbers.Number):
            return int(row[k])
    return 0


def log_scalars(run_path: Path, row: dict) -> None:
    """Every finite number of one metrics row as a scalar at its step (bools and the step/epoch keys skipped)."""
    w = _writer(run_path)
    if w is None:
        return
    step = row_step(row)
    for k, v in row.items():
        if k in ("step", "epoch") or isinstance(v, bool) or not isinstance(v, numbers.Number):
            continue
        w.add_scalar(k, float(v), step)
    w.flush()


def log_grid(run_path: Path, step: int, images, nrow: int | None = None) -> None:
    """A sample grid (N, C, H, W) in [0, 1] as the image `samples` at this step, `nrow` per row."""
    w = _writer(run_path)
    if w is None:
        return
    import torch
    import torchvision.utils as vutils

    x = torch.as_tensor(images).float().clamp(0, 1)
    w.add_image("samples", vutils.make_grid(x, nrow=nrow or max(1, int(len(x) ** 0.5))), int(step))
    w.flush()


def close(run_path: Path) -> None:
    """Close the run's writer (tests; a finished process closes them at exit anyway)."""
    w = _WRITERS.pop(str(Path(run_path).resolve()), None)
    if w is not None:
        w.close()
