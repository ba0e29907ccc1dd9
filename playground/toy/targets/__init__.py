"""Toy target distributions in 1D and 2D, each with a sampler and an exact log density.

Three families:
- Gaussian mixtures with diagonal covariance (ring8, grid25, two_gaussians, three_blobs, bimodal1d,
  mixture1d): density and grid-cell masses are exact (cell masses are differences of normal CDFs).
- Noisy curves (line, circle, two_moons, spiral, swiss_roll): a point c(t) with t uniform on [0, 1] plus
  isotropic Gaussian noise. `line` and `circle` have closed-form densities. The others have
  p(x) = E_t[N(x; c(t), std^2 I)], computed by quadrature: "exact up to quadrature". The nodes are at most
  std/2 apart along the curve, with a rule free of end-point error (see `curve_nodes`); against an 8x finer
  quadrature, or the closed form for `line` and `circle`, the log density differs by less than 1e-5.
  Grid-cell masses of all curves use the same node mixture with exact normal CDFs.
- uniform1d (exact) and custom (the user's points, resampled; no density).

Every sampler draws all its randomness from the `torch.Generator` it is given and is vectorised: it is called
on every training step.
"""


from __future__ import annotations

import numpy as np

from playground.errors import PlaygroundError
from playground.toy.config import ToyConfig
from playground.toy.targets.base import Target, midpoint_cell_masses
from playground.toy.targets.curves import (
    CircleTarget,
    CurveTarget,
    LineTarget,
    _spiral,
    _swiss_roll,
    _two_moons,
    curve_nodes,
    curve_table,
    quadrature_log_prob,
)
from playground.toy.targets.literature import RingsTarget, TwoSpiralsTarget, gaussians8_ffjord
from playground.toy.targets.mixtures import CustomTarget, GaussianMixtureTarget, Uniform1DTarget
from playground.toy.targets.picture import picture_target
from playground.toy.targets.pinwheel import PinwheelTarget
from playground.toy.targets.pixels import PixelTarget, checkerboard

__all__ = ["CircleTarget", "CurveTarget", "CustomTarget", "GaussianMixtureTarget", "LineTarget",
           "PinwheelTarget", "PixelTarget", "RingsTarget", "Target", "TwoSpiralsTarget", "Uniform1DTarget",
           "curve_nodes", "curve_table", "make_target", "midpoint_cell_masses",
           "quadrature_log_prob"]


def make_target(cfg: ToyConfig, points: np.ndarray | None = None, image=None) -> Target:
    """The target named by `cfg.dist` (any config with the target fields: ToyConfig, FamilyConfig).

    ring8: n_modes Gaussians evenly on a circle of `radius`. grid25: n_modes x n_modes Gaussians with spacing
    `radius`, centred at 0. two_gaussians: at (+-radius, 0). three_blobs: always three Gaussians on the circle
    of `radius` at 90, 210 and 330 degrees (n_modes is ignored). bimodal1d: 0.75 N(-radius, std^2) +
    0.25 N(radius, std^2). mixture1d: `cfg.formula`. uniform1d: U(-radius, radius). custom: `points`.
    All mixtures have uniform weights unless stated.
    From the flow literature (FFJORD's definitions, see `literature`): gaussians8_ffjord (n_modes Gaussians on
    the circle of `radius`, FFJORD: 8, 4/1.414, std 0.5/1.414), rings (n_modes circles), two_spirals,
    pinwheel (n_modes arms), checkerboard (n_modes squares per side on [-radius, radius]^2, blurred by std)
    and image: `image` (image-file bytes or a darkness array; None = the built-in picture) on
    [-radius, radius]^2, blurred by std.
    """
    r = cfg
    dist, k, radius, std = r.dist, int(r.n_modes), float(r.radius), float(r.std)
    if dist not in ("uniform1d", "custom", "mixture1d") and std <= 0:
        raise PlaygroundError(f"std must be positive for {dist}, got {std}")
    if dist == "ring8":
        a = 2 * np.pi * np.arange(k) / k
        return GaussianMixtureTarget(dist, radius * np.stack([np.cos(a), np.sin(a)], axis=1), std)
    if dist == "grid25":
        c = (np.arange(k) - (k - 1) / 2) * radius
        gx, gy = np.meshgrid(c, c, indexing="ij")
        return GaussianMixtureTarget(dist, np.stack([gx.ravel(), gy.ravel()], axis=1), std)
    if dist == "two_gaussians":
        return GaussianMixtureTarget(dist, np.array([[-radius, 0.0], [radius, 0.0]]), std)
    if dist == "three_blobs":
        a = np.deg2rad([90.0, 210.0, 330.0])
        return GaussianMixtureTarget(dist, radius * np.stack([np.cos(a), np.sin(a)], axis=1), std)
    if dist == "line":
        return LineTarget(dist, radius, std)
    if dist == "circle":
        return CircleTarget(dist, radius, std)
    if dist == "two_moons":
        return CurveTarget(dist, _two_moons(radius), std)
    if dist == "spiral":
        return CurveTarget(dist, _spiral(radius), std)
    if dist == "swiss_roll":
        return CurveTarget(dist, _swiss_roll(radius), std)
    if dist == "bimodal1d":
        return GaussianMixtureTarget(dist, np.array([[-radius], [radius]]), std, np.array([0.75, 0.25]))
    if dist == "mixture1d":
        from playground.formula import parse_mixture

        m = parse_mixture(cfg.formula)
        return GaussianMixtureTarget(dist, m.means[:, None], m.stds[:, None], m.weights)
    if dist == "uniform1d":
        if radius <= 0:
            raise PlaygroundError(f"radius must be positive for uniform1d, got {radius}")
        return Uniform1DTarget(dist, radius)
    if dist == "gaussians8_ffjord":
        return gaussians8_ffjord(dist, k, radius, std)
    if dist == "rings":
        return RingsTarget(dist, k, radius, std)
    if dist == "two_spirals":
        return TwoSpiralsTarget(dist, radius, std)
    if dist == "pinwheel":
        return PinwheelTarget(dist, k, radius, std)
    if dist == "checkerboard":
        return checkerboard(dist, k, radius, std)
    if dist == "image":
        return picture_target(dist, radius, std, image)
    if dist == "custom":
        if points is None:
            raise PlaygroundError("dist=custom needs your points: upload a CSV of x,y rows")
        return CustomTarget(dist, points)
    raise PlaygroundError(f"unknown target {dist!r}")
