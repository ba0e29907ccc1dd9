"""The image Train page offers a run's sample grids over training as a GIF download."""

import io

from PIL import Image

from playground.runs.animation import grids_gif
from playground.runs.rundir import RunDir
from tests.test_page_image_train import TRAIN, make_run, page


def test_run_view_offers_the_grids_gif(tmp_path):
    run_path = make_run(tmp_path, "alpha")        # sample_every 2 over 6 steps: several grids
    at = page(TRAIN, tmp_path, "img_runs_dir")
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == ["grids over training (GIF)"]
    run = RunDir(run_path)
    assert Image.open(io.BytesIO(grids_gif(run))).n_frames == len(run.samples()) > 1
