"""Monotone rational-quadratic splines with linear tails (Durkan et al. 2019, "Neural Spline Flows").

On [-B, B] the map is a spline of K bins whose knots (x_k, y_k) and knot derivatives d_k > 0 come from
unconstrained parameters; outside it is the identity (the boundary derivatives are fixed at 1, so the map and
its derivative are continuous). In bin k, with s = h_k / w_k and xi = (x - x_k) / w_k in [0, 1]:

    y  = y_k + h_k (s xi^2 + d_k xi (1 - xi)) / (s + (d_{k+1} + d_k - 2 s) xi (1 - xi))
    y' = s^2 (d_{k+1} xi^2 + 2 s xi (1 - xi) + d_k (1 - xi)^2) / (s + (d_{k+1} + d_k - 2 s) xi (1 - xi))^2

The inverse solves the quadratic a xi^2 + b xi + c = 0 for xi in [0, 1] (Durkan et al., eqs. 6-8); its root
(-b + sqrt(b^2 - 4ac)) / (2a) = 2c / (-b - sqrt(b^2 - 4ac)) is taken in whichever form does not cancel.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

MIN_WIDTH = 1e-3             # smallest bin width / height, as a fraction of 2B
MIN_DERIVATIVE = 1e-3
# softplus(raw + DERIV_SHIFT) + MIN_DERIVATIVE = 1 at raw = 0: zero parameters give the identity map.
DERIV_SHIFT = math.log(math.expm1(1 - MIN_DERIVATIVE))


def n_params(bins: int) -> int:
    """Unconstrained parameters per spline: K widths, K heights, K - 1 interior derivatives."""
    return 3 * bins - 1


def _knots(raw: torch.Tensor, bound: float) -> torch.Tensor:
    """K + 1 increasing knots from -B to B with bins at least MIN_WIDTH * 2B wide: (..., K) -> (..., K + 1)."""
    k = raw.shape[-1]
    frac = MIN_WIDTH + (1 - MIN_WIDTH * k) * torch.softmax(raw, dim=-1)
    knots = F.pad(torch.cumsum(frac, dim=-1), (1, 0)) * (2 * bound) - bound
    # exact ends despite rounding in the cumulative sum
    return torch.cat([torch.full_like(knots[..., :1], -bound), knots[..., 1:-1],
                      torch.full_like(knots[..., :1], bound)], dim=-1)


def spline_tables(params: torch.Tensor, bound: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Knots x_k (..., K + 1), y_k (..., K + 1) and knot derivatives d_k (..., K + 1) from (..., 3K - 1)
    parameters (computed once and broadcast when many points share one spline)."""
    k = (params.shape[-1] + 1) // 3
    d = F.pad(F.softplus(params[..., 2 * k:] + DERIV_SHIFT) + MIN_DERIVATIVE, (1, 1), value=1.0)
    return _knots(params[..., :k], bound), _knots(params[..., k:2 * k], bound), d


def rq_spline(x: torch.Tensor, params: torch.Tensor, bound: float, inverse: bool = False):
    """y = spline(x) (or its inverse) and log |dy/dx| elementwise; x (...,), params (..., 3K - 1)."""
    return rq_spline_tables(x, spline_tables(params, bound), bound, inverse)


def rq_spline_tables(x: torch.Tensor, tables, bound: float, inverse: bool = False):
    """As `rq_spline`, with the knot tables of `spline_tables` (shaped (..., K + 1) like x plus one axis)."""
    xs, ys, d = tables
    inside = (x > -bound) & (x < bound)
    xc = x.clamp(-bound, bound)                     # the spline runs on clamped inputs; tails are replaced below
    knots_in = ys if inverse else xs
    idx = (xc[..., None] >= knots_in[..., 1:-1]).sum(dim=-1, keepdim=True)         # bin index in [0, K - 1]

    def at(t, j=idx):
        return t.gather(-1, j)[..., 0]

    x_k, y_k = at(xs), at(ys)
    w, h = at(xs, idx + 1) - x_k, at(ys, idx + 1) - y_k
    d0, d1 = at(d), at(d, idx + 1)
    s = h / w
    slack = d1 + d0 - 2 * s
    if inverse:
        dy = xc - y_k                               # here xc is the (clamped) output value y
        a = h * (s - d0) + dy * slack
        b = h * d0 - dy * slack
        c = -s * dy
        sq = torch.sqrt((b * b - 4 * a * c).clamp(min=0.0))
        # The root in [0, 1] is (-b + sq) / (2a) = 2c / (-b - sq); take the form that adds same-sign terms.
        neg = b < 0
        xi = (torch.where(neg, sq - b, 2 * c) / torch.where(neg, 2 * a, -b - sq)).clamp(0.0, 1.0)
        out = xi * w + x_k
    else:
        xi = (xc - x_k) / w
        out = None
    q = xi * (1 - xi)
    den = s + slack * q
    log_grad = 2 * torch.log(s) + torch.log(d1 * xi * xi + 2 * s * q + d0 * (1 - xi) ** 2) - 2 * torch.log(den)
    if not inverse:
        out = y_k + h * (s * xi * xi + d0 * q) / den
        return torch.where(inside, out, x), torch.where(inside, log_grad, torch.zeros_like(log_grad))
    return torch.where(inside, out, x), torch.where(inside, -log_grad, torch.zeros_like(log_grad))
