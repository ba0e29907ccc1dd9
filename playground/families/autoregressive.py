"""Autoregressive density models on the toy targets: p(x_a) p(x_b | x_a) with mixture-density conditionals.

In 2D the first variable of the order (x1 for ar_order = x1_first, x2 for x2_first) has a learned K-component
Gaussian mixture as its marginal, and an MLP maps its value to the K weights, means and standard deviations of
the second variable's conditional mixture (a mixture density network). In 1D the model is the marginal
mixture alone. The density is exact: log q(x) = log q(x_a) + log q(x_b | x_a). Both orders can represent
any density in the limit, but a finite model fits one order better than the other (a ring's conditional is
bimodal across it, a band's is not): the lesson of the ordering switch.

The model works in the flows' standardised coordinates (the target's view box mapped to [-3, 3]); densities are
reported in data units. Training is maximum likelihood (forward KL) on target batches.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from playground.errors import PlaygroundError
from playground.families.base import FamilyModel, register
from playground.families.flows import STANDARD_HALF_WIDTH, standardisation
from playground.toy.nets import mlp

MIN_STD = 1e-3               # smallest component std, in standardised units
_LOG_2PI = math.log(2 * math.pi)


def _std(raw: torch.Tensor) -> torch.Tensor:
    return F.softplus(raw) + MIN_STD


def _raw_for_std(std: float) -> float:
    return math.log(math.expm1(std - MIN_STD))


def mixture_log_prob(v: torch.Tensor, logits: torch.Tensor, means: torch.Tensor, raw_std: torch.Tensor):
    """log sum_k w_k N(v; m_k, s_k^2) for v (n,) and parameters (n, K) or (K,)."""
    s = _std(raw_std)
    z = (v[:, None] - means) / s
    comp = torch.log_softmax(logits, dim=-1) - 0.5 * z * z - torch.log(s) - 0.5 * _LOG_2PI
    return torch.logsumexp(comp, dim=-1)


def mixture_sample(logits: torch.Tensor, means: torch.Tensor, raw_std: torch.Tensor,
                   generator: torch.Generator) -> torch.Tensor:
    """One draw per row of (n, K) mixture parameters: a component by its weight, then its Gaussian."""
    k = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator)[:, 0]
    row = torch.arange(len(logits))
    eps = torch.randn(len(logits), generator=generator)
    return means[row, k] + _std(raw_std)[row, k] * eps


class Autoregressive(FamilyModel):
    """p(x_a) as a free K-mixture, p(x_b | x_a) as an MLP-parameterised K-mixture (2D)."""

    family = "autoregressive"
    likelihood = "exact"

    def __init__(self, dim: int, center: torch.Tensor, scale: float, *, order: str = "x1_first",
                 components: int = 8, width: int = 64, depth: int = 2):
        super().__init__()
        if order not in ("x1_first", "x2_first"):
            raise PlaygroundError(f"unknown ar_order {order!r}: choose x1_first or x2_first")
        self.dim, self.order, self.k = dim, order, int(components)
        self.first = 0 if (order == "x1_first" or dim == 1) else 1
        self.register_buffer("center", torch.as_tensor(center, dtype=torch.float32).reshape(1, dim))
        self.register_buffer("scale", torch.tensor(float(scale)))
        # Start with components spread evenly over the standardised box, each of std 0.5.
        spread = torch.linspace(-0.8, 0.8, self.k) * STANDARD_HALF_WIDTH if self.k > 1 else torch.zeros(1)
        self.logits = nn.Parameter(torch.zeros(self.k))
        self.means = nn.Parameter(spread.clone())
        self.raw_std = nn.Parameter(torch.full((self.k,), _raw_for_std(0.5)))
        self.net = None
        if dim == 2:
            self.net = mlp(1, 3 * self.k, depth, width, "relu")
            last = self.net[-1]
            with torch.no_grad():
                last.weight.mul_(0.1)
                last.bias.copy_(torch.cat([torch.zeros(self.k), spread, torch.full((self.k,), _raw_for_std(0.5))]))

    def conditional_params(self, ua: torch.Tensor):
        """Weights (logits), means and raw stds of the second variable's mixture given the first: (n, K) each."""
        out = self.net(ua[:, None])
        return out[:, :self.k], out[:, self.k:2 * self.k], out[:, 2 * self.k:]

    def _standard(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.center) / self.scale

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        u = self._standard(x)
        ua = u[:, self.first]
        out = mixture_log_prob(ua, self.logits, self.means, self.raw_std) - self.dim * torch.log(self.scale)
        if self.dim == 2:
            out = out + mixture_log_prob(u[:, 1 - self.first], *self.conditional_params(ua))
        return out

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        with torch.no_grad():
            ua = mixture_sample(self.logits.expand(n, -1), self.means.expand(n, -1),
                                self.raw_std.expand(n, -1), generator)
            if self.dim == 1:
                u = ua[:, None]
            else:
                ub = mixture_sample(*self.conditional_params(ua), generator)
                u = torch.stack([ua, ub] if self.first == 0 else [ub, ua], dim=1)
            return self.center + self.scale * u

    def training_loss(self, batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return -self.log_prob(batch).mean()

    # --- the pieces the page shows, in data units
    def marginal_log_prob(self, v: torch.Tensor) -> torch.Tensor:
        """log q(x_a = v) of the first variable of the order, v (n,) in data units."""
        ua = (v - self.center[0, self.first]) / self.scale
        return mixture_log_prob(ua, self.logits, self.means, self.raw_std) - torch.log(self.scale)

    def conditional_log_prob(self, v: torch.Tensor, given: float) -> torch.Tensor:
        """log q(x_b = v | x_a = given) of the second variable (2D only), v (n,) in data units."""
        if self.dim != 2:
            raise PlaygroundError("a 1D autoregressive model has no conditional: it is one mixture")
        ua = (torch.full((1,), float(given)) - self.center[0, self.first]) / self.scale
        logits, means, raw = (p.expand(len(v), -1) for p in self.conditional_params(ua))
        ub = (v - self.center[0, 1 - self.first]) / self.scale
        return mixture_log_prob(ub, logits, means, raw) - torch.log(self.scale)


@register("autoregressive")
def build_autoregressive(cfg, target) -> Autoregressive:
    center, scale = standardisation(target)
    return Autoregressive(target.dim, center, scale, order=cfg.ar_order, components=cfg.ar_components,
                          width=cfg.width, depth=cfg.layers)
