"""Figures of the VAE lab as pure builders: arrays, metrics rows or images in, a Plotly figure or a picture out.

The page only places what these return; the tests check them without a browser.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from playground.vae.latent import to_grid
from playground.vae.metrics import ACTIVE_KL

ACTIVE, INACTIVE = "#1f77b4", "#bbbbbb"
CURVES = (("test_elbo", "test ELBO"), ("test_recon", "reconstruction E[log p(x|z)]"),
          ("test_kl", "KL(q(z|x) || p(z))"))
METRICS = (("test_recon", "reconstruction E[log p(x|z)]"), ("test_kl", "KL"), ("test_elbo", "ELBO"),
           ("test_iwae", "IWAE"), ("active_units", "active units"), ("mig", "MIG"))
SIDEBAR_METRICS = ("test_elbo", "test_recon", "test_kl", "test_iwae", "active_units", "mig")


def _layout(fig: go.Figure, title: str, height: int = 360, **kw) -> go.Figure:
    fig.update_layout(**{"height": height, "template": "plotly_white", "title": title, "margin": {"t": 40}, **kw})
    return fig


def picture(images, nrow: int, size_px: int = 160, padding: int = 1) -> np.ndarray:
    """Images (N, C, H, W) in [0, 1] as one uint8 (H, W, 3) picture, each nearest-upscaled to about
    `size_px` pixels so its pixels stay crisp."""
    return to_grid(images, nrow=nrow, upscale=max(1, size_px // images.shape[-1]), padding=padding)


def manifold_picture(images, n: int) -> np.ndarray:
    """The n x n manifold of latent.grid_2d as one picture (smaller tiles for a finer grid)."""
    return picture(images, nrow=n, size_px=32 if n > 12 else 40)


def manifold_caption(dx: int, dy: int) -> str:
    return f"decoded through the prior's 5%..95% quantiles of z{dx} (→) and z{dy} (↑); others 0"


def encoded_scatter(mu: np.ndarray, labels: np.ndarray | None, dx: int, dy: int) -> go.Figure:
    """The test set's posterior means in dimensions (dx, dy), coloured by label; each point carries its index
    (customdata) so a click can load that image's code."""
    labels = np.zeros(len(mu), int) if labels is None else np.asarray(labels)
    fig = go.Figure(go.Scattergl(
        x=mu[:, dx], y=mu[:, dy], mode="markers",
        marker={"color": labels, "colorscale": "Turbo", "size": 6, "showscale": True, "colorbar": {"title": "label"}},
        customdata=np.arange(len(mu)), text=[str(v) for v in labels],
        hovertemplate="test #%{customdata}, label %{text}<extra></extra>"))
    return _layout(fig, "encoded test set (posterior means): click a point", height=420, dragmode="pan",
                   xaxis_title=f"z{dx}", yaxis_title=f"z{dy}", margin={"l": 10, "r": 10, "t": 30, "b": 10})


def elbo_curves(rows: list[dict]) -> go.Figure:
    """ELBO, reconstruction and KL per epoch from a run's metrics rows (or a card's history): train.quick_eval's
    one-sample estimates, not the sidebar's full-test-split numbers."""
    from playground.vae.train import QUICK_EVAL

    fig = go.Figure()
    ep = [r["epoch"] for r in rows]
    for key, name in CURVES:
        fig.add_scatter(x=ep, y=[r.get(key) for r in rows], name=name, mode="lines")
    return _layout(fig, f"ELBO terms during training (one sample, the first {QUICK_EVAL} test images)",
                   xaxis_title="epoch", yaxis_title="nats")


def kl_bars(kl) -> go.Figure:
    """Average KL per latent dimension; dimensions above metrics.ACTIVE_KL (active units) in colour."""
    kl = np.asarray(kl, dtype=float)
    fig = go.Figure(go.Bar(x=[f"z{i}" for i in range(len(kl))], y=kl,
                           marker_color=[ACTIVE if v > ACTIVE_KL else INACTIVE for v in kl]))
    return _layout(fig, f"KL per dimension (active: {int((kl > ACTIVE_KL).sum())} of {len(kl)})", yaxis_title="nats")


def kl_comparison(kls: dict[str, list[float]]) -> go.Figure:
    """KL per dimension of several models side by side (a β-VAE switches more dimensions off)."""
    fig = go.Figure()
    for name, kl in kls.items():
        kl = np.asarray(kl, dtype=float)
        fig.add_bar(x=[f"z{i}" for i in range(len(kl))], y=kl,
                    name=f"{name} (active {int((kl > ACTIVE_KL).sum())} of {len(kl)})")
    return _layout(fig, "KL per dimension", barmode="group", yaxis_title="nats",
                   legend={"orientation": "h", "y": -0.2})


def _fmt(v) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def metrics_table(met: dict) -> dict[str, list[str]]:
    """{"metric": names, "value": formatted values} for the metrics a checkpoint or card holds."""
    names = dict(METRICS, test_iwae=f"IWAE (K={met.get('iwae_k')})")
    keys = [k for k, _ in METRICS if k in met]
    return {"metric": [names[k] for k in keys], "value": [_fmt(met[k]) for k in keys]}


def model_summary(cfg, latent: int, conditional: bool) -> str:
    """One line describing a model for the sidebar."""
    return (f"{cfg.dataset}, {cfg.arch}, {latent} latents, β = {cfg.kl_weight:g}, {cfg.decoder} decoder"
            + (", conditional" if conditional else ""))


def posterior_table(mean, std):
    """The posterior of one image as a two-row table (mean, std) over z0, z1, ... (a pandas DataFrame)."""
    import pandas as pd

    mean, std = np.asarray(mean), np.asarray(std)
    return pd.DataFrame({"mean": mean, "std": std}, index=[f"z{i}" for i in range(len(mean))]).T.round(3)
