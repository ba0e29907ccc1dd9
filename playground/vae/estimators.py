"""Two unbiased estimators of the ELBO's gradient with respect to q's mean and log-variance, and their variance.

ELBO(φ) = E_q[log p(x|z)] − KL(q ‖ p(z)), φ = (mu, logvar) of q = N(mu, diag σ²); the KL term is closed form,
so only the first term is estimated, from draws z_s = mu + σ ε_s:
- reparameterised:  ∇_φ log p(x | mu + σ ε_s)  (the gradient flows through the decoder)
- score function (REINFORCE):  log p(x|z_s) ∇_φ log q(z_s), where ∇_mu log q = ε/σ and ∇_logvar log q = (ε² − 1)/2
- score function with a baseline b (the mean of log p(x|z) over an independent pilot batch, so still unbiased):
  (log p(x|z_s) − b) ∇_φ log q(z_s).
Each estimator is an average of i.i.d. per-sample gradients, so with S samples its variance is the per-sample
variance over S. The exact gradient, for comparison, is the reparameterised gradient integrated by Gauss–Hermite
quadrature over ε (`exact_gradient`: deterministic and exact to quadrature, like posterior.elbo_gauss_hermite,
whatever the posterior grid's cells).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from playground.errors import PlaygroundError
from playground.vae.posterior import GH_NODES, _dtype, label_tensor, log_likelihood

NAMES = {"reparam": "reparameterised", "score": "score function", "baseline": "score function + baseline"}
PARAMS = ("∂/∂mu0", "∂/∂mu1", "∂/∂logvar0", "∂/∂logvar1")
PILOT = 64
POOL = 5000                 # per-sample gradients drawn: the inference page's default and `vae gradients`'
MAX_SAMPLES = 200_000


def _kl_grad(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """∇_φ KL(N(mu, e^logvar) ‖ N(0, 1)) = (mu, (e^logvar − 1) / 2)."""
    return np.concatenate([mu, 0.5 * (np.exp(logvar) - 1.0)])


def per_sample_gradients(model, x, mu, logvar, y=None, samples: int = 2000, seed: int = 0,
                         chunk: int = 2048) -> dict[str, np.ndarray]:
    """Per-sample ELBO gradients (samples, 4) of each estimator, all from the same draws ε."""
    if not 2 <= samples <= MAX_SAMPLES:
        raise PlaygroundError(f"samples must be between 2 and {MAX_SAMPLES} (got {samples})")
    mu, logvar = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
    sd, dt, yt = np.exp(0.5 * logvar), _dtype(model), label_tensor(model, y)
    g = torch.Generator().manual_seed(int(seed))
    eps = torch.randn((samples, 2), generator=g, dtype=torch.float64).numpy()
    pilot = torch.randn((PILOT, 2), generator=g, dtype=torch.float64).numpy()
    baseline = float(log_likelihood(model, x, mu + pilot * sd, y).mean())
    reparam = _reparam_rows(model, x, mu, logvar, eps, yt, dt, chunk)
    ll = log_likelihood(model, x, mu + eps * sd, y)
    score_dir = np.concatenate([eps / sd, 0.5 * (eps ** 2 - 1.0)], 1)
    kl = _kl_grad(mu, logvar)
    return {"reparam": reparam - kl, "score": ll[:, None] * score_dir - kl,
            "baseline": (ll - baseline)[:, None] * score_dir - kl}


def _reparam_rows(model, x, mu, logvar, eps: np.ndarray, yt, dt, chunk: int = 2048) -> np.ndarray:
    """∇_φ log p(x | mu + σ ε) for each row of ε (n, 4), through the decoder."""
    rows = []
    for s in range(0, len(eps), chunk):
        e = torch.as_tensor(eps[s:s + chunk], dtype=dt)
        m = torch.tensor(mu, dtype=dt).expand(len(e), 2).clone().requires_grad_(True)
        lv = torch.tensor(logvar, dtype=dt).expand(len(e), 2).clone().requires_grad_(True)
        z = m + e * torch.exp(0.5 * lv)
        ll = model.log_px(x.expand(len(e), *x.shape[1:]), z, yt)
        gm, gl = torch.autograd.grad(ll.sum(), [m, lv])      # row s only depends on its own copy of φ
        rows.append(torch.cat([gm, gl], 1).double().numpy())
    return np.concatenate(rows)


def exact_gradient(model, x, mu, logvar, y=None, nodes: int = GH_NODES) -> np.ndarray:
    """∇_φ ELBO = E_ε[∇_φ log p(x | mu + σ ε)] − ∇_φ KL, the expectation by Gauss–Hermite quadrature over ε
    (nodes² points): exact to quadrature, like the ELBO the page shows."""
    t, w = np.polynomial.hermite_e.hermegauss(int(nodes))
    w = w / w.sum()
    t1, t2 = np.meshgrid(t, t, indexing="ij")
    eps = np.stack([t1.ravel(), t2.ravel()], axis=1)
    mu, logvar = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
    rows = _reparam_rows(model, x, mu, logvar, eps, label_tensor(model, y), _dtype(model))
    return np.outer(w, w).ravel() @ rows - _kl_grad(mu, logvar)


def summarise(grads: dict[str, np.ndarray]) -> dict[str, dict]:
    """Per estimator: mean gradient, its standard error, the per-sample variance of each component and their
    sum (the variance of a one-sample estimate; divide by S for S samples)."""
    out = {}
    for name, g in grads.items():
        var = g.var(0, ddof=1)
        out[name] = {"mean": g.mean(0), "se": np.sqrt(var / len(g)), "var": var, "total_var": float(var.sum())}
    return out


def variance_vs_samples(grads: dict[str, np.ndarray], sizes=(1, 2, 5, 10, 20, 50, 100, 200)) -> list[dict]:
    """The measured variance (summed over the 4 components) of the S-sample estimate, from disjoint blocks of S
    per-sample gradients, for each S with at least 5 blocks; beside it the i.i.d. prediction var₁ / S."""
    rows = []
    n = min(len(g) for g in grads.values())
    for s in sizes:
        blocks = n // s
        if blocks < 5:
            continue
        row = {"samples": int(s), "blocks": blocks}
        for name, g in grads.items():
            means = g[:blocks * s].reshape(blocks, s, -1).mean(1)
            row[name] = float(means.var(0, ddof=1).sum())
            row[name + "_iid"] = float(g.var(0, ddof=1).sum() / s)
        rows.append(row)
    return rows


def snr(summary: dict[str, dict]) -> dict[str, float]:
    """Signal-to-noise of a one-sample estimate: ‖mean‖ / sqrt(total variance)."""
    return {k: float(np.linalg.norm(v["mean"]) / math.sqrt(max(v["total_var"], 1e-300))) for k, v in summary.items()}
