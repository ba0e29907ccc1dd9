"""playground.pictures: the grid layout against tiles placed by hand, upscaling against np.kron, PNG round trips."""

import io

import numpy as np
import torch
from PIL import Image

from playground.pictures import grid_image, png_bytes, to_uint8


def placed_by_hand(images: np.ndarray, nrow: int, pad: int, pad_value: float) -> np.ndarray:
    n, c, h, w = images.shape
    rows = -(-n // nrow)
    out = np.full((c, rows * (h + pad) + pad, nrow * (w + pad) + pad), pad_value, dtype=np.float32)
    for i in range(n):
        r, q = divmod(i, nrow)
        top, left = pad + r * (h + pad), pad + q * (w + pad)
        out[:, top:top + h, left:left + w] = images[i]
    return out


def test_grey_grid_matches_tiles_placed_by_hand():
    x = np.random.default_rng(0).random((5, 1, 4, 3)).astype(np.float32)
    g = grid_image(x, nrow=3, pad=2, pad_value=0.3)
    assert g.dtype == np.uint8 and g.shape == (2 * 6 + 2, 3 * 5 + 2)
    assert np.array_equal(g, (placed_by_hand(x, 3, 2, 0.3)[0] * 255 + 0.5).astype(np.uint8))


def test_colour_grid_default_layout_and_tensor_input():
    x = torch.rand(7, 3, 5, 5, generator=torch.Generator().manual_seed(1))
    g = grid_image(x)                                   # ceil(sqrt(7)) = 3 per row, white 1-pixel frame
    ref = (placed_by_hand(x.numpy(), 3, 1, 1.0).transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8)
    assert g.shape == (3 * 6 + 1, 3 * 6 + 1, 3) and np.array_equal(g, ref)


def test_upscale_is_nearest_neighbour_of_the_whole_layout():
    x = np.random.default_rng(2).random((4, 1, 3, 3)).astype(np.float32)
    small = grid_image(x, nrow=2, pad=1, pad_value=0.3)
    big = grid_image(x, nrow=2, pad=4, pad_value=0.3, upscale=4)       # frame scaled with the tiles
    assert np.array_equal(big, np.kron(small, np.ones((4, 4), dtype=np.uint8)))


def test_a_single_image_keeps_its_frame():
    g = grid_image(np.zeros((1, 1, 2, 2), np.float32), pad=1)
    assert g.shape == (4, 4) and g[1:3, 1:3].max() == 0 and g[0].min() == 255


def test_to_uint8_rounds_and_clips():
    x = np.array([[[-0.5, 0.0, 0.5 / 255, 1.0, 2.0]]], np.float32)
    assert to_uint8(x).tolist() == [[0, 0, 1, 255, 255]]
    assert to_uint8(np.zeros((4, 2, 2), np.float32)).shape == (2, 2, 3)      # alpha dropped


def test_png_round_trip_scale_and_compression():
    img = (np.random.default_rng(3).random((6, 5, 3)) * 255).astype(np.uint8)
    for level in (1, 6):
        back = np.asarray(Image.open(io.BytesIO(png_bytes(img, compress_level=level))))
        assert np.array_equal(back, img)
    big = Image.open(io.BytesIO(png_bytes(img[..., 0], scale=3)))
    assert big.size == (15, 18) and big.mode == "L"
    assert np.array_equal(np.asarray(big), np.kron(img[..., 0], np.ones((3, 3), dtype=np.uint8)))
