"""A VAE on 1D/2D toy data: MLP encoder and decoder, a 1D or 2D latent, a Gaussian decoder with learned variance.

Trained on the ELBO (analytic KL to the N(0, I) prior, one reparameterised sample). What it reports as its
log density is a LOWER bound (`likelihood = "bound"`): the importance-weighted bound with K samples from the
encoder (K = 1 is the ELBO), which rises towards log q(x) as K grows. With a latent of at most two dimensions
the model's true log q(x) = log int p(z) p(x | z) dz is computable by quadrature over a latent grid
(`log_prob_quadrature`): the page shows the gap and the tests check the bound against it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from playground.errors import PlaygroundError
from playground.families.base import FamilyModel, register
from playground.families.time_nets import DataScale, mlp

_LOG_2PI = math.log(2 * math.pi)
_MIN_STD = 1e-3                 # floor of the encoder's and decoder's standard deviations (in scaled units)
_INIT_DECODER_STD = 0.1         # the decoder's initial standard deviation (scaled units)
_CHUNK_ROWS = 1 << 17           # (point, latent sample) rows per decoder pass when evaluating bounds


def _log_normal(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """log N(x; mean, diag(std^2)) summed over the last axis."""
    return (-0.5 * ((x - mean) / std) ** 2 - torch.log(std) - 0.5 * _LOG_2PI).sum(-1)


class VAE2D(FamilyModel):
    """q(z|x) = N(mu(x), diag s(x)^2), p(z) = N(0, I), p(x|z) = N(m(z), diag sd(z)^2), all in scaled units."""

    family = "vae"
    likelihood = "bound"

    def __init__(self, scale: DataScale, *, latent_dim: int = 2, width: int = 128, layers: int = 3,
                 iwae_k: int = 64, seed: int = 0):
        super().__init__()
        if latent_dim not in (1, 2):
            raise PlaygroundError(f"the toy VAE's latent has 1 or 2 dimensions, got {latent_dim}")
        self.scale = scale
        self.dim = scale.dim
        self.latent_dim = latent_dim
        self.encoder = mlp(self.dim, 2 * latent_dim, width, layers)
        self.decoder = mlp(latent_dim, 2 * self.dim, width, layers)
        with torch.no_grad():
            # Start the decoder narrow (std ~ 0.1 of the data's spread): a broad decoder can explain the data
            # without the latent at all, and training then tends to stay there (posterior collapse).
            self.decoder[-1].bias[self.dim:] = math.log(math.expm1(_INIT_DECODER_STD))
        self.iwae_k = int(iwae_k)
        self.eval_seed = int(seed) + 104_729        # the bound's own importance samples (reproducible)

    def apply_live(self, cfg) -> None:
        self.iwae_k = int(cfg.vae_iwae_k)

    # --- the two networks
    def encode(self, z_x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and standard deviation (n, latent) of scaled points."""
        mu, raw = self.encoder(z_x).chunk(2, dim=-1)
        return mu, F.softplus(raw) + _MIN_STD

    def decode(self, zl: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Decoder mean and standard deviation (..., d) in scaled units."""
        m, raw = self.decoder(zl).chunk(2, dim=-1)
        return m, F.softplus(raw) + _MIN_STD

    def _scaled(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x, dtype=torch.float32)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise PlaygroundError(f"points must have {self.dim} column(s), got shape {tuple(x.shape)}")
        return self.scale.to_z(x)

    # --- training and bounds
    def _elbo_z(self, z_x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        mu, s = self.encode(z_x)
        zl = mu + s * torch.randn(mu.shape, generator=generator)
        m, sd = self.decode(zl)
        kl = 0.5 * (mu**2 + s**2 - 1 - 2 * torch.log(s)).sum(-1)       # KL(N(mu, s^2) || N(0, 1)), exact
        return _log_normal(z_x, m, sd) - kl

    def training_loss(self, batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return -self._elbo_z(self.scale.to_z(batch), generator).mean()

    def elbo(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A one-sample estimate of the ELBO per point, in data units (nats)."""
        return self._elbo_z(self._scaled(x), generator) + self.scale.log_det()

    def iwae_bound(self, x: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
        """log (1/K) sum_k p(z_k) p(x|z_k) / q(z_k|x), z_k ~ q(z|x), per point in data units. Its expectation
        is the K-sample importance-weighted bound: <= log q(x), rising with K."""
        if k < 1:
            raise PlaygroundError(f"K must be at least 1, got {k}")
        z_x = self._scaled(x)
        out = []
        per = max(1, _CHUNK_ROWS // k)
        for c in z_x.split(per):
            mu, s = self.encode(c)
            eps = torch.randn((k,) + mu.shape, generator=generator)
            zl = mu + s * eps                                         # (k, n, latent)
            m, sd = self.decode(zl)
            log_w = (_log_normal(c, m, sd) + _log_normal(zl, torch.zeros(()), torch.ones(()))
                     - _log_normal(zl, mu, s))
            out.append(torch.logsumexp(log_w, 0) - math.log(k))
        return torch.cat(out) + self.scale.log_det()

    def log_prob(self, x: torch.Tensor, k: int | None = None, seed: int | None = None) -> torch.Tensor:
        """The importance-weighted bound with K = `iwae_k` (a bound, not the density), reproducible by seed."""
        g = torch.Generator().manual_seed(self.eval_seed if seed is None else seed)
        with torch.no_grad():
            return self.iwae_bound(x, self.iwae_k if k is None else k, g)

    def log_prob_quadrature(self, x: torch.Tensor, n_grid: int | None = None, span: float = 6.0) -> torch.Tensor:
        """The model's true log q(x) = log int N(z; 0, I) p(x | z) dz by the midpoint rule on a latent grid
        over [-span, span]^latent (n_grid points per axis; default 4000 in 1D, 400 in 2D). Exact up to the
        quadrature: refine n_grid to check it."""
        n_grid = n_grid or (4000 if self.latent_dim == 1 else 400)
        h = 2 * span / n_grid
        axis = -span + h * (torch.arange(n_grid, dtype=torch.float32) + 0.5)
        if self.latent_dim == 1:
            nodes = axis[:, None]
        else:
            nodes = torch.cartesian_prod(axis, axis)
        z_x = self._scaled(x)
        with torch.no_grad():
            m, sd = self.decode(nodes)                                   # (nodes, d)
            log_prior = _log_normal(nodes, torch.zeros(()), torch.ones(())) + self.latent_dim * math.log(h)
            out = []
            per = max(1, _CHUNK_ROWS // len(nodes))
            for c in z_x.split(per):
                lp = _log_normal(c[:, None, :].double(), m.double(), sd.double()) + log_prior.double()
                out.append(torch.logsumexp(lp, 1))
        return torch.cat(out) + self.scale.log_det()

    # --- sampling
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """x ~ p(x | z), z ~ N(0, I): decoded samples with the decoder's noise."""
        with torch.no_grad():
            zl = torch.randn(n, self.latent_dim, generator=generator)
            m, sd = self.decode(zl)
            return self.scale.to_x(m + sd * torch.randn(m.shape, generator=generator))


@register("vae")
def _build(cfg, target) -> VAE2D:
    return VAE2D(DataScale.from_target(target, cfg.seed), latent_dim=cfg.vae_latent_dim, width=cfg.width,
                 layers=cfg.layers, iwae_k=cfg.vae_iwae_k, seed=cfg.seed)
