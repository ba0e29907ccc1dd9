"""Evaluation: test ELBO (reconstruction + KL), the IWAE bound, KL per dimension, active units and MIG.

MIG (mutual information gap, Chen et al. 2018): for each ground-truth factor v_k, the difference between the
largest and second-largest mutual information I(z_j; v_k) over latent dims j, divided by H(v_k), averaged
over factors. Latents (posterior means) are discretised into equal-width bins; MI is the plug-in estimate
from the joint histogram. 1 = each factor captured by exactly one latent, 0 = no gap.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from playground.vae.model import VAE

ACTIVE_KL = 0.01  # nats: a latent dimension counts as active when its average KL exceeds this


def entropy(labels: np.ndarray) -> float:
    """Plug-in entropy (nats) of a discrete sample."""
    _, counts = np.unique(labels, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """Plug-in mutual information (nats) between two discrete samples of equal length."""
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    joint = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(joint, (ai, bi), 1.0)
    joint /= joint.sum()
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum())


def discretize(codes: np.ndarray, bins: int = 20) -> np.ndarray:
    """Each column of codes (N, D) into `bins` equal-width bins over its own range: int array (N, D)."""
    codes = np.asarray(codes, dtype=np.float64)
    out = np.zeros(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        col = codes[:, j]
        lo, hi = col.min(), col.max()
        if hi - lo < 1e-12:
            continue  # a constant dimension carries no information
        edges = np.linspace(lo, hi, bins + 1)[1:-1]
        out[:, j] = np.digitize(col, edges)
    return out


def mig(codes: np.ndarray, factors: np.ndarray | dict, bins: int = 20) -> dict:
    """MIG of latent codes (N, D) against discrete factors (N, K) or {name: (N,)}.

    Returns {"mig": mean gap, "per_factor": {name: gap}, "mi": (K, D) matrix in nats}."""
    if isinstance(factors, dict):
        names = list(factors)
        fac = np.stack([np.asarray(factors[k]) for k in names], 1)
    else:
        fac = np.asarray(factors)
        names = [f"factor{k}" for k in range(fac.shape[1])]
    d = discretize(codes, bins)
    mi = np.array([[mutual_information(d[:, j], fac[:, k]) for j in range(d.shape[1])] for k in range(fac.shape[1])])
    gaps = {}
    for k, name in enumerate(names):
        h = entropy(fac[:, k])
        if h <= 1e-12:
            continue  # a constant factor cannot be captured
        top = np.sort(mi[k])[::-1]
        second = top[1] if len(top) > 1 else 0.0
        gaps[name] = float((top[0] - second) / h)
    return {"mig": float(np.mean(list(gaps.values()))) if gaps else float("nan"), "per_factor": gaps,
            "mi": mi}


@torch.no_grad()
def encode_all(model: VAE, images: torch.Tensor, labels: torch.Tensor | None = None, batch: int = 1024):
    mus, logvars = [], []
    for s in range(0, len(images), batch):
        y = None if labels is None or not model.num_classes else labels[s:s + batch]
        mu, lv = model.encode(images[s:s + batch], y)
        mus.append(mu)
        logvars.append(lv)
    return torch.cat(mus), torch.cat(logvars)


@torch.no_grad()
def evaluate(model: VAE, images: torch.Tensor, labels: torch.Tensor | None = None, *, k: int = 64,
             seed: int = 0, factors: dict | None = None, batch: int = 256, mig_bins: int = 20) -> dict:
    """Per-image averages (nats) over the given (test) images.

    test_recon is E_q[log p(x|z)] estimated with the same K samples as the IWAE bound; test_kl is the
    closed-form KL; test_elbo = test_recon - test_kl; test_iwae = E_x log (1/K) sum_k w_k.
    """
    model.eval()
    g = torch.Generator().manual_seed(seed)
    recon_sum, kl_sum, iwae_sum = 0.0, 0.0, 0.0
    kl_dims = torch.zeros(model.latent, dtype=torch.float64)
    n = len(images)
    per = max(1, min(batch, 32768 // max(1, k)))
    for s in range(0, n, per):
        x = images[s:s + per]
        y = None if labels is None or not model.num_classes else labels[s:s + per]
        mu, logvar = model.encode(x, y)
        kd = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)
        kl_dims += kd.sum(0).double()
        kl_sum += float(kd.sum())
        logw, logpx = model.log_weights(x, k, y, generator=g)
        recon_sum += float(logpx.mean(1).sum())
        iwae_sum += float((torch.logsumexp(logw.double(), 1) - math.log(k)).sum())
    kl_per_dim = (kl_dims / n).numpy()
    out = {
        "test_elbo": (recon_sum - kl_sum) / n,
        "test_recon": recon_sum / n,
        "test_kl": kl_sum / n,
        "test_iwae": iwae_sum / n,
        "iwae_k": int(k),
        "kl_per_dim": [round(float(v), 5) for v in kl_per_dim],
        "active_units": int((kl_per_dim > ACTIVE_KL).sum()),
        "test_size": int(n),
        "nats_per_image": True,
    }
    if factors:
        mu, _ = encode_all(model, images, labels)
        res = mig(mu.numpy(), factors, bins=mig_bins)
        out["mig"] = res["mig"]
        out["mig_per_factor"] = {k_: round(v, 4) for k_, v in res["per_factor"].items()}
    for key in ("test_elbo", "test_recon", "test_kl", "test_iwae"):
        out[key] = round(out[key], 4)
    if "mig" in out:
        out["mig"] = round(out["mig"], 4)
    return out
