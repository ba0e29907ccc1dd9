"""`python -m playground images view`: the Sample page's model views as PNGs, with the page's defaults."""

import json

import pytest

from playground.cli import main
from playground.images import model_views as V
from playground.images import sampling


def _view(tmp_path, capsys, *argv):
    out = tmp_path / "v.png"
    assert main(["images", "view", *argv, "--out", str(out), "--json"]) == 0
    return out.read_bytes(), json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_class_views_are_the_pages_pictures(tmp_path, capsys):
    gen = sampling.load_model("mnist5k-cgan")
    png, info = _view(tmp_path, capsys, "--run", "mnist5k-cgan", "--view", "class-grid")
    page = V.class_noise_grid(gen, V.GRID_COLUMNS, 0, None)              # what the page draws by default
    assert png == sampling.grid_png(page, nrow=V.GRID_COLUMNS, scale=sampling.auto_scale(gen.resolution))
    assert info["images"] == gen.num_classes * V.GRID_COLUMNS
    png, info = _view(tmp_path, capsys, "--run", "mnist5k-cgan", "--view", "class-interp", "--from-class", "3",
                      "--to-class", "8")
    assert info["images"] == V.INTERP_ROWS * V.INTERP_STEPS
    assert png == sampling.grid_png(V.class_interpolation(gen, 3, 8), nrow=V.INTERP_STEPS,
                                    scale=sampling.auto_scale(gen.resolution))


def test_trajectory_and_completion_and_bad_requests(tmp_path, capsys):
    _, info = _view(tmp_path, capsys, "--run", "mnist5k-cflow", "--view", "trajectory", "--steps", "10")
    assert info["images"] == 2 * len(info["states_after_steps"]) and info["states_after_steps"][-1] == 10
    _, info = _view(tmp_path, capsys, "--run", "mnist5k-cpixelcnn", "--view", "completion", "--index", "5", "--n", "2")
    tests, labels = V.held_out_images(sampling.load_model("mnist5k-cpixelcnn"), 6)
    assert info["images"] == 2 and info["label"] == int(labels[5])          # completed as its own class
    assert main(["images", "view", "--run", "mnist5k-sngan", "--view", "class-grid", "--out",
                 str(tmp_path / "x.png")]) == 2
    assert "class-conditional" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["images", "view", "--run", "mnist5k-cgan", "--view", "melt", "--out", str(tmp_path / "x.png")])


def test_the_pixel_sampler_as_a_gif(tmp_path, capsys):
    """--view pixels: the page's sampler frame by frame, `every` more pixels decided in each, ending on the
    images `sample(n, seed)` draws."""
    import imageio.v3 as iio
    import numpy as np

    run = tmp_path / "px"
    assert main(["images", "train", "--dataset", "digits", "--model", "pixelcnn", "--steps", "2", "--batch-size",
                 "8", "--pixelcnn-width", "8", "--pixelcnn-blocks", "1", "--eval-every", "0", "--sample-every", "2",
                 "--eval-samples", "16", "--threads", "1", "--device", "cpu", "--out", str(run), "--json"]) == 0
    capsys.readouterr()
    gif = tmp_path / "px.gif"
    assert main(["images", "view", "--run", str(run), "--view", "pixels", "--n", "4", "--every", "8", "--seed", "3",
                 "--scale", "1", "--out", str(gif), "--json"]) == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    frames = iio.imread(gif, index=None, extension=".gif")[..., :3]
    assert info["frames"] == len(frames) == 64 // 8 and info["pixels_per_frame"] == 8
    undecided = np.round(np.array(V.UNDECIDED) * 255).astype(int)
    tiles = [frames[:, 1 + r * 9:9 + r * 9, 1 + c * 9:9 + c * 9] for r in range(2) for c in range(2)]   # 2 x 2 grid
    for k in range(len(frames)):
        open_ = [int((np.abs(t[k].astype(int) - undecided).sum(-1) < 8).sum()) for t in tiles]
        assert open_ == [64 - 8 * (k + 1)] * 4, (k, open_)                 # raster order, 8 more each frame
    gen = sampling.load_model(run)
    final = gen.sample(4, seed=3).numpy()
    assert np.array_equal(np.stack([t[-1, :, :, 0] for t in tiles]) > 127, final[:, 0] > 0.5)
    assert main(["images", "view", "--run", str(run), "--view", "pixels", "--out", str(tmp_path / "x.png")]) == 2
    assert ".gif" in capsys.readouterr().err
    assert main(["images", "view", "--run", str(run), "--view", "pixels", "--n", "64", "--every", "1", "--scale",
                 "32", "--out", str(gif)]) == 2                       # ~13 GB of frames: refused before drawing
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "too large an animation" in err
