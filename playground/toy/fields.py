"""What the GAN lab draws, as plain numpy: D over a grid, per-sample update arrows, the warped noise grid,
and in 1D the generator density (a KDE; D* = p / (p + q) itself is `playground.numerics.optimal_discriminator`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from playground.toy.trainer import ToyGAN


def display_d(gan: ToyGAN, raw: np.ndarray) -> np.ndarray:
    """D as the user should read it: a probability for the sigmoid losses, the raw score otherwise."""
    return gan.objective.display(raw)


def d_grid(gan: ToyGAN, bounds: tuple, n: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xs, ys, values[ny, nx]) of D's displayed output over the 2D view box."""
    x0, x1, y0, y1 = bounds
    xs = np.linspace(x0, x1, n)
    ys = np.linspace(y0, y1, n)
    xx, yy = np.meshgrid(xs, ys)
    pts = np.stack([xx.ravel(), yy.ravel()], axis=1)
    return xs, ys, display_d(gan, gan.d_output(pts)).reshape(n, n)


def d_curve(gan: ToyGAN, xs: np.ndarray) -> np.ndarray:
    return display_d(gan, gan.d_output(xs[:, None]))


def noise_grid_lines(latent_dim: int, kind: str, n_lines: int = 9, n_points: int = 41) -> list[np.ndarray]:
    """Straight lines in noise space (first two dims, others 0) over the bulk of the noise distribution."""
    a = 2.0 if kind == "gaussian" else 1.0
    ticks = np.linspace(-a, a, n_lines)
    along = np.linspace(-a, a, n_points)
    lines = []
    if latent_dim == 1:
        z = np.zeros((n_points, 1))
        z[:, 0] = along
        return [z]
    for t in ticks:
        for axis in (0, 1):
            z = np.zeros((n_points, latent_dim))
            z[:, axis] = along
            z[:, 1 - axis] = t
            lines.append(z)
    return lines


def manifold(gan: ToyGAN, n_lines: int = 9) -> list[np.ndarray]:
    """The generator's image of a grid of straight noise lines: how G warps the noise space."""
    lines = noise_grid_lines(gan.cfg.latent_dim, gan.cfg.noise, n_lines)
    z = torch.as_tensor(np.concatenate(lines), dtype=torch.float32)
    out = gan.generate(z)
    return np.split(out, np.cumsum([len(ln) for ln in lines])[:-1])


def kde_1d(samples: np.ndarray, xs: np.ndarray, blur: float = 0.0) -> np.ndarray:
    """Gaussian KDE (Scott's bandwidth) of 1D samples at evenly spaced xs, by linear binning + convolution;
    `blur` > 0 gives the KDE of the samples plus N(0, blur²) noise (Gaussian bandwidths add in quadrature).

    Mass that falls outside xs is kept by widening the binning range, so the density still integrates to
    the fraction of samples inside the view.
    """
    s = np.asarray(samples, dtype=np.float64).ravel()
    n = len(s)
    sd = s.std(ddof=1) if n > 1 else 1.0
    h = float(np.hypot(max(1.06 * sd * n ** (-0.2), 1e-3), blur))
    dx = xs[1] - xs[0]
    # Bin on a grid with the same spacing, widened by 5 bandwidths, so outside samples still contribute.
    pad = int(np.ceil(5 * h / dx)) + 1
    lo = xs[0] - pad * dx
    m = len(xs) + 2 * pad
    pos = (s - lo) / dx
    inside = (pos >= 0) & (pos <= m - 1)
    pos = pos[inside]
    i = np.floor(pos).astype(int).clip(0, m - 2)
    frac = pos - i
    counts = np.bincount(i, weights=1 - frac, minlength=m) + np.bincount(i + 1, weights=frac, minlength=m)
    k = np.arange(-pad, pad + 1) * dx
    kernel = np.exp(-0.5 * (k / h) ** 2) / (np.sqrt(2 * np.pi) * h)
    dens = np.convolve(counts, kernel, mode="same") / n
    return dens[pad:pad + len(xs)]


def blurred_density(log_prob: Callable[[np.ndarray], np.ndarray], xs: np.ndarray, sigma: float) -> np.ndarray:
    """The density exp(log_prob) convolved with N(0, σ²) (what D sees under instance noise σ) at evenly spaced
    xs: the density on the grid widened by 5σ, then a discrete convolution with the normalised kernel."""
    if sigma <= 0:
        return np.exp(log_prob(xs[:, None]))
    dx = xs[1] - xs[0]
    pad = int(np.ceil(5 * sigma / dx)) + 1
    wide = xs[0] + dx * np.arange(-pad, len(xs) + pad)
    k = np.exp(-0.5 * (np.arange(-pad, pad + 1) * dx / sigma) ** 2)
    return np.convolve(np.exp(log_prob(wide[:, None])), k / k.sum(), mode="same")[pad:pad + len(xs)]


def log_density(density: np.ndarray) -> np.ndarray:
    """log of a density estimate such as the KDE, -inf (without a warning) where it is exactly 0."""
    with np.errstate(divide="ignore"):
        return np.log(np.maximum(density, 0.0))
