"""`images gif`: a run's stored sample grids become an animated GIF, one frame per grid, in step order."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from playground.errors import PlaygroundError
from playground.runs.animation import grid_frames, grids_gif
from playground.runs.rundir import RunDir


def _run_with_grids(tmp_path, steps):
    run = RunDir.create(tmp_path / "run", {"model": "dcgan"}, kind="images")
    for s in steps:   # each grid a distinct flat grey, so a frame says which step it came from
        run.save_samples(s, torch.full((4, 1, 6, 6), s / 1000.0))
    return run


def test_one_frame_per_grid_in_step_order(tmp_path):
    steps = [300, 100, 1000, 200]                       # written out of order on purpose
    run = _run_with_grids(tmp_path, steps)
    got_steps, frames = grid_frames(run)
    assert got_steps == sorted(steps)
    gif = Image.open(io.BytesIO(grids_gif(run, fps=5)))
    assert gif.n_frames == len(steps)
    centres = []
    for i in range(gif.n_frames):
        gif.seek(i)
        centres.append(np.asarray(gif.convert("L"))[3, 3])   # a pixel inside the first image of the grid
    # grey level rises with the step: frames are in step order (GIF palettes are exact for flat greys)
    assert centres == sorted(centres) and len(set(centres)) == len(steps)
    assert abs(int(centres[-1]) - 255) <= 2 and abs(int(centres[0]) - round(0.1 * 255)) <= 2


def test_no_grids_is_a_plain_error(tmp_path):
    run = _run_with_grids(tmp_path, [])
    with pytest.raises(PlaygroundError, match="no sample grids"):
        grids_gif(run)


def test_cli_writes_the_gif(tmp_path):
    run = _run_with_grids(tmp_path, [10, 20, 30])
    out = tmp_path / "grid.gif"
    proc = subprocess.run([sys.executable, "-m", "playground", "images", "gif", "--run", str(run.path),
                           "--out", str(out), "--json"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["steps"] == [10, 20, 30]
    assert Image.open(out).n_frames == 3
    bad = subprocess.run([sys.executable, "-m", "playground", "images", "gif", "--run", str(tmp_path / "nope"),
                          "--out", str(out)], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
