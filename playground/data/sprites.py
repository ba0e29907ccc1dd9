"""Procedural dSprites-style images: one white (or coloured) shape on black, every factor recorded.

Each factor takes one of a few evenly spaced values; an image is drawn by sampling every factor's index
uniformly from a seeded generator, then rendering the shape exactly (an inside/outside test on a
supersampled pixel grid averaged down, which anti-aliases the edges). Same seed, same images, at any
resolution.
"""

from __future__ import annotations

import functools

import numpy as np

SHAPES = ("square", "ellipse", "heart", "triangle")
PALETTE = np.array([  # used when colour is on: distinct, bright hues
    [1.00, 1.00, 1.00], [1.00, 0.25, 0.25], [0.25, 1.00, 0.25],
    [0.30, 0.45, 1.00], [1.00, 0.90, 0.20], [0.90, 0.30, 1.00]], dtype=np.float32)

# name -> the values its indices stand for
FACTOR_VALUES: dict[str, np.ndarray] = {
    "shape": np.arange(len(SHAPES), dtype=np.float32),
    "scale": np.linspace(0.5, 1.0, 6, dtype=np.float32),           # relative size
    "rotation": np.linspace(0.0, np.pi / 2, 8, endpoint=False, dtype=np.float32),  # radians
    "x": np.linspace(0.0, 1.0, 12, dtype=np.float32),               # 0 = left, 1 = right
    "y": np.linspace(0.0, 1.0, 12, dtype=np.float32),               # 0 = top, 1 = bottom
}
COLOUR_VALUES = np.arange(len(PALETTE), dtype=np.float32)

MAX_RADIUS = 0.28     # of the image side, at scale 1
MARGIN = 0.25         # centres stay within [MARGIN, 1 - MARGIN]


def factor_names(colour: bool) -> list[str]:
    return list(FACTOR_VALUES) + (["colour"] if colour else [])


def factor_values(colour: bool) -> dict[str, np.ndarray]:
    out = dict(FACTOR_VALUES)
    if colour:
        out["colour"] = COLOUR_VALUES
    return out


def sample_factors(n: int, rng: np.random.Generator, colour: bool = False) -> dict[str, np.ndarray]:
    """n uniformly drawn index tuples, one int64 array per factor."""
    return {name: rng.integers(0, len(vals), size=n).astype(np.int64)
            for name, vals in factor_values(colour).items()}


def _inside(shape: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Boolean mask for a unit-size shape in its own frame (u right, v up)."""
    if shape == 0:  # square with half-side 0.8 (its corners touch radius ~1.13)
        return np.maximum(np.abs(u), np.abs(v)) <= 0.8
    if shape == 1:  # ellipse, elongated so rotation is visible
        return (u / 1.0) ** 2 + (v / 0.55) ** 2 <= 1.0
    if shape == 2:  # heart: (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0, scaled to about unit size
        x, y = u * 1.15, v * 1.15 + 0.1
        return (x * x + y * y - 1.0) ** 3 - x * x * y ** 3 <= 0.0
    # equilateral triangle pointing up, vertices on the unit circle
    return (v >= -0.5) & (v <= 1.0 - np.sqrt(3.0) * np.abs(u))


def render(factors: dict[str, np.ndarray], resolution: int = 32, supersample: int = 4,
           colour: bool = False, batch: int = 256) -> np.ndarray:
    """Images (N, C, H, W) float32 in [0, 1] for the given factor indices (C = 3 with colour, else 1).

    Only a window around each shape is rasterised (the shape never leaves it), in batches of images.
    """
    n = len(factors["shape"])
    res, ss = int(resolution), int(supersample)
    out = np.zeros((n, 1, res, res), dtype=np.float32)
    scale = FACTOR_VALUES["scale"][factors["scale"]]
    rot = FACTOR_VALUES["rotation"][factors["rotation"]]
    cx = MARGIN + (1 - 2 * MARGIN) * FACTOR_VALUES["x"][factors["x"]]
    cy = MARGIN + (1 - 2 * MARGIN) * FACTOR_VALUES["y"][factors["y"]]
    reach = MAX_RADIUS * 1.25 * res            # largest extent of any shape from its centre, in pixels
    win = min(res, int(np.ceil(2 * reach)) + 2)  # window side in pixels
    # window origin (top-left pixel), clipped to the image
    x0 = np.clip(np.floor(cx * res - win / 2).astype(int), 0, res - win)
    y0 = np.clip(np.floor(cy * res - win / 2).astype(int), 0, res - win)
    sub = (np.arange(win * ss, dtype=np.float32) + 0.5) / (ss * res)  # sample offsets in image units
    shapes = factors["shape"]
    for shape in np.unique(shapes):
        ids = np.flatnonzero(shapes == shape)
        for start in range(0, len(ids), batch):
            b = ids[start:start + batch]
            gx = x0[b, None, None] / res + sub[None, None, :]   # (B, 1, S)
            gy = y0[b, None, None] / res + sub[None, :, None]   # (B, S, 1)
            r = (MAX_RADIUS * scale[b])[:, None, None]
            dx = (gx - cx[b, None, None]) / r
            dy = (cy[b, None, None] - gy) / r                   # v up
            c, sn = np.cos(rot[b])[:, None, None], np.sin(rot[b])[:, None, None]
            u, v = c * dx + sn * dy, -sn * dx + c * dy          # rotate the frame by -rotation
            mask = _inside(int(shape), u, v).astype(np.float32)  # (B, S, S)
            tiles = mask.reshape(len(b), win, ss, win, ss).mean(axis=(2, 4))
            for k, i in enumerate(b):
                out[i, 0, y0[i]:y0[i] + win, x0[i]:x0[i] + win] = tiles[k]
    if colour:
        rgb = PALETTE[factors["colour"]]  # (n, 3)
        out = out * rgb[:, :, None, None]
    return out


def generate(size: int, seed: int = 0, resolution: int = 32, colour: bool = False,
             stream: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(images, factor indices) for `size` sprites drawn from seed (and a stream id that separates splits)."""
    images, factors = _generate_cached(int(size), int(seed), int(resolution), bool(colour), int(stream))
    return images.copy(), {k: v.copy() for k, v in factors.items()}


@functools.lru_cache(maxsize=6)
def _generate_cached(size: int, seed: int, resolution: int, colour: bool, stream: int):
    rng = np.random.default_rng([seed, stream])
    factors = sample_factors(size, rng, colour)
    return render(factors, resolution, colour=colour), factors
