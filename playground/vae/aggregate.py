"""Views over a whole data set's codes: the aggregate posterior q(z) = (1/N) Σ q(z|x_n) against the prior (its
holes, KL and the mutual information), and an image's ELBO placed among the test split's (the outlier score)."""

from __future__ import annotations

import math

import numpy as np
import torch

from playground.numerics import logsumexp
from playground.vae.posterior import _centres, log_normal_diag, log_prior

AGGREGATE_GRID, OUTLIER_SAMPLES = 100, 128      # the aggregate view's cells per side; draws per image's ELBO


# ---------------------------------------------------------------------------------------------- aggregate posterior
def aggregate_posterior(mu: np.ndarray, std: np.ndarray, n: int = 120, span: float = 4.0,
                        hdr: float = 0.99) -> dict:
    """q(z) = (1/N) Σ_n q(z|x_n), the encoder's mixture over a data set, on an n x n grid over the square
    holding the prior's ±span and every code ± 3 sd. Also the prior on the same cells, KL(q(z) ‖ p(z)) by
    quadrature, and the density level of q's `hdr` highest-density region (where q(z) "has mass")."""
    mu, std = np.asarray(mu, dtype=np.float64)[:, :2], np.asarray(std, dtype=np.float64)[:, :2]
    half = max(span, float(np.abs(mu).max() + 3 * std.max()) if len(mu) else span)
    xs = ys = _centres(-half, half, int(n))
    X, Y = np.meshgrid(xs, ys, indexing="xy")
    pts = np.stack([X.ravel(), Y.ravel()], 1)
    log_q = mixture_log_density(pts, mu, std).reshape(n, n)
    log_p = log_prior(pts).reshape(n, n)
    cell = float((xs[1] - xs[0]) ** 2)
    mass = np.exp(log_q) * cell
    order = np.sort(mass.ravel())[::-1]
    level_i = min(int(np.searchsorted(np.cumsum(order), hdr * order.sum())), len(order) - 1)
    kl = float((mass * (log_q - log_p)).sum() / mass.sum())
    return {"xs": xs, "ys": ys, "log_q": log_q, "log_p": log_p, "kl": kl, "mass_in_box": float(mass.sum()),
            "hdr": hdr, "log_level": float(math.log(order[level_i] / cell))}


def mixture_log_density(z: np.ndarray, mu: np.ndarray, std: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """log (1/N) Σ_n N(z; mu_n, diag std_n²) at each row of z (M, 2), in chunks of points."""
    logvar = 2 * np.log(std)
    out = []
    for s in range(0, len(z), chunk):
        zz = z[s:s + chunk, None, :]                                     # (m, 1, 2) against (N, 2)
        out.append(logsumexp(log_normal_diag(zz, mu[None], logvar[None]), axis=1) - math.log(len(mu)))
    return np.concatenate(out)


def prior_holes(agg: dict, mu: np.ndarray, std: np.ndarray, samples: int = 400, seed: int = 0) -> dict:
    """Draws from the prior and which of them fall outside the aggregate posterior's highest-density region
    (built from the training codes: where the decoder was never trained). Also the mutual information
    I(x; z) = E KL(q(z|x) ‖ p) − KL(q ‖ p)."""
    z = np.random.default_rng(seed).standard_normal((int(samples), 2))
    mu, std = np.asarray(mu, dtype=np.float64)[:, :2], np.asarray(std, dtype=np.float64)[:, :2]  # as the grid's
    log_q = mixture_log_density(z, mu, std)
    mean_kl = float((0.5 * (mu ** 2 + std ** 2 - 1.0) - np.log(std)).sum(1).mean())
    hole = log_q < agg["log_level"]
    return {"z": z, "log_q": log_q, "hole": hole, "fraction": float(hole.mean()), "mean_kl": mean_kl,
            "mutual_information": mean_kl - agg["kl"]}


# ---------------------------------------------------------------------------------------------- outlier score
@torch.no_grad()
def elbo_per_image(model, images: torch.Tensor, labels=None, samples: int = 32, seed: int = 0,
                   batch: int = 256) -> np.ndarray:
    """Each image's ELBO: E_q log p(x|z) from `samples` draws plus the closed-form KL (a VAE of any latent size)."""
    g = torch.Generator().manual_seed(int(seed))
    out = []
    for s in range(0, len(images), batch):
        x = images[s:s + batch]
        y = None if labels is None or not model.num_classes else torch.as_tensor(labels[s:s + batch])
        mu, logvar = model.encode(x, y)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)
        _, logpx = model.log_weights(x, samples, y, generator=g)
        out.append((logpx.mean(1) - kl).double().numpy())
    return np.concatenate(out)


def outlier_score(value: float, reference: np.ndarray) -> dict:
    """Where an ELBO falls among reference ELBOs: the percentage of them below it, and its z-score."""
    reference = np.asarray(reference, dtype=np.float64)
    return {"elbo": float(value), "percentile": float(100.0 * (reference < value).mean()),
            "z": float((value - reference.mean()) / max(reference.std(), 1e-12))}
