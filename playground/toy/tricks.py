"""The GAN lab's stabilisation toolbox as small functions the trainer applies (each off by default).

Feature matching and historical averaging are from Salimans et al. 2016 ("Improved techniques for training
GANs"), packing from Lin et al. 2018 (PacGAN), instance noise from Sønderby et al. 2017 / Arjovsky & Bottou
2017, the EMA of the generator from Yazıcı et al. 2019. The minibatch standard-deviation feature is a layer
(`playground.toy.nets.MinibatchStd`); one-sided label smoothing is a loss of the objectives table; the unrolled
discriminator is `playground.toy.unrolled`.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


def feature_matching_loss(real_features: torch.Tensor, fake_features: torch.Tensor) -> torch.Tensor:
    """|| mean_x f(x) − mean_z f(G(z)) ||²: G matches the batch mean of D's last hidden layer on real data
    instead of fooling D's output (the real side carries no gradient)."""
    return (real_features.detach().mean(dim=0) - fake_features.mean(dim=0)).pow(2).sum()


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """(n·m, d) samples -> (n, m·d): each row concatenates m consecutive samples, which D judges together."""
    if m == 1:
        return x
    if x.shape[0] % m:
        raise ValueError(f"{x.shape[0]} samples do not split into packs of {m}")
    return x.reshape(x.shape[0] // m, m * x.shape[1])


def pack_copies(x: torch.Tensor, m: int) -> torch.Tensor:
    """(n, d) -> (n, m·d): m copies of each point, how the lab asks a packed D about a single point."""
    return x if m == 1 else x.repeat(1, m)


def instance_noise_std(start: float, step: int, anneal_steps: int) -> float:
    """The noise level at `step`: `start`, falling linearly to 0 at `anneal_steps` (0 = constant)."""
    if start <= 0:
        return 0.0
    if anneal_steps <= 0:
        return start
    return start * max(0.0, 1.0 - step / anneal_steps)


class ParameterAverage:
    """Historical averaging: the running mean θ̄ of every value a network's parameters took since it was
    started, and the penalty λ ||θ − θ̄||² added to that player's loss (θ̄ held fixed in the gradient)."""

    def __init__(self, params: Iterable[torch.Tensor]):
        self.params = list(params)
        self.mean = [p.detach().clone() for p in self.params]
        self.count = 1

    def penalty(self) -> torch.Tensor:
        """||θ − θ̄||² (differentiable in θ)."""
        return sum((p - m).pow(2).sum() for p, m in zip(self.params, self.mean))

    def add_gradient(self, weight: float) -> float:
        """Add the penalty's gradient 2λ(θ − θ̄) to each .grad (cheaper than a graph); returns λ||θ − θ̄||².
        Multi-tensor (foreach) ops: one kernel per operation for all parameters, as the optimisers do."""
        with torch.no_grad():
            diff = torch._foreach_sub([p.detach() for p in self.params], self.mean)
            for p in self.params:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
            torch._foreach_add_([p.grad for p in self.params], diff, alpha=2 * weight)
            total = torch.stack(torch._foreach_norm(diff)).pow(2).sum()
        return weight * float(total)

    def update(self) -> None:
        """Fold the current values into the mean: θ̄ ← θ̄ + (θ − θ̄) / (count + 1)."""
        self.count += 1
        with torch.no_grad():
            torch._foreach_lerp_(self.mean, [p.detach() for p in self.params], 1.0 / self.count)


def ema_update(ema: torch.nn.Module, net: torch.nn.Module, decay: float) -> None:
    """θ_ema ← decay θ_ema + (1 − decay) θ for every parameter; buffers (batch-norm statistics) are copied."""
    with torch.no_grad():
        torch._foreach_lerp_(list(ema.parameters()), [p.detach() for p in net.parameters()], 1.0 - decay)
        for e, b in zip(ema.buffers(), net.buffers()):
            e.copy_(b)
