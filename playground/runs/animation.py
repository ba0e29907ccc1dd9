"""A run's fixed-noise sample grids over training as one animated GIF (one frame per stored grid, in step order).

    python -m playground images gif --run RUN --out grid.gif [--fps 4] [--json]
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np

from playground.errors import PlaygroundError
from playground.runs.rundir import RunDir

MAX_FRAMES = 2000          # bounds the GIF's size for runs that stored very many grids


def grid_frames(run: RunDir) -> tuple[list[int], list[np.ndarray]]:
    """(steps, RGB uint8 frames) of the run's stored sample grids, sorted by step; frames padded to one size."""
    from PIL import Image

    stored = run.samples()[-MAX_FRAMES:]
    if not stored:
        raise PlaygroundError(f"run {run.path} has no sample grids yet (samples/step_*.png)")
    frames = []
    for _, p in stored:
        with Image.open(p) as im:
            frames.append(np.asarray(im.convert("RGB")))
    h = max(f.shape[0] for f in frames)
    w = max(f.shape[1] for f in frames)
    # a run resumed with another grid size still gives one animation: pad smaller frames with black
    frames = [np.pad(f, ((0, h - f.shape[0]), (0, w - f.shape[1]), (0, 0))) for f in frames]
    return [s for s, _ in stored], frames


def grids_gif(run: RunDir, fps: float = 4.0) -> bytes:
    """The animated GIF (bytes) of the run's sample grids, looping forever."""
    import imageio.v3 as iio

    if not 0.1 <= fps <= 50:
        raise PlaygroundError(f"fps {fps} is outside 0.1..50")
    _, frames = grid_frames(run)
    buf = io.BytesIO()
    iio.imwrite(buf, np.stack(frames), extension=".gif", duration=1000.0 / fps, loop=0)
    return buf.getvalue()


def gif_command(args: argparse.Namespace) -> int:
    from playground.cli import emit
    from playground.runs.files import atomic_write_bytes

    run = RunDir.open(args.run)
    data = grids_gif(run, fps=args.fps)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise PlaygroundError(f"folder {out.parent} does not exist")
    atomic_write_bytes(out, data)
    steps, _ = grid_frames(run)
    emit({"out": str(out), "frames": len(steps), "steps": steps, "bytes": len(data)}, args.json)
    return 0


def add_gif_parser(cmds: argparse._SubParsersAction) -> None:
    gi = cmds.add_parser("gif", help="export a run's fixed-noise sample grids over training as an animated GIF")
    gi.add_argument("--run", required=True, help="the run directory")
    gi.add_argument("--out", required=True, help="the .gif file to write")
    gi.add_argument("--fps", type=float, default=4.0, help="frames per second")
    gi.add_argument("--json", action="store_true")
    gi.set_defaults(func=gif_command)
