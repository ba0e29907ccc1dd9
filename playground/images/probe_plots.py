"""Pure Plotly figure builders for the score probe page: score curves, nearest-distance histograms, and a grid
of samples one can click to pick."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.images.disturb import TITLES
from playground.pictures import grid_image

COLOURS = ("#636efa", "#00cc96", "#ef553b", "#ab63fa", "#ffa15a", "#19d3f3")


def score_curve_figure(curves: list[dict]) -> go.Figure:
    """FID (left) and IS (right) against disturbance strength, one line per disturbance; axis titles name the
    feature space (the dataset classifier, not Inception)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("FID vs training images (lower is better)",
                                                        "Inception-style score (higher is better)"))
    for i, c in enumerate(curves):
        name = TITLES.get(c["kind"], c["kind"])
        line = {"color": COLOURS[i % len(COLOURS)]}          # one colour per disturbance in both panels
        fig.add_trace(go.Scatter(x=c["strengths"], y=c["fid"], mode="lines+markers", name=name,
                                 legendgroup=name, line=line), 1, 1)
        fig.add_trace(go.Scatter(x=c["strengths"], y=c["is"], mode="lines+markers", name=name, legendgroup=name,
                                 showlegend=False, line=line,
                                 error_y={"type": "data", "array": c.get("is_std"), "visible": True}), 1, 2)
    feat = curves[0]["fid_features"] if curves else ""
    fig.update_xaxes(title_text="disturbance strength", range=[-0.03, 1.03])
    fig.update_yaxes(title_text=f"FID in {feat} features", row=1, col=1)
    fig.update_yaxes(title_text="IS in its softmax", row=1, col=2)
    fig.update_layout(template="plotly_white", height=380, margin={"l": 60, "r": 20, "t": 40, "b": 50})
    return fig


def distance_histogram_figure(sample_d, test_d, space: str, bins: int = 30) -> go.Figure:
    """Overlaid histograms (densities) of nearest-training-image distances: generated samples vs test images."""
    s, t = np.asarray(sample_d, float), np.asarray(test_d, float)
    hi = float(max(s.max(initial=0), t.max(initial=0))) or 1.0
    xb = {"start": 0.0, "end": hi * 1.0001, "size": hi / bins}
    fig = go.Figure([go.Histogram(x=s, xbins=xb, histnorm="probability density", name="samples -> train",
                                  opacity=0.6),
                     go.Histogram(x=t, xbins=xb, histnorm="probability density", name="test -> train",
                                  opacity=0.6)])
    fig.update_layout(barmode="overlay", template="plotly_white", height=300,
                      title=f"Distance to the nearest training image, in {space}",
                      xaxis_title="Euclidean distance", yaxis_title="density",
                      margin={"l": 60, "r": 20, "t": 40, "b": 50})
    return fig


def pick_grid_figure(images, nrow: int, picked: dict[str, list[int]] | None = None, cell: int = 48) -> go.Figure:
    """The samples as one picture, with a clickable marker on each (its point index is the sample's index) and
    each picked sample outlined with its group's letter."""
    imgs = np.asarray(images)
    n, _, h, w = imgs.shape
    pad = 1
    pic = grid_image(imgs, nrow=nrow, pad=pad)
    if pic.ndim == 2:
        pic = np.stack([pic] * 3, -1)
    elif pic.shape[-1] == 1:
        pic = np.repeat(pic, 3, -1)
    cols = nrow
    idx = np.arange(n)
    cx = pad + (idx % cols) * (w + pad) + (w - 1) / 2
    cy = pad + (idx // cols) * (h + pad) + (h - 1) / 2
    labels = [""] * n
    for g, members in (picked or {}).items():
        for i in members:
            if 0 <= i < n:
                labels[i] += g
    fig = go.Figure([go.Image(z=pic, hoverinfo="skip"),
                     go.Scatter(x=cx, y=cy, mode="markers+text", text=labels, textposition="top left",
                                textfont={"color": "#e4572e", "size": 14},
                                marker={"size": max(8, int(cell * 0.8)), "color": "rgba(0,0,0,0)",
                                        "line": {"width": [2 if lab else 0 for lab in labels],
                                                 "color": "#e4572e"}, "symbol": "square"},
                                customdata=idx, hovertemplate="sample %{customdata}<extra></extra>")])
    rows = (n + cols - 1) // cols
    fig.update_xaxes(visible=False, range=[-0.5, pic.shape[1] - 0.5])
    fig.update_yaxes(visible=False, range=[pic.shape[0] - 0.5, -0.5])
    fig.update_layout(width=cols * cell + 20, height=rows * cell + 20, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      showlegend=False, template="plotly_white", dragmode=False, clickmode="event+select")
    return fig
