"""A latent-variable model whose inference has closed forms: the reference the grid engine is checked against.

p(z) = N(0, I), p(x|z) = N(Wz + b, s² I) (probabilistic PCA). Then p(x) = N(b, WWᵀ + s² I) and
p(z|x) = N(m, S) with S = (I + WᵀW / s²)⁻¹ and m = S Wᵀ(x − b) / s². Its "encoder" is a deliberately imperfect
diagonal Gaussian (the posterior's mean shifted by `q_shift`, its marginal variances scaled by `q_scale`), so
the ELBO gap is not zero. It speaks the interface of playground.vae.model.VAE that the inference code uses:
`latent`, `num_classes`, `shape`, `encode(x, y)`, `log_px(x, z, y)`, plus `log_lik_sup(x)`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

LOG_2PI = math.log(2 * math.pi)


class LinearGaussian(torch.nn.Module):
    def __init__(self, W, b, sigma: float, q_shift=(0.0, 0.0), q_scale: float = 1.0):
        super().__init__()
        W = torch.as_tensor(np.asarray(W, dtype=np.float64))
        self.register_buffer("W", W)                                              # (n, D)
        self.register_buffer("b", torch.as_tensor(np.asarray(b, dtype=np.float64)).reshape(-1))
        self.sigma = float(sigma)
        self.latent = int(W.shape[1])
        self.num_classes = 0
        self.shape = (1, 1, int(W.shape[0]))
        self.q_shift = torch.as_tensor(np.asarray(q_shift, dtype=np.float64)).reshape(-1)
        self.q_scale = float(q_scale)

    @classmethod
    def random(cls, pixels: int = 6, latent: int = 2, sigma: float = 0.6, seed: int = 0, **kw) -> LinearGaussian:
        g = np.random.default_rng(seed)
        return cls(g.normal(size=(pixels, latent)) * 0.8, g.normal(size=pixels) * 0.3, sigma, **kw)

    # --- closed forms -------------------------------------------------------------------------------------
    def posterior(self, x) -> tuple[np.ndarray, np.ndarray]:
        """(m, S) of the exact posterior p(z|x) = N(m, S)."""
        W, s2 = self.W.numpy(), self.sigma ** 2
        S = np.linalg.inv(np.eye(self.latent) + W.T @ W / s2)
        m = S @ W.T @ (self._flat(x).numpy() - self.b.numpy()) / s2
        return m, S

    def log_marginal(self, x) -> float:
        """log p(x) = log N(x; b, WWᵀ + s² I)."""
        W, n = self.W.numpy(), self.W.shape[0]
        C = W @ W.T + self.sigma ** 2 * np.eye(n)
        r = self._flat(x).numpy() - self.b.numpy()
        _, logdet = np.linalg.slogdet(C)
        return float(-0.5 * (n * LOG_2PI + logdet + r @ np.linalg.solve(C, r)))

    def elbo(self, x, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """The ELBO of q = N(mu, diag exp(logvar)) in closed form, differentiable in mu and logvar:
        E_q log p(x|z) = −n/2 log(2π s²) − (‖x − b − W mu‖² + Σ_j ‖W_j‖² var_j) / (2 s²), minus KL(q‖N(0, I))."""
        var = logvar.exp()
        r = self._flat(x) - self.b - self.W @ mu
        n = self.W.shape[0]
        recon = -0.5 * n * (LOG_2PI + 2 * math.log(self.sigma)) - (r @ r + (self.W.pow(2).sum(0) * var).sum()) / (
            2 * self.sigma ** 2)
        kl = 0.5 * (mu.pow(2) + var - 1.0 - logvar).sum()
        return recon - kl

    def gap(self, x, mu, logvar) -> float:
        """KL(q ‖ p(z|x)) between two Gaussians, closed form."""
        m, S = self.posterior(x)
        mu, var = np.asarray(mu, dtype=np.float64), np.exp(np.asarray(logvar, dtype=np.float64))
        P = np.linalg.inv(S)
        d = m - mu
        _, logdet_s = np.linalg.slogdet(S)
        return float(0.5 * (np.trace(P @ np.diag(var)) + d @ P @ d - self.latent + logdet_s - np.log(var).sum()))

    # --- the VAE interface ----------------------------------------------------------------------------
    def _flat(self, x) -> torch.Tensor:
        return torch.as_tensor(x, dtype=torch.float64).reshape(-1)

    def encode(self, x, y=None) -> tuple[torch.Tensor, torch.Tensor]:
        m, S = self.posterior(x)
        mu = torch.as_tensor(m) + self.q_shift
        logvar = torch.log(torch.from_numpy(np.diag(S).copy()) * self.q_scale)
        return mu[None], logvar[None]

    def log_px(self, x, z, y=None) -> torch.Tensor:
        """log N(x; Wz + b, s² I) for each row of z (x: one image or one per row)."""
        z = z.to(torch.float64)
        mean = z @ self.W.T + self.b
        r = torch.as_tensor(x, dtype=torch.float64).reshape(-1, self.W.shape[0]) - mean
        n = self.W.shape[0]
        return -0.5 * (n * (LOG_2PI + 2 * math.log(self.sigma)) + r.pow(2).sum(1) / self.sigma ** 2)

    def log_lik_sup(self, x=None) -> float:
        """sup_z log p(x|z): the Gaussian's peak, reached where Wz + b = x."""
        return -0.5 * self.W.shape[0] * (LOG_2PI + 2 * math.log(self.sigma))
