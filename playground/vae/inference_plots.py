"""Figures of the VAE inference page as pure builders: engine results in, Plotly figures out (tested headless).

Heatmaps travel as float32 rounded to 4 decimals (a 100 x 100 grid is about 60 KB of JSON).
"""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.plotly_arrays import pack_figure, template_json

COLOURS = {"pca": "#7f7f7f", "ae": "#d62728", "vae": "#1f77b4",
           "reparam": "#1f77b4", "score": "#d62728", "baseline": "#ff7f0e"}
LABELS = {"pca": "PCA", "ae": "autoencoder", "vae": "VAE"}
LOG_FLOOR = 12.0     # log-density views show 12 nats below the peak
Q_COLOUR, OPTIMISED_COLOUR, BEST_COLOUR = "#ff4081", "#00e5ff", "#c6ff00"


TEMPLATE = "plotly_white"


def _layout(fig: go.Figure, title: str, height: int = 380, template: str | None = TEMPLATE, **kw) -> go.Figure:
    """Title, size and margins; `template=None` keeps Plotly's default for the caller to replace (a live
    figure sets TEMPLATE on its spec as ready JSON: validating the named template cost 8 ms a figure)."""
    fig.update_layout(**{"height": height, "title": title, "margin": {"l": 50, "r": 20, "t": 40, "b": 40}, **kw,
                         **({"template": template} if template else {})})
    return fig


def _compact(a: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(a, dtype=np.float32), 4)


def ellipse(mu, logvar, k: float = 1.0, points: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """The k-standard-deviation contour of N(mu, diag exp(logvar)) as (x, y) arrays (closed)."""
    t = np.linspace(0, 2 * np.pi, points)
    sd = np.exp(0.5 * np.asarray(logvar, dtype=np.float64))
    return mu[0] + k * sd[0] * np.cos(t), mu[1] + k * sd[1] * np.sin(t)


def add_q(fig: go.Figure, mu, logvar, name: str, colour: str, **where) -> None:
    """q's 1 and 2 sd ellipses and its mean."""
    for k, dash in ((1.0, "solid"), (2.0, "dot")):
        x, y = ellipse(np.asarray(mu), logvar, k)
        fig.add_scatter(x=_compact(x), y=_compact(y), mode="lines", line={"color": colour, "dash": dash, "width": 2},
                        name=f"{name} ({k:g} sd)", legendgroup=name, showlegend=k == 1.0, **where)
    fig.add_scatter(x=[float(mu[0])], y=[float(mu[1])], mode="markers", marker={"color": colour, "size": 8},
                    name=f"{name} mean", legendgroup=name, showlegend=False, **where)


def posterior_heatmap(pg, log_scale: bool = False, others: list[tuple] | None = None,
                      template: str | None = TEMPLATE) -> go.Figure:
    """p(z|x) on its grid (density, or log density down to LOG_FLOOR below the peak), the encoder's q on top,
    the posterior's mean as a cross; `others`: more (mu, logvar, name, colour) ellipses (e.g. optimised q)."""
    lp = pg.log_post
    z = np.maximum(lp, lp.max() - LOG_FLOOR) if log_scale else np.exp(lp)
    fig = go.Figure(go.Heatmap(x=_compact(pg.xs), y=_compact(pg.ys), z=_compact(z), colorscale="Viridis",
                               colorbar={"title": "log p(z|x)" if log_scale else "p(z|x)"},
                               hovertemplate="z0 %{x:.2f}, z1 %{y:.2f}: %{z:.4g}<extra></extra>"))
    add_q(fig, pg.mu_q, pg.logvar_q, "encoder q(z|x)", Q_COLOUR)
    for mu, logvar, name, colour in others or []:
        add_q(fig, mu, logvar, name, colour)
    m, _ = pg.moments()
    fig.add_scatter(x=[float(m[0])], y=[float(m[1])], mode="markers", name="posterior mean",
                    marker={"symbol": "x", "size": 10, "color": "#ff7f0e"})
    x0, x1, y0, y1 = view_box(pg, [(pg.mu_q, pg.logvar_q)] + [(o[0], o[1]) for o in others or []])
    return _layout(fig, "exact posterior p(z|x) ∝ p(x|z) p(z) and the encoder's q", height=480, template=template,
                   # constrain "range": Plotly.react (the live figure) kept an earlier image's x range under "domain"
                   xaxis={"title": "z0", "range": [x0, x1], "constrain": "range"},
                   yaxis={"title": "z1", "range": [y0, y1], "scaleanchor": "x", "constrain": "range"},
                   legend={"orientation": "h", "y": -0.15})


def live_specs(pg, rep: dict, log_scale: bool = False) -> dict[str, dict]:
    """The posterior view's two figures as live-figure specs (packed arrays, the template as ready JSON)."""
    out = {}
    for name, fig in (("heat", posterior_heatmap(pg, log_scale, template=None)),
                      ("iwae", iwae_curve(rep["iwae"], rep["log_px"], rep["elbo"], template=None))):
        spec = json.loads(fig.to_json())
        spec["layout"]["template"] = template_json(TEMPLATE)
        out[name] = pack_figure(spec)
    return out


def view_box(pg, gaussians, floor: float = LOG_FLOOR, sds: float = 2.5) -> tuple[float, float, float, float]:
    """The square to show: the cells within `floor` nats of the posterior's peak and each q's ±`sds` box,
    padded by a tenth, inside the grid's box (the grid itself reaches farther, for the quadrature)."""
    keep = pg.log_post >= pg.log_post.max() - floor
    xs, ys = pg.xs[keep.any(0)], pg.ys[keep.any(1)]
    lo, hi = np.array([xs.min(), ys.min()]), np.array([xs.max(), ys.max()])
    for mu, logvar in gaussians:
        sd = np.exp(0.5 * np.asarray(logvar))
        lo, hi = np.minimum(lo, np.asarray(mu) - sds * sd), np.maximum(hi, np.asarray(mu) + sds * sd)
    centre, half = (lo + hi) / 2, 0.55 * float((hi - lo).max())
    b = pg.box
    x0, x1 = max(b[0], centre[0] - half), min(b[1], centre[0] + half)
    y0, y1 = max(b[2], centre[1] - half), min(b[3], centre[1] + half)
    return float(x0), float(x1), float(y0), float(y1)


def iwae_curve(rows: list[dict], log_px: float, elbo: float, template: str | None = TEMPLATE) -> go.Figure:
    """IWAE_K against K (log axis) with ±2 standard errors, converging to log p(x) from the ELBO."""
    k = [r["k"] for r in rows]
    v = np.array([r["value"] for r in rows])
    se = np.nan_to_num(np.array([r["se"] for r in rows]))
    fig = go.Figure()
    fig.add_scatter(x=k, y=v, mode="lines+markers", name="IWAE bound (±2 se)",
                    error_y={"type": "data", "array": 2 * se, "visible": True}, line={"color": "#1f77b4"})
    for y, name, colour in ((log_px, "log p(x) (quadrature)", "#2ca02c"), (elbo, "ELBO of the encoder", "#d62728")):
        fig.add_scatter(x=[k[0], k[-1]], y=[y, y], mode="lines", name=name, line={"dash": "dash", "color": colour})
    return _layout(fig, "importance-weighted bound vs K", template=template,
                   xaxis={"title": "K samples", "type": "log"}, yaxis_title="nats",
                   legend={"orientation": "h", "y": -0.25})


def amortisation_curve(history: list[dict], log_px: float, best_elbo: float | None = None) -> go.Figure:
    """The exact ELBO of the per-example q as Adam climbs, between the encoder's start and log p(x)."""
    steps = [h["step"] for h in history]
    fig = go.Figure()
    fig.add_scatter(x=steps, y=[h["elbo"] for h in history], mode="lines+markers", name="ELBO of the optimised q")
    last = steps[-1] if steps else 1
    lines = [(log_px, "log p(x)", "#2ca02c"), (history[0]["elbo"], "encoder's ELBO", "#d62728")]
    if best_elbo is not None:
        lines.append((best_elbo, "best Gaussian", "#9467bd"))
    for y, name, colour in lines:
        fig.add_scatter(x=[0, last], y=[y, y], mode="lines", name=name, line={"dash": "dash", "color": colour})
    return _layout(fig, "per-example inference closes the amortisation gap", xaxis_title="Adam step",
                   yaxis_title="nats", legend={"orientation": "h", "y": -0.25})


def codes_scatter(codes: np.ndarray, labels, title: str, box=None) -> go.Figure:
    """An encoded test set in 2D, coloured by label (a colour bar says which colour is which class), with the
    decoded grid's box."""
    known = labels is not None
    labels = np.zeros(len(codes), int) if labels is None else np.asarray(labels)
    top = int(labels.max()) if len(labels) else 0
    marker = {"color": labels, "colorscale": "Turbo", "size": 5, "cmin": 0, "cmax": max(top, 1),
              "showscale": known and top > 0}
    if marker["showscale"]:
        marker["colorbar"] = {"title": {"text": "class"}, "tickvals": list(range(top + 1)), "thickness": 8,
                              "len": 0.9}
    fig = go.Figure(go.Scattergl(x=_compact(codes[:, 0]), y=_compact(codes[:, 1]), mode="markers",
                                 marker=marker, text=labels.astype(str),
                                 hovertemplate="label %{text}<extra></extra>", showlegend=False))
    if box is not None:
        x0, x1, y0, y1 = box
        fig.add_scatter(x=[x0, x1, x1, x0, x0], y=[y0, y0, y1, y1, y0], mode="lines", showlegend=False,
                        line={"color": "#888", "dash": "dot"}, hoverinfo="skip")
    return _layout(fig, title, height=340, xaxis_title="code 0", yaxis_title="code 1")


def sweep_curve(rows: list[dict]) -> go.Figure:
    """Test reconstruction error against latent size for PCA, the autoencoder and the VAE."""
    fig = go.Figure()
    sizes = [r["latent"] for r in rows]
    for key in ("pca", "ae", "vae"):
        fig.add_scatter(x=sizes, y=[r[key] for r in rows], mode="lines+markers", name=LABELS[key],
                        line={"color": COLOURS[key]})
    return _layout(fig, "reconstruction error vs latent size", xaxis={"title": "latent dimensions", "type": "log",
                                                                      "tickvals": sizes},
                   yaxis_title="test MSE per pixel")


def estimator_variance(rows: list[dict], names: dict[str, str]) -> go.Figure:
    """Variance of each gradient estimator (summed over q's 4 parameters) against the number of samples:
    measured over blocks (markers) and the i.i.d. prediction var₁ / S (lines)."""
    fig = go.Figure()
    s = [r["samples"] for r in rows]
    for key, name in names.items():
        fig.add_scatter(x=s, y=[r[key] for r in rows], mode="markers", name=f"{name} (measured)",
                        marker={"color": COLOURS[key], "size": 9}, legendgroup=key)
        fig.add_scatter(x=s, y=[r[key + "_iid"] for r in rows], mode="lines", name=f"{name}: var₁/S",
                        line={"color": COLOURS[key], "dash": "dot"}, legendgroup=key, showlegend=False)
    return _layout(fig, "gradient variance vs samples per estimate",
                   xaxis={"title": "samples S", "type": "log", "tickvals": s},
                   yaxis={"title": "variance (sum over ∂mu, ∂logvar)", "type": "log"})


def estimator_histograms(grads: dict[str, np.ndarray], exact: np.ndarray, component: int, names: dict,
                         label: str) -> go.Figure:
    """Per-sample gradients of one component under each estimator, with the exact value. The x range is the
    reparameterised estimates' middle 99%, widened four times around the exact value; each legend entry says
    how many of that estimator's draws fall outside it (the score function's spread is mostly off-scale)."""
    g0 = grads["reparam"][:, component]
    lo, hi = np.quantile(g0, [0.005, 0.995])
    c = float(exact[component])
    half = 4 * max(hi - c, c - lo, 1e-9)
    lo, hi = c - half, c + half
    fig = go.Figure()
    for key, name in names.items():
        g = grads[key][:, component]
        inside = (g >= lo) & (g <= hi)
        fig.add_histogram(x=_compact(g[inside]), name=f"{name} ({1 - inside.mean():.0%} off-scale)", opacity=0.55,
                          xbins={"start": lo, "end": hi, "size": (hi - lo) / 80}, histnorm="probability density",
                          marker_color=COLOURS[key])
    fig.add_vline(x=c, line_dash="dash", annotation_text="exact")
    return _layout(fig, f"one-sample estimates of {label}", barmode="overlay", xaxis={"title": label,
                                                                                        "range": [lo, hi]},
                   legend={"orientation": "h", "y": -0.25})


def aggregate_heatmaps(agg: dict, holes: dict) -> go.Figure:
    """The aggregate posterior q(z) beside the prior p(z), on the same cells; prior draws on both, those outside
    q's highest-density region marked."""
    fig = make_subplots(1, 2, subplot_titles=("aggregate posterior q(z) = mean of q(z|x)", "prior p(z) = N(0, I)"),
                        horizontal_spacing=0.08)
    top = float(max(np.exp(agg["log_q"]).max(), np.exp(agg["log_p"]).max()))
    for col, key in ((1, "log_q"), (2, "log_p")):
        fig.add_trace(go.Heatmap(x=_compact(agg["xs"]), y=_compact(agg["ys"]), z=_compact(np.exp(agg[key])),
                                 zmin=0, zmax=top, colorscale="Viridis", showscale=col == 2,
                                 hovertemplate="%{z:.3g}<extra></extra>"), 1, col)
        z, hole = holes["z"], holes["hole"]
        for mask, name, style in ((~hole, "prior draws in q's mass", {"color": "#dddddd", "size": 4}),
                                  (hole, "prior draws where q has no mass", {"color": "#ff3030", "size": 7,
                                                                             "symbol": "x"})):
            fig.add_scatter(x=_compact(z[mask, 0]), y=_compact(z[mask, 1]), mode="markers", marker=style, name=name,
                            showlegend=col == 1, legendgroup=name, row=1, col=col)
    fig.update_xaxes(range=[float(agg["xs"][0]), float(agg["xs"][-1])])
    fig.update_yaxes(range=[float(agg["ys"][0]), float(agg["ys"][-1])])
    return _layout(fig, "", height=440, legend={"orientation": "h", "y": -0.12})


def outlier_histogram(reference: np.ndarray, value: float | None, name: str = "this image") -> go.Figure:
    """The test set's ELBOs with one image's ELBO marked."""
    fig = go.Figure(go.Histogram(x=_compact(reference), nbinsx=50, name="test images", marker_color="#1f77b4"))
    if value is not None:
        fig.add_vline(x=float(value), line_color="#d62728", line_width=3, annotation_text=name)
    return _layout(fig, "ELBO of the test images", xaxis_title="ELBO (nats)", yaxis_title="images", showlegend=False)
