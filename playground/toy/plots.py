"""Figure builders for the GAN lab: snapshot (numpy) -> Plotly figure spec (plain dicts, JSON-ready).

Pure functions, so they are unit-tested without a browser. Specs are built as dicts rather than through
plotly.graph_objects because they are rebuilt ten times a second; numbers are rounded to keep each frame
small. `uirevision` is fixed so the browser keeps the user's zoom across updates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from plotly.colors import get_colorscale

from playground.objectives import get_objective
from playground.plotly_arrays import pack_figure

REAL = "#1f9e89"      # teal: real data
FAKE = "#8e44ad"      # purple: generated samples
ARROW = "rgba(40,40,40,0.45)"   # translucent: one arrow per generated sample, the samples stay visible
D_LINE = "#e67e22"
DSTAR = "#2c3e50"
FONT = {"family": "system-ui, sans-serif", "size": 12}
# D over the plane: red where D calls points fake (low D), blue where it calls them real (high D). plotly.py's
# RdBu as an explicit list, because the name "RdBu" runs blue to red in plotly.js (the page) and red to blue in
# plotly.py (the exporter).
D_COLORSCALE = [[round(stop, 6), colour] for stop, colour in get_colorscale("RdBu")]
LOG_TICKS = [0.001, 0.01, 0.1, 1, 10, 100, 1000]


def _f32(a: np.ndarray) -> np.ndarray:
    """A float32 array (what the browser draws; gaps as NaN); `live_frame` packs it as base64."""
    return np.asarray(a, dtype=np.float32)


def downsample(x: np.ndarray, *ys: np.ndarray, n: int = 400) -> tuple[np.ndarray, ...]:
    """Keep at most ~n points of long curves: block means, so noisy losses still show their trend."""
    if len(x) <= n:
        return (x, *ys)
    k = int(np.ceil(len(x) / n))
    m = len(x) // k * k
    out = [x[:m].reshape(-1, k).mean(axis=1)]
    for y in ys:
        out.append(y[:m].reshape(-1, k).mean(axis=1))
    return tuple(out)


def arrow_segments(points: np.ndarray, vectors: np.ndarray, scale: float) -> tuple[list, list]:
    """All arrows as one line trace: shaft plus a two-stroke head, separated by gaps (fast to draw)."""
    p = np.asarray(points, dtype=np.float64)
    if p.shape[1] == 1:
        p = np.concatenate([p, np.zeros_like(p)], axis=1)
        v = np.concatenate([vectors, np.zeros_like(vectors)], axis=1)
    else:
        v = np.asarray(vectors, dtype=np.float64)
    tip = p + v * scale
    d = tip - p
    length = np.linalg.norm(d, axis=1, keepdims=True)
    unit = np.divide(d, length, out=np.zeros_like(d), where=length > 0)
    head = np.minimum(length * 0.35, 0.06 * max(np.abs(p).max(), 1.0) * 0.3)
    c, s = np.cos(np.pi / 7), np.sin(np.pi / 7)
    rot_l = np.stack([unit[:, 0] * c - unit[:, 1] * s, unit[:, 0] * s + unit[:, 1] * c], axis=1)
    rot_r = np.stack([unit[:, 0] * c + unit[:, 1] * s, -unit[:, 0] * s + unit[:, 1] * c], axis=1)
    left = tip - rot_l * head
    right = tip - rot_r * head
    nan = np.full_like(p, np.nan)
    seq = np.stack([p, tip, left, tip, right, nan], axis=1).reshape(-1, 2)
    return _f32(seq[:, 0]), _f32(seq[:, 1])


def nice_ceil(v: float, steps: tuple = (1, 2, 5)) -> float:
    """The smallest of steps x 10^k at or above v (v > 0); 1.0 for anything else (NaN from a diverged net)."""
    if not (np.isfinite(v) and v > 0):
        return 1.0
    k = 10.0 ** np.floor(np.log10(v))
    return float(next(m * k for m in (*steps, 10) if m * k >= v * (1 - 1e-12)))


def step_range(step: int) -> list[float]:
    """x range of the curves: headroom up to a round number, so the axes change a few times per run,
    not every frame (the browser then only repaints the lines; see the live_figure component)."""
    return [0.0, nice_ceil(max(step, 50) * 1.05)]


def padded_range(values: np.ndarray, pad: float = 0.1) -> list[float] | None:
    """[lo, hi] around the finite values, widened by `pad` and snapped outward to a grid of nice steps."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not len(v):
        return None
    lo, hi = float(v.min()), float(v.max())
    span = max(hi - lo, 1e-3 * max(abs(lo), abs(hi)), 1e-6)
    unit = nice_ceil(span / 4)
    return [float(np.floor((lo - pad * span) / unit) * unit), float(np.ceil((hi + pad * span) / unit) * unit)]


def log_range(values: list) -> list[float]:
    """A log axis range (in decades) covering the positive values, whole decades only."""
    v = np.asarray([x for x in values if x is not None and x > 0 and np.isfinite(x)], dtype=np.float64)
    if not len(v):
        return [-3.0, 1.0]
    lo, hi = float(np.floor(np.log10(v.min()))), float(np.ceil(np.log10(v.max())))
    return [lo, max(hi, lo + 1.0)]


def arrow_scale(bounds: tuple, vectors: np.ndarray) -> float:
    """Longest arrow = 8% of the view's width; the factor is shown so sizes stay comparable."""
    width = bounds[1] - bounds[0]
    vmax = float(np.max(np.linalg.norm(vectors, axis=1))) if len(vectors) else 0.0
    return 0.08 * width / vmax if vmax > 0 else 0.0


def d_colorbar_title(loss: str) -> str:
    return get_objective(loss).d_label


def field_figure_2d(snap: dict[str, Any], show: dict[str, bool] | None = None, height: int = 520) -> dict:
    """The centre of attention: D's heatmap, real and generated samples, update arrows, G's warped grid."""
    show = {"heatmap": True, "real": True, "fake": True, "arrows": True, "manifold": False, **(show or {})}
    x0, x1, y0, y1 = snap["bounds"]
    traces: list[dict] = []
    sig = get_objective(snap["loss"]).sigmoid_output
    if show["heatmap"]:
        z = snap["d_grid"]
        hm = {"type": "heatmap", "x": _f32(snap["grid_x"]), "y": _f32(snap["grid_y"]), "z": _f32(z),
              "colorscale": D_COLORSCALE, "reversescale": False, "opacity": 0.75, "name": "D",
              "colorbar": {"title": {"text": d_colorbar_title(snap["loss"])}, "thickness": 12, "len": 0.8},
              "hovertemplate": "x=%{x:.2f}<br>y=%{y:.2f}<br>D=%{z:.3f}<extra></extra>"}
        if sig:
            hm.update(zmin=0.0, zmax=1.0)
        else:
            finite = np.abs(z[np.isfinite(z)])
            lim = nice_ceil(float(finite.max()) if finite.size else 1.0)   # round: the colorbar changes rarely
            hm.update(zmin=-lim, zmax=lim, zmid=0.0)
        traces.append(hm)
    if show["manifold"] and snap.get("manifold"):
        xs, ys = [], []
        for line in snap["manifold"]:
            xs += [line[:, 0], [np.nan]]
            ys += [line[:, 1], [np.nan]]
        traces.append({"type": "scattergl", "mode": "lines", "x": _f32(np.concatenate(xs)),
                       "y": _f32(np.concatenate(ys)),
                       "name": "G(noise grid)",
                       "line": {"color": "rgba(142,68,173,0.45)", "width": 1}, "hoverinfo": "skip"})
    if show["real"]:
        traces.append({"type": "scattergl", "mode": "markers", "x": _f32(snap["real"][:, 0]),
                       "y": _f32(snap["real"][:, 1]), "name": "real",
                       "marker": {"color": REAL, "size": 4, "opacity": 0.8}})
    if show["fake"]:
        traces.append({"type": "scattergl", "mode": "markers", "x": _f32(snap["fake"][:, 0]),
                       "y": _f32(snap["fake"][:, 1]), "name": "generated",
                       "marker": {"color": FAKE, "size": 4, "opacity": 0.9}})
    scale = 0.0
    if show["arrows"] and snap.get("arrows") is not None:
        pts, vec = snap["fake"], snap["arrows"]
        scale = arrow_scale(snap["bounds"], vec)
        ax, ay = arrow_segments(pts, vec, scale)
        traces.append({"type": "scattergl", "mode": "lines", "x": ax, "y": ay, "name": "G update (−∇ₓ loss)",
                       "line": {"color": ARROW, "width": 1}, "hoverinfo": "skip"})
    layout = {
        "height": height, "margin": {"l": 40, "r": 10, "t": 30, "b": 30}, "font": FONT,
        "template": "plotly_white", "uirevision": "field",
        "title": {"text": f"step {snap['step']}" + (f" · arrows ×{scale:.3g}" if scale else "")
                  + (f" · {snap['d_note']}" if snap.get("d_note") else ""),
                  "font": {"size": 13}, "x": 0.02},
        "xaxis": {"range": [x0, x1], "zeroline": False, "constrain": "domain"},
        "yaxis": {"range": [y0, y1], "zeroline": False, "scaleanchor": "x", "scaleratio": 1},
        "legend": {"orientation": "h", "y": -0.08, "x": 0},
        "showlegend": True,
    }
    return {"data": traces, "layout": layout}


def field_figure_1d(snap: dict[str, Any], show: dict[str, bool] | None = None, height: int = 520) -> dict:
    """1D: target density p, generator density q (KDE), D(x) and the optimal D*(x) = p/(p+q)."""
    show = {"arrows": True, **(show or {})}
    xs = snap["xs"]
    objective = get_objective(snap["loss"])
    sig, label = objective.sigmoid_output, objective.d_label
    # D* = p/(p+q) is the optimum of the sigmoid GANs (as a probability) and of LSGAN with labels a=0, b=1
    # (as the raw score); hinge and Wasserstein critics have no such pointwise optimum.
    has_d_star = objective.has_optimal_d and snap.get("d_star") is not None
    traces = [
        {"type": "scatter", "mode": "lines", "x": _f32(xs), "y": _f32(snap["p"]), "name": "target p(x)",
         "line": {"color": REAL, "width": 2}, "fill": "tozeroy", "fillcolor": "rgba(31,158,137,0.15)"},
        {"type": "scatter", "mode": "lines", "x": _f32(xs), "y": _f32(snap["q"]), "name": "generator q(x) (KDE)",
         "line": {"color": FAKE, "width": 2}},
        {"type": "scatter", "mode": "lines", "x": _f32(xs), "y": _f32(snap["d"]), "yaxis": "y2",
         "name": label, "line": {"color": D_LINE, "width": 2}},
    ]
    if has_d_star:
        # D* = p/(p+q) is noise where neither density has mass: leave a gap there instead of a wiggle.
        mass = snap["p"] + snap["q"]
        d_star = np.where(mass > 1e-3 * mass.max(), snap["d_star"], np.nan)
        traces.append({"type": "scatter", "mode": "lines", "x": _f32(xs), "y": _f32(d_star), "yaxis": "y2",
                       "name": snap.get("d_star_label") or "optimal D*(x) = p/(p+q)",
                       "line": {"color": DSTAR, "width": 1.5, "dash": "dash"}})
        if snap.get("d_star_smooth") is not None:       # one-sided label smoothing: D's optimum is α D*
            traces.append({"type": "scatter", "mode": "lines", "x": _f32(xs), "yaxis": "y2",
                           "name": snap.get("d_star_smooth_label") or "smoothed D* = αp/(p+q)",
                           "y": _f32(np.where(np.isfinite(d_star), snap["d_star_smooth"], np.nan)),
                           "line": {"color": DSTAR, "width": 1.5, "dash": "dot"}})
    fake = snap["fake"][:, 0]
    traces.append({"type": "scatter", "mode": "markers", "x": _f32(fake), "y": np.zeros(len(fake), dtype=np.float32),
                   "name": "generated", "marker": {"color": FAKE, "size": 5, "symbol": "line-ns-open"},
                   "hoverinfo": "skip"})
    scale = 0.0
    if show["arrows"] and snap.get("arrows") is not None:
        scale = arrow_scale(snap["bounds"], snap["arrows"])
        tip = fake + snap["arrows"][:, 0] * scale
        xs_a = np.stack([fake, tip, np.full_like(fake, np.nan)], axis=1).ravel()
        ys_a = np.tile([0.0, 0.0, np.nan], len(fake))
        traces.append({"type": "scatter", "mode": "lines", "x": _f32(xs_a), "y": _f32(ys_a), "name": "G update",
                       "line": {"color": ARROW, "width": 1}, "hoverinfo": "skip", "opacity": 0.5})
    # a round number a little above both densities: the axis changes now and then, not every frame
    ymax = nice_ceil(float(max(np.max(snap["p"]), np.max(snap["q"]), 1e-3)) * 1.1, (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8))
    y2 = {"overlaying": "y", "side": "right", "title": {"text": label},
          "showgrid": False}
    if sig:
        y2.update(range=[0, 1.05], tickvals=[0, 0.25, 0.5, 0.75, 1])
    else:   # round-number range with headroom: the live view repaints without re-laying out the axes
        lo, hi = padded_range(np.concatenate([snap["d"], [0.0, 1.0] if has_d_star else []])) or [-1.0, 1.0]
        y2["range"] = [lo, hi]
    layout = {
        "height": height, "margin": {"l": 50, "r": 50, "t": 30, "b": 30}, "font": FONT,
        "template": "plotly_white", "uirevision": "field1d",
        "title": {"text": f"step {snap['step']}" + (f" · arrows ×{scale:.3g}" if scale else "")
                  + (f" · {snap['d_star_note']}" if objective.has_optimal_d and snap.get("d_star_note") else ""),
                  "font": {"size": 13}, "x": 0.02},
        "xaxis": {"range": list(snap["bounds"]), "zeroline": False},
        "yaxis": {"title": {"text": "density"}, "range": [-0.02 * ymax, ymax]},
        "yaxis2": y2, "legend": {"orientation": "h", "y": -0.1, "x": 0},
    }
    return {"data": traces, "layout": layout}


def loss_figure(snap: dict[str, Any], height: int = 230) -> dict:
    steps, dl, gl = downsample(snap["loss_steps"], snap["d_loss"], snap["g_loss"])
    traces = [
        {"type": "scatter", "mode": "lines", "x": _f32(steps), "y": _f32(dl), "name": "D loss",
         "line": {"color": D_LINE, "width": 1.5}},
        {"type": "scatter", "mode": "lines", "x": _f32(steps), "y": _f32(gl), "name": "G loss",
         "line": {"color": FAKE, "width": 1.5}},
    ]
    layout = {"height": height, "margin": {"l": 45, "r": 10, "t": 28, "b": 30}, "font": FONT,
              "template": "plotly_white", "uirevision": "loss", "title": {"text": "losses", "font": {"size": 13},
                                                                          "x": 0.02},
              "xaxis": {"title": {"text": "step"}, "range": step_range(snap["step"])},
              "yaxis": {"range": padded_range(np.concatenate([dl, gl])) or [0.0, 1.0]},   # never null for Plotly
              "legend": {"orientation": "h", "y": 1.15, "x": 0.4}}
    return {"data": traces, "layout": layout}


METRIC_LABELS = {"modes_covered": "modes covered", "high_quality_frac": "high-quality fraction",
                 "mode_kl": "mode KL", "kl": "KL(p‖q)", "rkl": "KL(q‖p)", "js": "JS"}


def metrics_figure(snap: dict[str, Any], height: int = 300) -> dict:
    """Metric histories: divergences on the left axis; coverage fraction and HQ fraction on the right."""
    hist = snap["metrics"]
    steps = [m["step"] for m in hist]
    traces = []
    for key, color in (("kl", "#c0392b"), ("rkl", "#2980b9"), ("js", "#27ae60"), ("mode_kl", "#7f8c8d")):
        if hist and key in hist[-1]:
            ys = [m.get(key) for m in hist]
            traces.append({"type": "scatter", "mode": "lines", "x": steps, "y": [None if v is None else round(v, 4)
                                                                                for v in ys],
                           "name": METRIC_LABELS[key], "line": {"color": color, "width": 1.5}})
    if hist and "modes_covered" in hist[-1]:
        n = hist[-1]["n_modes"]
        traces.append({"type": "scatter", "mode": "lines", "x": steps, "yaxis": "y2",
                       "y": [round(m["modes_covered"] / n, 4) for m in hist], "name": "modes covered",
                       "line": {"color": "#16a085", "width": 2, "dash": "dot"}})
        traces.append({"type": "scatter", "mode": "lines", "x": steps, "yaxis": "y2",
                       "y": [round(m["high_quality_frac"], 4) for m in hist], "name": "high quality",
                       "line": {"color": "#8e44ad", "width": 2, "dash": "dot"}})
    layout = {"height": height, "margin": {"l": 45, "r": 40, "t": 28, "b": 30}, "font": FONT,
              "template": "plotly_white", "uirevision": "metrics",
              "title": {"text": "metrics (fresh samples) by step", "font": {"size": 13}, "x": 0.02},
              "xaxis": {"range": step_range(snap["step"])},   # no title: the legend sits where it would be
              # divergences span 1e-3 .. 1e3 nats (reverse KL is huge while q sits where p has no mass)
              "yaxis": {"title": {"text": "nats (log)"}, "type": "log", "tickvals": LOG_TICKS,
                        "range": log_range([m.get(k) for m in hist for k in ("kl", "rkl", "js", "mode_kl")]),
                        "ticktext": [f"{v:g}" for v in LOG_TICKS]},
              "yaxis2": {"overlaying": "y", "side": "right", "range": [0, 1.05], "showgrid": False,
                         "tickvals": [0, 0.5, 1], "title": {"text": "fraction"}},
              "legend": {"orientation": "h", "y": -0.28, "x": 0, "font": {"size": 10}}}
    return {"data": traces, "layout": layout}


def lab_figures(snap: dict[str, Any], show: dict[str, bool] | None = None, curves: bool = True
                ) -> dict[str, dict]:
    """All three figures; with `curves=False` only the field (the browser keeps the previous curves)."""
    main = field_figure_2d(snap, show) if snap["dim"] == 2 else field_figure_1d(snap, show)
    if not curves:
        return {"field": main}
    return {"field": main, "losses": loss_figure(snap), "metrics": metrics_figure(snap)}


def header_items(snap: dict[str, Any]) -> list[list[str]]:
    """The metric row above the live figure: [label, value, tooltip] triples (the browser adds steps/s)."""
    m = snap["metrics"][-1] if snap["metrics"] else {}
    items = [["step", f"{snap['step']:,}", "completed training iterations"]]
    if "modes_covered" in m:
        items += [["modes covered", f"{m['modes_covered']} / {m['n_modes']}",
                   "modes with at least one high-quality sample nearest to them"],
                  ["high quality", f"{m['high_quality_frac']:.1%}",
                   "samples within 3 standard deviations (Mahalanobis) of their nearest mode"],
                  ["mode KL", "–" if m["mode_kl"] is None else f"{m['mode_kl']:.3f}",
                   ("KL of the high-quality samples' mode histogram to the target's mode weights "
                    "(uniform on every 2D mixture, as in VEEGAN/PacGAN)")]]
    if "js" in m:
        items.append(["JS (nats)", f"{m['js']:.3f}", (f"KL(p‖q) = {m['kl']:.3f}, KL(q‖p) = {m['rkl']:.3f}, "
                                                       "estimated on a grid from fresh samples")])
    return items


def live_frame(snap: dict[str, Any], show: dict[str, bool] | None = None, curves: bool = True) -> dict[str, Any]:
    """Everything one frame of the live view sends to the browser: figures (long arrays packed as base64
    float32), metric row, play state."""
    stats = snap.get("stats") or {"playing": False, "error": None}
    figures = {name: pack_figure(fig) for name, fig in lab_figures(snap, show, curves).items()}
    return {"figures": figures, "header": header_items(snap), "step": snap["step"],
            "playing": bool(stats["playing"]), "error": stats["error"] or None}
