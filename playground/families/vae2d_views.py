"""What the VAE page draws, as numpy arrays: the encoder's map of the data (posterior means and one-std
ellipses), decoded samples, and the ELBO / importance-weighted bounds against K beside the model's own log
likelihood (by quadrature) and the target's exact one. Pure functions of a trained `VAE2D`, each seeded.
"""

from __future__ import annotations

import numpy as np
import torch

from playground.families.vae2d import VAE2D


def encoder_map(model: VAE2D, x: np.ndarray, n_ellipse: int = 32) -> dict[str, np.ndarray]:
    """For points x (n, d): posterior `means` and `stds` (n, latent), and for a 2D latent the one-std
    `ellipses` (n, n_ellipse + 1, 2) (closed polylines; the posterior is diagonal, so axis-aligned)."""
    with torch.no_grad():
        mu, s = model.encode(model._scaled(torch.as_tensor(np.asarray(x), dtype=torch.float32)))
    out = {"means": mu.numpy().astype(np.float64), "stds": s.numpy().astype(np.float64)}
    if model.latent_dim == 2:
        a = np.linspace(0, 2 * np.pi, n_ellipse + 1)
        ring = np.stack([np.cos(a), np.sin(a)], axis=1)                          # (m, 2)
        out["ellipses"] = out["means"][:, None, :] + out["stds"][:, None, :] * ring[None]
    return out


def decoded(model: VAE2D, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """n prior draws: their `latent` codes, the decoder `means` and decoder `stds` (data units) and the
    `samples` x ~ p(x | z) (what `sample` returns for the same seed)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        zl = torch.randn(n, model.latent_dim, generator=g)
        m, sd = model.decode(zl)
        x = m + sd * torch.randn(m.shape, generator=g)
    spread = model.scale.spread
    return {"latent": zl.numpy().astype(np.float64),
            "means": model.scale.to_x(m).numpy().astype(np.float64),
            "stds": (sd * spread).numpy().astype(np.float64),
            "samples": model.scale.to_x(x).numpy().astype(np.float64)}


def bounds_vs_k(model: VAE2D, x: np.ndarray, ks: list[int], seed: int = 0, target=None) -> dict[str, np.ndarray]:
    """Mean over the points x of the K-sample bound for each K in `ks` (`bound`, nats; K = 1 is the ELBO),
    the model's true mean log q(x) by quadrature (`model_log_prob`: every bound lies below it on average) and,
    given the target, its exact mean log p(x) (`target_log_prob`)."""
    xt = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    bound = np.array([float(model.log_prob(xt, k=int(k), seed=seed).mean()) for k in ks])
    out = {"k": np.asarray(ks, dtype=np.int64), "bound": bound,
           "model_log_prob": np.array(float(model.log_prob_quadrature(xt).mean()))}
    if target is not None and target.has_density:
        out["target_log_prob"] = np.array(float(np.mean(target.log_prob(np.asarray(x)))))
    return out
