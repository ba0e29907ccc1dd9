"""`python -m playground vae view`: the VAE lab's decoder views as PNGs, with the page's defaults."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from playground.cli import main
from playground.vae import latent as L
from playground.vae.checkpoint import load_checkpoint

VAE = Path(__file__).resolve().parents[1] / "pretrained" / "vae"


def _png(tmp_path, capsys, *argv):
    out = tmp_path / "v.png"
    assert main(["vae", "view", *argv, "--out", str(out), "--json"]) == 0
    return np.asarray(Image.open(io.BytesIO(out.read_bytes())).convert("L")), json.loads(
        capsys.readouterr().out.strip().splitlines()[-1])


def _tiles(picture: np.ndarray, n_cols: int, size: int, scale: int) -> list[np.ndarray]:
    """The tiles of save_image's grid (padding 1) of `size`-px images upscaled by `scale`."""
    t = size * scale + 1
    rows = (picture.shape[0] - 1) // t
    return [picture[1 + r * t:1 + r * t + size * scale:scale, 1 + c * t:1 + c * t + size * scale:scale]
            for r in range(rows) for c in range(n_cols)]


def test_manifold_and_decode_are_the_pages_decoder(tmp_path, capsys):
    model, _ = load_checkpoint(VAE / "digits-2d.pt")
    pic, info = _png(tmp_path, capsys, "--checkpoint", str(VAE / "digits-2d.pt"), "--view", "manifold")
    assert info["tiles"] == L.MANIFOLD_N ** 2                      # the page's grid by default
    page = L.grid_2d(model, (0, 1), n=L.MANIFOLD_N)[0].numpy()[:, 0]
    tiles = _tiles(pic, L.MANIFOLD_N, 8, 4)
    assert len(tiles) == len(page)
    assert max(np.abs(t / 255.0 - p).max() for t, p in zip(tiles, page)) < 1 / 255 + 1e-6
    pic, _ = _png(tmp_path, capsys, "--checkpoint", str(VAE / "digits-2d.pt"), "--view", "decode", "--z", "0.5", "-1")
    want = L.decode(model, np.array([[0.5, -1.0]], dtype=np.float32)).numpy()[0, 0]
    assert np.abs(pic[::4, ::4] / 255.0 - want).max() < 1 / 255 + 1e-6     # one image: no grid padding


def test_class_swap_and_interpolation_and_bad_input(tmp_path, capsys):
    _, info = _png(tmp_path, capsys, "--checkpoint", str(VAE / "digits-cvae.pt"), "--view", "class-swap")
    assert info["images"] == list(L.SWAP_IMAGES) and info["tiles"] == 10 * len(L.SWAP_IMAGES)
    _, info = _png(tmp_path, capsys, "--checkpoint", str(VAE / "digits-2d.pt"), "--view", "interpolate",
                   "--images", "3", "7")
    assert info["tiles"] == L.INTERP_STEPS
    for bad, says in ((["--view", "decode", "--z", "1"], "--z takes 2"), (["--view", "class-swap"], "conditional"),
                      (["--view", "manifold", "--dims", "0", "0"], "different")):
        assert main(["vae", "view", "--checkpoint", str(VAE / "digits-2d.pt"), *bad, "--out",
                     str(tmp_path / "x.png")]) == 2
        assert says in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["vae", "view", "--checkpoint", str(VAE / "digits-2d.pt"), "--view", "melt", "--out", "x.png"])
