"""MLP generator and discriminator for toy 1D/2D data.

The defaults are plain ReLU MLPs with PyTorch's initialisation. The options exist for the published toy
protocols (PacGAN/VEEGAN: batch-normalised generator, maxout discriminator, N(0, 0.02) weights) and for the
GAN lab's toolbox (the minibatch standard-deviation feature before D's output layer). With every option off
the modules and the random draws of their initialisation are exactly those of the plain MLP.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _sn

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "elu": nn.ELU, "tanh": nn.Tanh}
BN_MOMENTUM = 0.05          # running statistics as in the PacGAN/ALI code: 0.95 old + 0.05 batch


@contextmanager
def bn_stats_frozen(net: nn.Module) -> Iterator[None]:
    """Batch norm still normalises by each batch's statistics, but its running statistics are left alone: the
    fakes D is trained on are drawn with G in train mode, and the running averages (what evaluation uses)
    should move once per iteration, in G's own step, as in the authors' code, not again for every D step."""
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.momentum = 0.0                   # running = (1 − 0) · running + 0 · batch
    try:
        yield
    finally:
        for m, mom in zip(norms, saved):
            m.momentum = mom


class Maxout(nn.Module):
    """A maxout layer: `width` units, each the maximum of `pieces` linear functions of the input."""

    def __init__(self, n_in: int, width: int, pieces: int, spectral: bool = False, init_std: float = 0.0):
        super().__init__()
        self.width, self.pieces = width, pieces
        lin = nn.Linear(n_in, width * pieces)
        _init(lin, init_std)
        self.linear = _sn(lin) if spectral else lin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).view(-1, self.width, self.pieces).amax(dim=-1)


class MinibatchStd(nn.Module):
    """Appends one feature to every row: the batch's standard deviation, averaged over the features
    (Karras et al. 2018). A collapsed generator's batch has a small one, which D can see; the gradient through
    it pushes G's batch to spread out. sqrt(var + 1e-8) keeps the gradient finite at zero spread.

    In eval mode (the lab's heatmap, which queries single points) the statistic of the last training batch is
    used: it is a buffer, so it travels with the weights to the display process. `from_batch` (the lab's arrows)
    takes it from the batch at hand, gradient included, without recording it."""

    def __init__(self):
        super().__init__()
        self.register_buffer("batch_std", torch.zeros(()))
        self.from_batch = False

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.training or self.from_batch:
            s = (h.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
            if self.training:
                self.batch_std.copy_(s.detach())
        else:
            s = self.batch_std
        return torch.cat([h, s.expand(h.shape[0], 1)], dim=1)


@contextmanager
def batch_statistic(net: nn.Module) -> Iterator[None]:
    """Minibatch-std layers take their statistic from the batch they are given (and its gradient), as in
    training, while the rest of the network stays in whatever mode it is in."""
    layers = [m for m in net.modules() if isinstance(m, MinibatchStd)]
    for m in layers:
        m.from_batch = True
    try:
        yield
    finally:
        for m in layers:
            m.from_batch = False


def _init(lin: nn.Linear, init_std: float) -> None:
    """N(0, init_std) weights and zero biases when init_std > 0; PyTorch's default otherwise (no draws)."""
    if init_std > 0:
        with torch.no_grad():
            lin.weight.normal_(0.0, init_std)
            if lin.bias is not None:
                lin.bias.zero_()


def mlp(n_in: int, n_out: int, layers: int, width: int, activation: str, spectral: bool = False, *,
        batchnorm: bool = False, maxout: int = 1, init_std: float = 0.0,
        minibatch_std: bool = False) -> nn.Sequential:
    """`layers` hidden layers of `width` units; optional spectral normalisation on every linear map, batch
    normalisation before each activation, maxout units (`maxout` pieces, replacing the activation) and the
    minibatch-std feature before the output layer."""
    mods: list[nn.Module] = []
    d = n_in
    for _ in range(layers):
        if maxout > 1:
            mods.append(Maxout(d, width, maxout, spectral, init_std))
        else:
            lin = nn.Linear(d, width, bias=not batchnorm)     # batch norm's shift replaces the bias
            _init(lin, init_std)
            mods.append(_sn(lin) if spectral else lin)
            if batchnorm:
                mods.append(nn.BatchNorm1d(width, momentum=BN_MOMENTUM))
            mods.append(ACTIVATIONS[activation]())
        d = width
    if minibatch_std:
        mods.append(MinibatchStd())
        d += 1
    out = nn.Linear(d, n_out)
    _init(out, init_std)
    mods.append(_sn(out) if spectral else out)
    return nn.Sequential(*mods)


def make_generator(latent_dim: int, data_dim: int, layers: int, width: int, activation: str, *,
                   batchnorm: bool = False, init_std: float = 0.0) -> nn.Sequential:
    return mlp(latent_dim, data_dim, layers, width, activation, batchnorm=batchnorm, init_std=init_std)


def make_discriminator(data_dim: int, layers: int, width: int, activation: str, spectral: bool, *,
                       maxout: int = 1, init_std: float = 0.0, minibatch_std: bool = False) -> nn.Sequential:
    """Outputs one logit (or critic value) per sample, shape (n, 1). `data_dim` is the input width: the
    data's dimension times the packing degree."""
    return mlp(data_dim, 1, layers, width, activation, spectral, maxout=maxout, init_std=init_std,
               minibatch_std=minibatch_std)


def hidden_part(d: nn.Sequential) -> nn.Sequential:
    """D up to and including its last hidden layer (before the minibatch-std feature and the output layer):
    the features that feature matching compares. Its parameters keep D's names (Sequential slicing keeps
    the keys), so a dict of D's parameters restricted to them drives it through `functional_call`."""
    end = next((i for i, m in enumerate(d) if isinstance(m, MinibatchStd)), len(d) - 1)
    return d[:end]


def sample_noise(n: int, dim: int, kind: str, generator: torch.Generator) -> torch.Tensor:
    if kind == "uniform":
        return torch.rand(n, dim, generator=generator) * 2 - 1
    return torch.randn(n, dim, generator=generator)
