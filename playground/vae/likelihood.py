"""log p(x|z) at many latent points, split into decoder terms that do not depend on the image and one product
with it; and a memo of those terms on fixed point sets (the posterior's scan grids), per model.

Bernoulli decoder with logits L(z):   log p(x|z) = Σ_j x_j L_j(z) − Σ_j softplus(L_j(z))
Gaussian decoder, mean m, precision p = exp(−logvar):
                                      log p(x|z) = Σ_j x_j m_j p_j − ½ x_j² p_j + c(z),
                                      c(z) = −½ Σ_j (log 2π + logvar_j + m_j² p_j)
i.e. c(z) + F(z) · φ(x) with φ(x) = x (or [x, x²]). On a fixed grid F and c are computed once and each new
image costs one matrix-vector product. Bernoulli terms stay in the decoder's dtype (float32: the same precision
as binary_cross_entropy_with_logits summed over the pixels); Gaussian ones are formed in float64, because the
expanded square cancels terms up to exp(7) ≈ 1100 times a pixel's log-density. A model without
`decoder_params` (playground.vae.linear_gaussian) goes through its own log_px, uncached.
"""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from playground.ahead import checkpoint

LOG_2PI = math.log(2 * math.pi)
CHUNK = 2048                 # latent points per decoder pass (fastest on one core for a 784-pixel MLP)
GROUP = 49                   # pixels per product in softplus_sum (784 = 16 x 49)


def model_dtype(model) -> torch.dtype:
    for t in list(model.parameters()) + list(model.buffers()):
        return t.dtype
    return torch.float32


def label_tensor(model, y) -> torch.Tensor | None:
    """A class label for a conditional model (default 0), None for an unconditional one."""
    if not getattr(model, "num_classes", 0):
        return None
    return torch.as_tensor([0 if y is None else int(y)], dtype=torch.long)


def has_terms(model) -> bool:
    return callable(getattr(model, "decoder_params", None)) and getattr(getattr(model, "cfg", None), "decoder",
                                                                         None) in ("bernoulli", "gaussian")


def image_features(model, x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """φ(x): the pixels (Bernoulli) or the pixels and their squares (Gaussian), flat."""
    v = x.reshape(-1).to(dtype)
    return v if model.cfg.decoder == "bernoulli" else torch.cat([v, v * v])


def softplus_sum(a: torch.Tensor) -> torch.Tensor:
    """Σ_j softplus(a_j) per row, as Σ max(a, 0) + Σ_groups log Π (1 + e^−|a|): one log per GROUP pixels instead
    of a log1p per pixel (softplus was a third of the decoder's time). Each factor lies in (1, 2], so a product
    of 49 stays below 2^49; in float32 the result is within about 1e-4 nats of softplus summed (tested)."""
    n = a.shape[1]
    full = n - n % GROUP
    e = a.abs().neg_().exp_().add_(1.0)
    out = a.clamp(min=0).sum(1) + e[:, :full].reshape(len(a), -1, GROUP).prod(2).log_().sum(1)
    return out + e[:, full:].log().sum(1) if full < n else out


def decoder_terms(model, z: torch.Tensor, y=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(F, c) at the rows of z (M, 2): log p(x|z) = c + F @ φ(x) for every image x. The unit of every long
    decoder loop, so a look-ahead job no longer wanted stops here (playground.ahead.checkpoint)."""
    checkpoint()
    a, logvar = model.decoder_params(z, label_tensor(model, y))
    a = a.flatten(1)
    if logvar is None:
        return a, -softplus_sum(a)
    m, lv = a.double(), logvar.flatten(1).double()
    p = torch.exp(-lv)
    mp = m * p
    return torch.cat([mp, -0.5 * p], 1), -0.5 * (LOG_2PI + lv + m * mp).sum(1)


def _points(z: np.ndarray, dtype) -> list[torch.Tensor]:
    return [torch.as_tensor(z[s:s + CHUNK], dtype=dtype) for s in range(0, len(z), CHUNK)]


@torch.no_grad()
def terms_on(model, z: np.ndarray, y=None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """decoder_terms in passes of CHUNK points (the unit both the memo and a fresh evaluation contract in)."""
    return [decoder_terms(model, zz, y) for zz in _points(z, model_dtype(model))]


@torch.no_grad()
def contract(model, x: torch.Tensor, terms) -> np.ndarray:
    """log p(x|z) (M,) float64 from the chunks of terms_on."""
    phi = image_features(model, x, terms[0][0].dtype)
    return np.concatenate([(Fz @ phi + c).double().numpy() for Fz, c in terms])


@torch.no_grad()
def contract_many(model, images: torch.Tensor, terms) -> torch.Tensor:
    """log p(x|z) (M, B) float64 for B images at once: one matrix product per chunk of terms."""
    dtype = terms[0][0].dtype
    v = images.flatten(1).to(dtype)
    phi = v if model.cfg.decoder == "bernoulli" else torch.cat([v, v * v], 1)
    return torch.cat([(Fz @ phi.T + c[:, None]).double() for Fz, c in terms])


@torch.no_grad()
def log_likelihood(model, x: torch.Tensor, z: np.ndarray, y=None) -> np.ndarray:
    """log p(x|z) for each row of z (M, 2), float64 (M,): the decoder's terms chunk by chunk, never all held."""
    chunks = _points(z, model_dtype(model))
    if not chunks:
        return np.zeros(0)
    if not has_terms(model):
        yt = label_tensor(model, y)
        one = x.dim() > 1 and len(x) == 1
        return np.concatenate([model.log_px(x.expand(len(zz), *x.shape[1:]) if one else x, zz, yt).double().numpy()
                               for zz in chunks])
    return np.concatenate([contract(model, x, [decoder_terms(model, zz, y)]) for zz in chunks])


def log_likelihood_beside(model, x: torch.Tensor, z: np.ndarray, y, other: Callable, other_points: int):
    """(log_likelihood(model, x, z, y), other()) computed side by side on two cores when torch runs one thread:
    a worker thread takes the first whole chunks of z, as many as balance the caller's share (`other`, about
    `other_points` latent points, then the rest of z). Chunk for chunk the same arithmetic as one thread alone,
    so the same numbers. It pays only when a second core is idle: with both busy it measured 0 to 15% slower
    than one thread (bench/README.md)."""
    threads = torch.get_num_threads()
    head = min(len(z), CHUNK * round((len(z) + other_points) / 2 / CHUNK))
    if threads > 1 or (os.cpu_count() or 1) < 2 or head == 0:
        result = other()
        return log_likelihood(model, x, z, y), result

    def work() -> np.ndarray:
        torch.set_num_threads(threads)          # a new thread starts with torch's default (every core)
        return log_likelihood(model, x, z[:head], y)

    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(work)
        result = other()
        rest = log_likelihood(model, x, z[head:], y)
        return np.concatenate([first.result(), rest]), result


def _weights_version(model) -> tuple:
    """Changes whenever a parameter or buffer is modified in place (an optimiser step, load_state_dict)."""
    return tuple(t._version for t in list(model.parameters()) + list(model.buffers()))


def _nbytes(terms) -> int:
    return sum(t.element_size() * t.nelement() for pair in terms for t in pair)


class GridCache:
    """The decoder's terms on latent grids of one model, kept for the most recently used (grid, label) pairs
    that fit in `max_bytes`, so that a new image on a grid seen before costs a matrix-vector product instead of
    a decoder pass. The default holds every scan radius a 28x28 model's test set needs at 64 cells (11 grids of
    12 MiB for mnist5k-2d). Thread-safe (one object may serve every session of a page); forgets everything if
    the weights change."""

    def __init__(self, model, max_bytes: int = 160 * 2**20):
        self.model, self.max_bytes = model, int(max_bytes)
        self._grids: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._version = _weights_version(model)
        self.hits = self.misses = 0

    def log_lik_grid(self, x: torch.Tensor, y, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """log p(x|z) on the grid of cell centres xs × ys: (len(ys), len(xs)) float64, rows along ys."""
        if not has_terms(self.model):
            X, Y = np.meshgrid(xs, ys, indexing="xy")
            return log_likelihood(self.model, x, np.stack([X.ravel(), Y.ravel()], 1), y).reshape(X.shape)
        return contract(self.model, x, self.terms(xs, ys, y)).reshape(len(ys), len(xs))

    def terms(self, xs: np.ndarray, ys: np.ndarray, y=None) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The decoder's terms (terms_on) on the grid xs × ys, from the memo or computed and kept."""
        X, Y = np.meshgrid(xs, ys, indexing="xy")
        key = (xs.tobytes(), ys.tobytes(), None if not getattr(self.model, "num_classes", 0) else int(y or 0))
        with self._lock:
            version = _weights_version(self.model)
            if version != self._version:
                self._grids.clear()
                self._version = version
            terms = self._grids.get(key)
            if terms is None:
                self.misses += 1
                terms = terms_on(self.model, np.stack([X.ravel(), Y.ravel()], 1), y)
                self._grids[key] = terms
                while len(self._grids) > 1 and self._size() > self.max_bytes:
                    self._grids.popitem(last=False)
            else:
                self.hits += 1
                self._grids.move_to_end(key)
        return terms

    def _size(self) -> int:
        return sum(_nbytes(terms) for terms in self._grids.values())

    def nbytes(self) -> int:
        with self._lock:
            return self._size()
