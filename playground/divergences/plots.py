"""Figure builders for the divergence lab: numpy arrays -> Plotly figure specs (plain dicts, JSON-ready).

Pure functions, unit-tested without a browser. Numbers are rounded to keep the page light; NaN and inf
become null, which Plotly draws as a gap. Every figure keeps Plotly's modebar, whose camera button saves a PNG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

TARGET = "#4a4a4a"
TARGET_FILL = "rgba(74,74,74,0.15)"
PALETTE = {
    "kl": "#1f77b4", "rkl": "#d62728", "js": "#2ca02c", "hellinger2": "#ff7f0e", "tv": "#8c564b",
    "pearson": "#9467bd", "neyman": "#e377c2", "jeffreys": "#7f7f7f", "w1": "#bcbd22",
}
EXTRA = ["#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173"]
PATH = "#ff4fa3"       # optimisation paths: visible on every viridis colour
FONT = {"family": "system-ui, sans-serif", "size": 12}
BASE_LAYOUT = {"template": "plotly_white", "font": FONT, "margin": {"l": 55, "r": 20, "t": 40, "b": 45},
               "legend": {"orientation": "h", "y": -0.18}}


DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]


def color(name: str, i: int = 0) -> str:
    return PALETTE.get(name, EXTRA[i % len(EXTRA)])


def _r(a, digits: int = 5) -> list:
    """Round to `digits` significant-ish decimals and convert to lists; NaN and ±inf become None."""
    a = np.asarray(a, dtype=np.float64)
    bad = ~np.isfinite(a)
    out = np.round(a, digits).astype(object)
    out[bad] = None
    return out.tolist()


def _layout(**kw) -> dict:
    lay = {**BASE_LAYOUT}
    for k, v in kw.items():
        lay[k] = v
    return lay


def _frames_index(n: int, max_frames: int) -> np.ndarray:
    if n <= max_frames:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max_frames)).astype(int))


def _play_controls(labels: Sequence[str], duration: int = 120) -> tuple[list, list]:
    """Plotly's own play/pause buttons and a step slider: the animation runs in the browser."""
    menus = [{"type": "buttons", "showactive": False, "x": 0.0, "y": -0.2, "xanchor": "left", "yanchor": "top",
              "direction": "left", "pad": {"t": 0, "r": 6},
              "buttons": [
                  {"label": "▶ play", "method": "animate",
                   "args": [None, {"frame": {"duration": duration, "redraw": False}, "fromcurrent": True,
                                   "transition": {"duration": 0}}]},
                  {"label": "❚❚ pause", "method": "animate",
                   "args": [[None], {"mode": "immediate", "frame": {"duration": 0, "redraw": False},
                                     "transition": {"duration": 0}}]}]}]
    sliders = [{"active": len(labels) - 1, "x": 0.2, "len": 0.8, "y": -0.14, "yanchor": "top",
                "currentvalue": {"prefix": "step ", "font": {"size": 11}}, "pad": {"t": 0, "b": 0},
                "steps": [{"label": lab, "method": "animate",
                           "args": [[lab], {"mode": "immediate", "frame": {"duration": 0, "redraw": False},
                                            "transition": {"duration": 0}}]} for lab in labels]}]
    return menus, sliders


# -------------------------------------------------------------------------------------------------- 1D fits
def fits_figure(x: np.ndarray, p: np.ndarray, fits: list[dict], title: str = "", max_frames: int = 40) -> dict:
    """Target (filled) and each fitted density; `fits` items: name, label, q (final density on x) and
    optionally path_q (the density along the optimisation), which becomes an animation with play controls."""
    data: list[dict[str, Any]] = [{"type": "scatter", "mode": "lines", "x": _r(x, 4), "y": _r(p), "name": "target p",
                                   "line": {"color": TARGET, "width": 2}, "fill": "tozeroy",
                                   "fillcolor": TARGET_FILL}]
    for i, f in enumerate(fits):
        data.append({"type": "scatter", "mode": "lines", "x": _r(x, 4), "y": _r(f["q"]), "name": f["label"],
                     "line": {"color": color(f["name"], i), "width": 2.5, "dash": DASHES[i % len(DASHES)]}})
    fig: dict[str, Any] = {"data": data, "layout": _layout(
        title={"text": title, "x": 0.01, "font": {"size": 14}}, xaxis={"title": {"text": "x"}, "zeroline": False},
        yaxis={"title": {"text": "density"}, "rangemode": "tozero"}, height=430)}
    paths = [f.get("path_q") for f in fits]
    if fits and all(pq is not None and len(pq) > 0 for pq in paths):
        n = max(len(pq) for pq in paths)
        idx = _frames_index(n, max_frames)
        frames = []
        for k in idx:
            frames.append({"name": str(int(k)), "traces": list(range(1, len(fits) + 1)),
                           "data": [{"y": _r(pq[min(k, len(pq) - 1)])} for pq in paths]})
        fig["frames"] = frames
        menus, sliders = _play_controls([fr["name"] for fr in frames])
        fig["layout"]["updatemenus"] = menus
        fig["layout"]["sliders"] = sliders
        fig["layout"]["margin"] = {**BASE_LAYOUT["margin"], "t": 75, "b": 110}
        fig["layout"]["legend"] = {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}
        fig["layout"]["title"]["y"] = 0.98
        fig["layout"]["height"] = 500
    return fig


def pointwise_figure(x: np.ndarray, terms: list[dict]) -> dict:
    """Where each divergence comes from: its integrand along x (items: name, label, y)."""
    data = [{"type": "scatter", "mode": "lines", "x": _r(x, 4), "y": _r(t["y"]), "name": t["label"],
             "line": {"color": color(t["name"], i), "width": 2}} for i, t in enumerate(terms)]
    return {"data": data, "layout": _layout(title={"text": "integrand of each divergence (its area is the value)",
                                                   "x": 0.01, "font": {"size": 13}},
                                            xaxis={"title": {"text": "x"}},
                                            yaxis={"title": {"text": "contribution per unit x"}, "type": "log"},
                                            height=330)}


# ------------------------------------------------------------------------------------------------ landscape
def _log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks between lo and hi (a log axis's default minor labels crowd)."""
    out = []
    for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10.0**e
            if lo <= v <= hi:
                out.append(float(f"{v:.3g}"))
    return out

def landscape_figure(mus: np.ndarray, sigmas: np.ndarray, values: np.ndarray, paths: list[tuple] = (),
                     minima: list[tuple] = (), title: str = "") -> dict:
    """log10 of the divergence over (μ, σ) as a filled contour; optimisation paths (one line per start, from
    an open circle) and the distinct local minima (crosses; the global best a star)."""
    z = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        lz = np.log10(np.maximum(z, 1e-12))
    lz[~np.isfinite(z)] = np.nan
    finite = lz[np.isfinite(lz)]
    zmax = float(np.quantile(finite, 0.95)) if finite.size else 1.0
    zmin = float(finite.min()) if finite.size else 0.0
    data: list[dict[str, Any]] = [{
        "type": "contour", "x": _r(mus, 4), "y": _r(sigmas, 4), "z": _r(np.minimum(lz, zmax), 4),
        "colorscale": "Viridis", "reversescale": True, "ncontours": 30, "zmin": zmin, "zmax": zmax,
        "contours": {"coloring": "heatmap", "showlines": True},
        "line": {"width": 0.5, "color": "rgba(255,255,255,0.4)"},
        "colorbar": {"title": {"text": "log₁₀ D"}, "thickness": 14}, "name": "log10 D",
        "hovertemplate": "μ=%{x:.3f}<br>σ=%{y:.3f}<br>log₁₀D=%{z:.3f}<extra></extra>"}]
    for i, (pm, ps) in enumerate(paths):
        data.append({"type": "scatter", "mode": "lines+markers", "x": _r(pm, 4), "y": _r(ps, 4),
                     "line": {"color": PATH, "width": 1.5},
                     "marker": {"size": [8] + [3] * (len(pm) - 1), "color": PATH,
                                "symbol": ["circle-open"] + ["circle"] * (len(pm) - 1)},
                     "name": "paths" if i == 0 else None, "showlegend": i == 0, "legendgroup": "paths",
                     "hoverinfo": "skip"})
    if minima:
        mm = np.asarray([m[:3] for m in minima], dtype=np.float64)
        data.append({"type": "scatter", "mode": "markers", "x": _r(mm[1:, 0], 4), "y": _r(mm[1:, 1], 4),
                     "marker": {"symbol": "x", "size": 12, "color": "#ff3b30", "line": {"width": 1, "color": "white"}},
                     "name": "local minima", "text": [f"D = {v:.4g}" for v in mm[1:, 2]],
                     "hovertemplate": "μ=%{x:.3f}<br>σ=%{y:.3f}<br>%{text}<extra>local minimum</extra>"})
        data.append({"type": "scatter", "mode": "markers", "x": _r(mm[:1, 0], 4), "y": _r(mm[:1, 1], 4),
                     "marker": {"symbol": "star", "size": 17, "color": "#ffd60a",
                                "line": {"width": 1, "color": "black"}},
                     "name": "global best", "text": [f"D = {mm[0, 2]:.4g}"],
                     "hovertemplate": "μ=%{x:.3f}<br>σ=%{y:.3f}<br>%{text}<extra>global best</extra>"})
    return {"data": data, "layout": _layout(
        title={"text": title, "x": 0.01, "font": {"size": 14}},
        xaxis={"title": {"text": "μ"}, "range": [float(mus[0]), float(mus[-1])]},
        yaxis={"title": {"text": "σ"}, "type": "log", "tickvals": _log_ticks(float(sigmas[0]), float(sigmas[-1])),
               "range": [math.log10(float(sigmas[0])), math.log10(float(sigmas[-1]))]},
        height=470)}


# --------------------------------------------------------------------------------------------------- α family
def alpha_fit_figure(x: np.ndarray, p: np.ndarray, q_alpha: np.ndarray, alpha: float,
                     landmarks: list[dict] = ()) -> dict:
    """The target, the fit at the slider's α (bold), and the fits at the landmark α values (thin, dotted)."""
    data: list[dict[str, Any]] = [{"type": "scatter", "mode": "lines", "x": _r(x, 4), "y": _r(p), "name": "target p",
                                   "line": {"color": TARGET, "width": 2}, "fill": "tozeroy",
                                   "fillcolor": TARGET_FILL}]
    for i, lm in enumerate(landmarks):
        data.append({"type": "scatter", "mode": "lines", "x": _r(x, 4), "y": _r(lm["q"]), "name": lm["label"],
                     "line": {"color": color(lm["name"], i), "width": 1.2, "dash": "dot"}, "opacity": 0.8})
    data.append({"type": "scatter", "mode": "lines", "x": _r(x, 4), "y": _r(q_alpha), "name": f"fit at α = {alpha:g}",
                 "line": {"color": "#111111", "width": 3}})
    return {"data": data, "layout": _layout(title={"text": f"single-Gaussian fit of the α-divergence, α = {alpha:g}",
                                                   "x": 0.01, "font": {"size": 14}},
                                            xaxis={"title": {"text": "x"}},
                                            yaxis={"title": {"text": "density"}, "rangemode": "tozero"}, height=400)}


def alpha_sweep_figure(sweep: dict, alpha: float) -> dict:
    """μ and σ of the best single-Gaussian fit as α moves, with the landmark α values and the slider's α."""
    a = np.asarray(sweep["alpha"])
    data = [{"type": "scatter", "mode": "lines+markers", "x": _r(a, 4), "y": _r(sweep["mu"], 4), "name": "μ",
             "line": {"color": "#1f77b4"}, "marker": {"size": 4}},
            {"type": "scatter", "mode": "lines+markers", "x": _r(a, 4), "y": _r(sweep["sigma"], 4), "name": "σ",
             "line": {"color": "#d62728"}, "marker": {"size": 4}, "yaxis": "y2"}]
    marks = {-1.0: "Neyman", 0.0: "reverse KL", 0.5: "Hellinger", 1.0: "KL", 2.0: "Pearson"}
    shapes = [{"type": "line", "x0": alpha, "x1": alpha, "yref": "paper", "y0": 0, "y1": 1,
               "line": {"color": "#111", "width": 2}}]
    annotations = []
    for v, name in marks.items():
        if a.min() <= v <= a.max():
            shapes.append({"type": "line", "x0": v, "x1": v, "yref": "paper", "y0": 0, "y1": 1,
                           "line": {"color": "#bbb", "width": 1, "dash": "dot"}})
            annotations.append({"x": v, "y": 1.02, "yref": "paper", "text": name, "showarrow": False,
                                "font": {"size": 10, "color": "#666"}, "yanchor": "bottom"})
    return {"data": data, "layout": _layout(
        title={"text": "best single-Gaussian fit along the α family", "x": 0.01, "y": 0.97, "font": {"size": 14}},
        xaxis={"title": {"text": "α"}}, yaxis={"title": {"text": "μ"}},
        yaxis2={"title": {"text": "σ"}, "overlaying": "y", "side": "right", "rangemode": "tozero",
                "tickmode": "auto", "showgrid": False},
        shapes=shapes, annotations=annotations, height=360, margin={"l": 55, "r": 55, "t": 60, "b": 45})}


# ---------------------------------------------------------------------------------------------------- 2D
def ellipse(mean, cov, nsig: float = 2.0, n: int = 90) -> tuple[np.ndarray, np.ndarray]:
    """Points of the nsig-standard-deviation ellipse of a 2D Gaussian."""
    t = np.linspace(0, 2 * np.pi, n)
    vals, vecs = np.linalg.eigh(np.asarray(cov, dtype=np.float64))
    circle = np.stack([np.cos(t), np.sin(t)])
    pts = vecs @ (np.sqrt(np.maximum(vals, 0))[:, None] * circle) * nsig
    return pts[0] + mean[0], pts[1] + mean[1]


def fits_2d_figure(xs: np.ndarray, ys: np.ndarray, density: np.ndarray, fits: list[dict], title: str = "") -> dict:
    """The target's density as contours, and each fitted Gaussian as its 1- and 2-std ellipses with a centre.
    `fits` items: name, label, mean, cov."""
    data: list[dict[str, Any]] = [{
        "type": "contour", "x": _r(xs, 4), "y": _r(ys, 4), "z": _r(density, 5), "colorscale": "Greys",
        "showscale": False, "ncontours": 14, "contours": {"coloring": "fill", "showlines": False},
        "name": "target p", "hovertemplate": "x=%{x:.2f}<br>y=%{y:.2f}<br>p=%{z:.3g}<extra>target</extra>"}]
    for i, f in enumerate(fits):
        c = color(f["name"], i)
        for nsig, dash in ((1.0, "solid"), (2.0, "dash")):
            ex, ey = ellipse(f["mean"], f["cov"], nsig)
            data.append({"type": "scatter", "mode": "lines", "x": _r(ex, 4), "y": _r(ey, 4),
                         "line": {"color": c, "width": 2.5 if nsig == 1 else 1.5, "dash": dash},
                         "name": f["label"], "legendgroup": f["name"], "showlegend": nsig == 1.0,
                         "hoverinfo": "skip"})
        data.append({"type": "scatter", "mode": "markers", "x": [float(f["mean"][0])], "y": [float(f["mean"][1])],
                     "marker": {"color": c, "size": 9, "symbol": "cross"}, "legendgroup": f["name"],
                     "showlegend": False, "name": f["label"]})
    return {"data": data, "layout": _layout(
        title={"text": title, "x": 0.01, "font": {"size": 14}},
        xaxis={"title": {"text": "x₁"}, "range": [float(xs[0]), float(xs[-1])]},
        yaxis={"title": {"text": "x₂"}, "scaleanchor": "x", "scaleratio": 1, "range": [float(ys[0]), float(ys[-1])]},
        height=600)}


# ---------------------------------------------------------------------------------------------------- GAN
def gan_figure(snap: dict) -> dict:
    """p and q (left axis) and the optimal discriminator D*(x) = p/(p+q) (right axis, 0..1)."""
    x = snap["x"]
    data = [{"type": "scatter", "mode": "lines", "x": _r(x, 4), "y": _r(snap["p"]), "name": "target p",
             "line": {"color": TARGET, "width": 2}, "fill": "tozeroy", "fillcolor": TARGET_FILL},
            {"type": "scatter", "mode": "lines", "x": _r(x, 4), "y": _r(snap["q"]), "name": "model q",
             "line": {"color": "#8e44ad", "width": 2.5}},
            {"type": "scatter", "mode": "lines", "x": _r(x, 4), "y": _r(snap["d_star"], 4), "name": "D*(x) = p/(p+q)",
             "line": {"color": "#e67e22", "width": 2.5}, "yaxis": "y2"}]
    shapes = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y2", "y0": 0.5, "y1": 0.5,
               "line": {"color": "#e67e22", "width": 1, "dash": "dot"}}]
    return {"data": data, "layout": _layout(
        title={"text": f"optimal discriminator; game value V(D*, q) = {snap['value']:.4f} nats", "x": 0.01,
               "font": {"size": 14}},
        xaxis={"title": {"text": "x"}}, yaxis={"title": {"text": "density"}, "rangemode": "tozero"},
        yaxis2={"title": {"text": "D*"}, "overlaying": "y", "side": "right", "range": [0, 1.02],
                "tickmode": "auto", "showgrid": False},
        shapes=shapes, height=400, margin={"l": 55, "r": 55, "t": 40, "b": 45})}


def saturation_figure(curves: dict) -> dict:
    """The generator's two losses (left) and their gradients with respect to the discriminator's logit (right)."""
    a = curves["logit"]
    mm, ns = "#c0392b", "#2980b9"
    data = [
        {"type": "scatter", "mode": "lines", "x": _r(a, 3), "y": _r(curves["minimax_loss"], 4),
         "name": "minimax  log(1 − D)", "line": {"color": mm, "width": 2.5}, "legendgroup": "mm"},
        {"type": "scatter", "mode": "lines", "x": _r(a, 3), "y": _r(curves["nonsaturating_loss"], 4),
         "name": "non-saturating  −log D", "line": {"color": ns, "width": 2.5}, "legendgroup": "ns"},
        {"type": "scatter", "mode": "lines", "x": _r(a, 3), "y": _r(curves["minimax_grad"], 4),
         "name": "minimax gradient", "line": {"color": mm, "width": 2.5, "dash": "dash"}, "xaxis": "x2",
         "yaxis": "y2", "legendgroup": "mm", "showlegend": False},
        {"type": "scatter", "mode": "lines", "x": _r(a, 3), "y": _r(curves["nonsaturating_grad"], 4),
         "name": "non-saturating gradient", "line": {"color": ns, "width": 2.5, "dash": "dash"}, "xaxis": "x2",
         "yaxis": "y2", "legendgroup": "ns", "showlegend": False}]
    return {"data": data, "layout": _layout(
        title={"text": "generator losses and their gradients vs the discriminator's logit", "x": 0.01,
               "font": {"size": 14}},
        xaxis={"title": {"text": "logit of D on a generated sample"}, "domain": [0, 0.42]},
        yaxis={"title": {"text": "loss (generator minimises)"}},
        xaxis2={"title": {"text": "logit of D on a generated sample"}, "domain": [0.6, 1], "anchor": "y2"},
        yaxis2={"title": {"text": "d loss / d logit"}, "anchor": "x2"},
        annotations=[{"x": -5.5, "y": -0.05, "xref": "x2", "yref": "y2", "text": "minimax: gradient ≈ 0<br>"
                      "where D rejects fakes", "showarrow": True, "ax": 30, "ay": -50, "font": {"size": 10}}],
        height=360)}
