"""Normalizing flows on the toy targets: affine or rational-quadratic spline layers, trained by forward or
reverse KL.

The flow maps data x to noise z ~ N(0, I) through a fixed standardisation (from the target's view box, so no
samples are needed: reverse KL trains without any) and `flow_layers` invertible layers; the density is exact:
log q(x) = log N(f(x); 0, I) + log |det df/dx|. In 2D each layer is autoregressive over the two coordinates
in an order that alternates between layers: the first coordinate of the order goes through an elementwise
map with free parameters, the second through a map whose parameters an MLP computes from the first
coordinate (a coupling layer that also moves its conditioning coordinate). In 1D a layer is the elementwise
map alone. The maps are monotone rational-quadratic splines (`splines.py`) or affine maps x e^s + t with
the log-scale s softly clamped to (-3, 3). Every layer starts as the identity (zero parameters).

Objectives: forward_kl = E_p[-log q(x)] on target batches (maximum likelihood); reverse_kl =
E_q[log q(x) - log p(x)] on the flow's own reparameterised samples, with the target's exact differentiable
density (`Target.log_prob_torch`): mode-seeking where forward KL is mode-covering.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from playground.errors import PlaygroundError
from playground.families.base import FamilyModel, register
from playground.families.splines import n_params, rq_spline_tables, spline_tables
from playground.toy.nets import mlp

SPLINE_BOUND = 5.0           # the splines act on [-5, 5] in standardised units (identity outside)
AFFINE_MAX_LOG_SCALE = 3.0
STANDARD_HALF_WIDTH = 3.0    # the target's view box is mapped to [-3, 3] on its longer axis
_LOG_2PI = math.log(2 * math.pi)


class ElementwiseMap:
    """The elementwise maps of a layer: y, log|dy/dx| = map(x, params), and its inverse."""

    def __init__(self, transform: str, bins: int):
        if transform not in ("affine", "spline"):
            raise PlaygroundError(f"unknown flow transform {transform!r}: choose affine or spline")
        self.transform = transform
        self.n_params = n_params(bins) if transform == "spline" else 2

    def tables(self, params: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """What the map needs from its parameters: the spline's knot tables, or the affine's parameters."""
        return spline_tables(params, SPLINE_BOUND) if self.transform == "spline" else (params,)

    def __call__(self, x: torch.Tensor, tables: tuple[torch.Tensor, ...], inverse: bool = False):
        """y, log|dy/dx| of the map with the given tables (each shaped x.shape + (...,))."""
        if self.transform == "spline":
            return rq_spline_tables(x, tables, SPLINE_BOUND, inverse=inverse)
        (params,) = tables
        m = AFFINE_MAX_LOG_SCALE
        log_scale = m * torch.tanh(params[..., 0] / m)
        shift = params[..., 1]
        if inverse:
            return (x - shift) * torch.exp(-log_scale), -log_scale
        return x * torch.exp(log_scale) + shift, log_scale


class FlowLayer(nn.Module):
    """One layer: coordinate `first` by free parameters, in 2D the other one conditioned on it by an MLP."""

    def __init__(self, dim: int, first: int, emap: ElementwiseMap, width: int, depth: int):
        super().__init__()
        self.dim, self.first, self.emap = dim, first, emap
        self.free = nn.Parameter(torch.zeros(emap.n_params))
        self.net = None
        if dim == 2:
            self.net = mlp(1, emap.n_params, depth, width, "relu")
            nn.init.zeros_(self.net[-1].weight)          # identity at the start
            nn.init.zeros_(self.net[-1].bias)

    def _free_tables(self, n: int):
        """The free map's tables, computed once and broadcast over the n points."""
        return tuple(t.expand(n, -1) for t in self.emap.tables(self.free))

    def forward(self, x: torch.Tensor, inverse: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """(y, log|det dy/dx|) of the layer (or of its inverse) for x (n, dim)."""
        free = self._free_tables(len(x))
        if self.dim == 1:
            y, ld = self.emap(x[:, 0], free, inverse)
            return y[:, None], ld
        a, b = self.first, 1 - self.first
        if not inverse:          # both conditioners read the input: one call for the two coordinates
            cond = self.emap.tables(self.net(x[:, a:a + 1]))
            both = tuple(torch.stack([f, c], dim=1) for f, c in zip(free, cond))
            y2, ld2 = self.emap(x[:, [a, b]], both)
            y = y2 if a == 0 else y2[:, [1, 0]]
            return y, ld2.sum(dim=1)
        ya, lda = self.emap(x[:, a], free, inverse=True)
        yb, ldb = self.emap(x[:, b], self.emap.tables(self.net(ya[:, None])), inverse=True)
        y = torch.stack([ya, yb], dim=1) if a == 0 else torch.stack([yb, ya], dim=1)
        return y, lda + ldb


class Flow(FamilyModel):
    """Standardisation + `n_layers` FlowLayers with alternating orders; base N(0, I)."""

    family = "flow"
    likelihood = "exact"

    def __init__(self, dim: int, center: torch.Tensor, scale: float, *, transform: str = "spline",
                 n_layers: int = 4, bins: int = 8, width: int = 64, depth: int = 2,
                 objective: str = "forward_kl", target=None):
        super().__init__()
        if objective not in ("forward_kl", "reverse_kl"):
            raise PlaygroundError(f"unknown flow objective {objective!r}: choose forward_kl or reverse_kl")
        self.dim, self.objective, self.target = dim, objective, target
        self.register_buffer("center", torch.as_tensor(center, dtype=torch.float32).reshape(1, dim))
        self.register_buffer("scale", torch.tensor(float(scale)))
        emap = ElementwiseMap(transform, bins)
        self.layers = nn.ModuleList(FlowLayer(dim, i % dim, emap, width, depth) for i in range(n_layers))

    # --- the two directions
    def to_noise(self, x: torch.Tensor, upto: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """z = f(x) and log|det df/dx| (through the first `upto` layers, default all)."""
        z = (x - self.center) / self.scale
        ld = torch.full((len(x),), -self.dim * float(torch.log(self.scale)), dtype=x.dtype)
        for layer in self.layers[:upto]:
            z, step = layer(z)
            ld = ld + step
        return z, ld

    def to_data(self, z: torch.Tensor, stages: list | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """x = f^-1(z) and log|det dx/dz|; `stages`, if given, collects the points after each layer (in data
        units, as x = center + scale * u, so the first is the noise and the last the samples)."""
        ld = torch.full((len(z),), self.dim * float(torch.log(self.scale)), dtype=z.dtype)
        u = z
        if stages is not None:
            stages.append(self.center + self.scale * u)
        for layer in reversed(self.layers):
            u, step = layer(u, inverse=True)
            ld = ld + step
            if stages is not None:
                stages.append(self.center + self.scale * u)
        return self.center + self.scale * u, ld

    # --- the FamilyModel interface
    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        z, ld = self.to_noise(x)
        return -0.5 * (z * z).sum(dim=1) - 0.5 * self.dim * _LOG_2PI + ld

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        with torch.no_grad():
            return self.to_data(torch.randn(n, self.dim, generator=generator))[0]

    def sample_with_log_prob(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Reparameterised samples and their exact log q (differentiable in the flow's parameters)."""
        z = torch.randn(n, self.dim, generator=generator)
        x, ld = self.to_data(z)
        return x, -0.5 * (z * z).sum(dim=1) - 0.5 * self.dim * _LOG_2PI - ld

    def training_loss(self, batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if self.objective == "forward_kl":
            return -self.log_prob(batch).mean()
        x, log_q = self.sample_with_log_prob(len(batch), generator)
        return (log_q - self.target.log_prob_torch(x)).mean()


def standardisation(target) -> tuple[torch.Tensor, float]:
    """Centre of the target's view box and one scale mapping its longer half-width to STANDARD_HALF_WIDTH."""
    b = torch.tensor(target.bounds, dtype=torch.float64).reshape(target.dim, 2)
    half = float((b[:, 1] - b[:, 0]).max()) / 2
    return b.mean(dim=1).float(), (half / STANDARD_HALF_WIDTH if half > 0 else 1.0)


REVERSE_KL_REFUSED = ("target {!r} has no smooth exact density to train against by reverse KL "
                      "(reverse KL needs grad log p): use forward_kl")


@register("flow")
def build_flow(cfg, target) -> Flow:
    if cfg.flow_objective == "reverse_kl" and not (target.has_density and target.differentiable):
        raise PlaygroundError(REVERSE_KL_REFUSED.format(target.name))
    center, scale = standardisation(target)
    return Flow(target.dim, center, scale, transform=cfg.flow_transform, n_layers=cfg.flow_layers,
                bins=cfg.flow_bins, width=cfg.width, depth=cfg.layers, objective=cfg.flow_objective,
                target=target)
