"""The image the VAE inference views look at: a test image, or an upload read, bounded and inverted the same way
on the page and in the `vae posterior|amortise|gradients|outlier` commands; the test images computed behind it."""

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from app.headless import ROOT
from playground.cli import main
from playground.data import load_dataset
from playground.errors import PlaygroundError
from playground.vae import inspector as I
from playground.vae import posterior as P
from playground.vae.checkpoint import load_checkpoint
from playground.vae.latent import image_input

DIGITS_2D = ROOT / "pretrained/vae/digits-2d.pt"


@pytest.fixture(scope="module")
def digits():
    model, _ = load_checkpoint(DIGITS_2D)
    return model, load_dataset("digits", split="test")


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def test_a_test_pick_is_the_test_image(digits):
    model, test = digits
    pick = I.test_pick(model, test, 7)
    x, y = P.test_image(model, test, 7)
    assert torch.equal(pick.x, x) and pick.y == y and pick.key == ("test", 7) and pick.where == "test image #7"
    with pytest.raises(PlaygroundError):
        I.test_pick(model, test, len(test))


def test_an_upload_that_looks_inverted_is_inverted_unless_told(digits):
    model, test = digits
    digit = (test.images[3, 0].numpy() * 255).astype(np.uint8)          # light strokes on black, like the data
    light, dark = _png(digit), _png(255 - digit)                           # and dark strokes on white paper
    plain = image_input(model, light, I.MAX_UPLOAD)
    kept, flipped = I.upload_pick(model, light, "a.png"), I.upload_pick(model, dark, "b.png")
    assert not kept.inverted and torch.equal(kept.x, plain)
    assert flipped.inverted and torch.allclose(flipped.x, plain, atol=1 / 255)    # back to the data's look
    forced = I.upload_pick(model, dark, "b.png", invert=False)
    assert not forced.inverted and forced.key != flipped.key and torch.allclose(forced.x, 1 - plain, atol=1 / 255)
    assert flipped.key[0] == "upload" and flipped.where == "upload b.png" and kept.y is None
    with pytest.raises(PlaygroundError, match="too big"):
        I.upload_pick(model, dark, "b.png", max_bytes=10)


def test_the_neighbours_of_a_test_image_are_the_next_and_previous_ones(digits):
    model, test = digits
    n = len(test)
    assert I.neighbours(I.test_pick(model, test, 0), n) == [1]
    assert I.neighbours(I.test_pick(model, test, 5), n) == [6, 4]
    assert I.neighbours(I.test_pick(model, test, n - 1), n) == [n - 2]
    up = I.upload_pick(model, _png(np.zeros((8, 8), np.uint8)), "z.png")
    assert I.neighbours(up, n) == []
    assert I.near(("test", 4), ("test", 5)) and not I.near(("test", 3), ("test", 5))
    assert I.near(up.key, up.key) and not I.near(("test", 0), up.key)


def test_the_cli_inverts_an_upload_as_the_page_does(digits, tmp_path, capsys):
    model, test = digits
    digit = (test.images[3, 0].numpy() * 255).astype(np.uint8)
    path = tmp_path / "paper.png"
    path.write_bytes(_png(255 - digit))
    common = ["vae", "posterior", "--checkpoint", str(DIGITS_2D), "--image", str(path), "--grid", "50",
              "--scan", "32", "--samples", "1000", "--k", "1,10", "--json"]
    got = {}
    for invert in ("auto", "no"):
        assert main([*common, "--invert", invert]) == 0
        got[invert] = json.loads(capsys.readouterr().out)["log_px"]
    page = I.upload_pick(model, path.read_bytes(), path.name)              # what the page inspects by default
    assert got["auto"] == pytest.approx(P.posterior_grid(model, page.x, page.y, n=50, scan=32).log_px, abs=1e-9)
    assert got["no"] < got["auto"] - 5                                     # white paper is unlike any digit


def test_what_a_link_names_is_resolved_or_reported():
    cfg = I.InspectorConfig(model="digits-2d", index=5000, grid=120)
    sources = ["pretrained: mnist5k-2d", "pretrained: digits-2d"]
    assert I.linked_model(sources, cfg) == ("pretrained: digits-2d", None)
    label, problem = I.linked_model(sources, I.InspectorConfig(model="gone"))
    assert label == "pretrained: mnist5k-2d" and "'gone'" in problem
    assert I.linked_model(["run: mine"], I.InspectorConfig())[0] == "run: mine"
    assert I.linked_index(cfg, 300) == (299, "test image 5000: this model has 300 (0 to 299)")
    assert I.linked_index(I.InspectorConfig(index=7), 300) == (7, None)
    assert I.nearest_grid(120) == 100 and I.nearest_grid(140) == 150 and I.nearest_grid(16) == 50
