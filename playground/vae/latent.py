"""Latent-space operations on a trained VAE: decode, encode, traversals, 2D grids, interpolation, class swaps."""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import norm

from playground.latent_paths import latent_path
from playground.pictures import grid_image, png_bytes, to_uint8
from playground.vae.model import VAE


def _z(z, latent: int) -> torch.Tensor:
    z = torch.as_tensor(np.asarray(z, dtype=np.float32))
    return z.reshape(-1, latent)


@torch.no_grad()
def decode(model: VAE, z, y=None) -> torch.Tensor:
    """Mean images (N, C, H, W) in [0, 1] for codes z (N, D) or (D,)."""
    z = _z(z, model.latent)
    return model.decode(z, _labels(model, y, len(z))).clamp(0, 1)


@torch.no_grad()
def decode_std(model: VAE, z, y=None) -> torch.Tensor | None:
    """The decoder's standard deviation per pixel (N, C, H, W) for a Gaussian decoder; None for Bernoulli."""
    z = _z(z, model.latent)
    _, logvar = model.decoder_params(z, _labels(model, y, len(z)))
    return None if logvar is None else torch.exp(0.5 * logvar)


def _labels(model: VAE, y, n: int) -> torch.Tensor | None:
    if not model.num_classes:
        return None
    if y is None:
        y = 0
    y = torch.as_tensor(y, dtype=torch.long).reshape(-1)
    return y.expand(n) if y.numel() == 1 else y


@torch.no_grad()
def encode(model: VAE, x: torch.Tensor, y=None) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and standard deviation, each (N, D)."""
    mu, logvar = model.encode(x, _labels(model, y, len(x)))
    return mu.numpy(), torch.exp(0.5 * logvar).numpy()


@torch.no_grad()
def reconstruct(model: VAE, x: torch.Tensor, y=None) -> torch.Tensor:
    mu, _ = encode(model, x, y)
    return decode(model, mu, y if y is not None else None)


# The VAE lab's view defaults, shared with `python -m playground vae view`.
MANIFOLD_N, INTERP_STEPS, SWAP_IMAGES = 12, 9, (0, 1, 2, 3)


def traversal_values(steps: int = 11, span: float = 3.0) -> np.ndarray:
    return np.linspace(-span, span, steps).astype(np.float32)


@torch.no_grad()
def traverse(model: VAE, z0, dim: int, values=None, y=None) -> torch.Tensor:
    """Decoded images as dimension `dim` of z0 sweeps `values` (default -3..3 in 11 steps), others fixed."""
    if not 0 <= dim < model.latent:
        from playground.errors import PlaygroundError

        raise PlaygroundError(f"dim {dim} is outside 0..{model.latent - 1}")
    values = traversal_values() if values is None else np.asarray(values, dtype=np.float32)
    z = np.repeat(np.asarray(z0, dtype=np.float32).reshape(1, -1), len(values), 0)
    z[:, dim] = values
    return decode(model, z, y)


def quantile_grid(n: int, lo: float = 0.05, hi: float = 0.95) -> np.ndarray:
    """n values evenly spaced in probability through the standard normal's quantiles."""
    return norm.ppf(np.linspace(lo, hi, n)).astype(np.float32)


@torch.no_grad()
def grid_2d(model: VAE, dims: tuple[int, int] = (0, 1), n: int = 15, z0=None, y=None
            ) -> tuple[torch.Tensor, np.ndarray]:
    """The n x n manifold over two dimensions through the prior's quantiles; other dims from z0 (default 0).

    Returns (images (n*n, C, H, W) row-major with dims[1] decreasing down the rows, the quantile values).
    """
    i, j = dims
    q = quantile_grid(n)
    base = np.zeros(model.latent, dtype=np.float32) if z0 is None else np.asarray(z0, dtype=np.float32)
    z = np.repeat(base.reshape(1, -1), n * n, 0)
    rows, cols = np.meshgrid(q[::-1], q, indexing="ij")   # top row = largest value of dims[1]
    z[:, i] = cols.reshape(-1)
    z[:, j] = rows.reshape(-1)
    return decode(model, z, y), q


@torch.no_grad()
def interpolate(model: VAE, z0, z1, steps: int = 9, method: str = "linear", y0=None, y1=None) -> torch.Tensor:
    t = np.linspace(0, 1, steps)
    z = latent_path(z0, z1, t, method)
    y = None
    if model.num_classes:
        y = torch.tensor([y0 if ti < 0.5 else y1 for ti in t] if y1 is not None else [y0 or 0] * steps)
    return decode(model, z, y)


@torch.no_grad()
def class_swap(model: VAE, x: torch.Tensor, y, classes=None) -> torch.Tensor:
    """Encode x (N images with labels y), then decode each code under every class in `classes`.

    Returns (N * len(classes), C, H, W): row i is image i's style rendered as each class."""
    if not model.num_classes:
        from playground.errors import PlaygroundError

        raise PlaygroundError("class swaps need a conditional VAE")
    classes = list(range(model.num_classes)) if classes is None else list(classes)
    mu, _ = encode(model, x, y)
    z = np.repeat(mu, len(classes), 0)
    ys = torch.tensor(classes * len(mu))
    return decode(model, z, ys)


@torch.no_grad()
def sample_prior(model: VAE, n: int, seed: int = 0, y=None) -> tuple[np.ndarray, torch.Tensor]:
    g = np.random.default_rng(seed)
    z = g.standard_normal((n, model.latent)).astype(np.float32)
    return z, decode(model, z, y)


def to_grid(images: torch.Tensor, nrow: int, padding: int = 1, upscale: int = 1, pad_value: float = 0.3) -> np.ndarray:
    """A uint8 picture of the images, nearest-upscaled for crisp pixels (the frame scales with them)."""
    return grid_image(images, nrow=nrow, pad=padding * upscale, pad_value=pad_value, upscale=upscale)


def to_png(image: torch.Tensor, compress_level: int = 1) -> bytes:
    """One image (C, H, W) in [0, 1] as PNG bytes at its own resolution (grey for one channel, RGB for three).

    An 8x8 digit is about 100 bytes: small enough to travel inside a page update as a data URI, with the
    browser doing the nearest-neighbour upscaling."""
    return png_bytes(to_uint8(image), compress_level=compress_level)


def decoded_png(model: VAE, z, y=None, program: dict | None = None) -> bytes:
    """PNG of the decoded mean image of one code z: through `program` (export.decoder_program, run by the
    numpy interpreter: the same program the browser runs) when there is one, else through the model."""
    if program is None:
        return to_png(decode(model, z, y)[0])
    from playground.vae.export import run_program

    return to_png(torch.from_numpy(run_program(program, z, y)[0]).clamp(0, 1))


def image_input(model: VAE, data: bytes, max_bytes: int) -> torch.Tensor:
    """An uploaded image file as the model's input (1, C, H, W): resized and centre-cropped to the model's
    size, in its channels. PlaygroundError for anything unreadable or larger than `max_bytes`."""
    from playground.data.files import open_image

    c, h, _ = model.shape
    return torch.from_numpy(open_image(bytes(data), h, channels=c, max_bytes=max_bytes))[None]


@torch.no_grad()
def traversal_rows(model: VAE, dims: int = 10, steps: int = 9, span: float = 3.0) -> torch.Tensor:
    """Traversals from z = 0 of the first `dims` dimensions, one row of `steps` images each (class 0 for a
    conditional model): (min(dims, D) * steps, C, H, W)."""
    values = np.linspace(-span, span, steps)
    y = 0 if model.num_classes else None
    return torch.cat([traverse(model, np.zeros(model.latent), d, values, y) for d in range(min(model.latent, dims))])
