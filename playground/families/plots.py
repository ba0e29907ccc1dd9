"""Figure builders of the families lab: a LiveLab snapshot (numpy) -> Plotly figure specs (plain dicts), the
scoreboard as table rows, and a history frame as a picture (for GIF/MP4).

Pure functions, unit-tested without a browser. Each model gets two figures, `m{i}_main` (its native view on the
target's box) and `m{i}_aux` (what else its family shows: the warped noise grid, the conditional slice, the
encoder's map, forward noising, trajectories, losses). Axes keep fixed, rounded ranges so that the live
component repaints only the data; `uirevision` keeps the user's zoom.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from playground.plotly_arrays import pack_figure
from playground.toy.plots import D_COLORSCALE, arrow_scale, arrow_segments, nice_ceil, padded_range

REAL = "#1f9e89"                          # teal: the target's points and density
MODEL = "#8e44ad"                         # purple: the model's samples and density
ARROW = "rgba(40,40,40,0.5)"
FAINT_REAL = "rgba(31,158,137,0.35)"
FONT = {"family": "system-ui, sans-serif", "size": 11}
DENSITY_SCALE = [[0.0, "#ffffff"], [0.35, "#d6e6f4"], [0.7, "#6baed6"], [1.0, "#08306b"]]
D_SCALE = D_COLORSCALE                    # low D red (fake), high D blue (real), page and export alike
LOG_SPAN = 10.0                           # the density heatmap shows log q over its top 10 nats
SHORT = {"flow": "exact density", "autoregressive": "exact density", "vae": "decoded samples",
         "diffusion": "reverse sampling", "flow_matching": "velocity field", "gan": "discriminator D(x)"}
TITLES = {"flow": "normalizing flow", "autoregressive": "autoregressive", "vae": "VAE", "diffusion": "diffusion",
          "flow_matching": "flow matching", "gan": "GAN"}


def model_label(cfg) -> str:
    """A short name for a model and its headline settings, e.g. 'flow (spline, reverse KL)'."""
    m = cfg.model
    extra = {"flow": f"{cfg.flow_transform}, {cfg.flow_objective.replace('_kl', ' KL')}",
             "autoregressive": cfg.ar_order.replace("_", " "), "vae": f"latent {cfg.vae_latent_dim}",
             "diffusion": f"{cfg.diffusion_sampler.upper()}, {cfg.sample_steps} steps",
             "flow_matching": f"{cfg.fm_solver}, {cfg.sample_steps} steps" + (", OT" if cfg.fm_ot else ""),
             "gan": cfg.gan_loss.replace("_", " ")}[m]
    return f"{TITLES[m]} ({extra})"


def _layout(title: str, bounds: tuple | None, height: int, key: str, equal: bool = True, **extra) -> dict:
    lay = {"height": height, "margin": {"l": 36, "r": 8, "t": 28, "b": 26}, "font": FONT, "template": "plotly_white",
           "uirevision": key, "title": {"text": title, "font": {"size": 12}, "x": 0.02}, "showlegend": True,
           "legend": {"orientation": "h", "y": -0.1, "x": 0, "font": {"size": 10}}}
    if bounds is not None:
        lay["xaxis"] = {"range": [bounds[0], bounds[1]], "zeroline": False}
        lay["yaxis"] = {"range": [bounds[2], bounds[3]], "zeroline": False}
        if equal:                 # equal units; the plot area shrinks (never the ranges) to keep them
            lay["yaxis"].update(scaleanchor="x", scaleratio=1, constrain="domain")
            lay["xaxis"]["constrain"] = "domain"
    lay.update(extra)
    return lay


def _points(xy: np.ndarray, name: str, color: str, size: float = 3, opacity: float = 0.85) -> dict:
    xy = np.asarray(xy, dtype=np.float32)
    return {"type": "scattergl", "mode": "markers", "x": xy[:, 0], "y": xy[:, 1], "name": name,
            "marker": {"color": color, "size": size, "opacity": opacity}, "hoverinfo": "skip"}


def _lines(xs: list[np.ndarray], ys: list[np.ndarray], name: str, color: str, width: float = 1) -> dict:
    """Several polylines as one trace, separated by NaN gaps."""
    gap = np.array([np.nan], dtype=np.float32)
    x = np.concatenate([np.concatenate([np.asarray(a, np.float32), gap]) for a in xs]) if xs else gap
    y = np.concatenate([np.concatenate([np.asarray(a, np.float32), gap]) for a in ys]) if ys else gap
    return {"type": "scattergl", "mode": "lines", "x": x, "y": y, "name": name,
            "line": {"color": color, "width": width}, "hoverinfo": "skip"}


def _density_heatmap(d: dict, name: str) -> dict:
    """log q over its top LOG_SPAN nats (the scale's top rounded up, so the colour bar changes rarely)."""
    z = np.asarray(d["log_q"], dtype=np.float32)
    finite = z[np.isfinite(z)]
    top = float(np.ceil(finite.max())) if finite.size else 0.0
    return {"type": "heatmap", "x": d["x"], "y": d["y"], "z": np.clip(z, top - LOG_SPAN, None), "name": name,
            "colorscale": DENSITY_SCALE, "zmin": top - LOG_SPAN, "zmax": top, "showscale": False,
            "hovertemplate": "x=%{x:.2f}<br>y=%{y:.2f}<br>log q=%{z:.2f}<extra></extra>"}


def _arrows(pts: np.ndarray, vec: np.ndarray, bounds: tuple, name: str) -> tuple[dict, float]:
    scale = arrow_scale(bounds, vec) * 0.8
    ax, ay = arrow_segments(pts, vec, scale)
    return {"type": "scattergl", "mode": "lines", "x": ax, "y": ay, "name": name,
            "line": {"color": ARROW, "width": 1}, "hoverinfo": "skip"}, scale


def _curve_layout(title: str, height: int, key: str, x_title: str, y_title: str, xr=None, yr=None) -> dict:
    lay = _layout(title, None, height, key)
    lay["xaxis"] = {"title": {"text": x_title}, "zeroline": False, **({"range": xr} if xr else {})}
    lay["yaxis"] = {"title": {"text": y_title}, "zeroline": False, **({"range": yr} if yr else {})}
    lay["legend"] = {**lay["legend"], "y": -0.3}          # below the x axis's title
    lay["margin"] = {**lay["margin"], "l": 44}
    return lay


def loss_figure(m: dict, height: int, key: str) -> dict:
    """The training loss (the GAN: both players') by step."""
    if m["family"] == "gan":
        steps = np.arange(1, len(m["d_loss"]) + 1, dtype=np.float32) * max(1, m["step"] / max(1, len(m["d_loss"])))
        traces = [{"type": "scatter", "mode": "lines", "x": steps, "y": m["d_loss"], "name": "D loss",
                   "line": {"color": "#e67e22", "width": 1.5}},
                  {"type": "scatter", "mode": "lines", "x": steps, "y": m["g_loss"], "name": "G loss",
                   "line": {"color": MODEL, "width": 1.5}}]
        values = np.concatenate([m["d_loss"], m["g_loss"]])
    else:
        traces = [{"type": "scatter", "mode": "lines", "x": m["loss_steps"], "y": m["loss"], "name": "loss",
                   "line": {"color": MODEL, "width": 1.5}}]
        values = m["loss"]
    xr = [0.0, nice_ceil(max(m["step"], 50) * 1.05)]
    return {"data": traces, "layout": _curve_layout("training loss", height, key, "step", "loss", xr,
                                                     padded_range(values) or [0.0, 1.0])}


# ------------------------------------------------------------------ 2D views
def main_figure_2d(m: dict, snap: dict, height: int, key: str) -> dict:
    fam, b, real = m["family"], snap["bounds"], snap["real"]
    traces: list[dict] = []
    title = SHORT[fam]
    if fam in ("flow", "autoregressive"):
        traces.append(_density_heatmap(m["density"], "exact log q(x)"))
    if fam == "gan":
        z = m["d_grid"]
        hm = {"type": "heatmap", "x": m["d_x"], "y": m["d_y"], "z": z, "name": "D(x)", "colorscale": D_SCALE,
              "opacity": 0.75, "showscale": False}
        if m["sigmoid"]:
            hm.update(zmin=0.0, zmax=1.0)
        else:
            lim = nice_ceil(float(np.nanmax(np.abs(z))) if z.size else 1.0)
            hm.update(zmin=-lim, zmax=lim)
        traces += [hm, _points(real, "real", REAL)]
    if fam == "vae":
        traces += [_points(real, "data", FAINT_REAL), _points(m["decoded_means"], "decoder means m(z)", "#2c3e50", 2)]
    if fam in ("diffusion", "flow_matching"):
        t = m["t"]
        arrows, scale = _arrows(m["arrow_points"], m["arrows"], b, "score ∇log p_t" if fam == "diffusion"
                                else "velocity v(x, t)")
        pts = m["reverse"] if fam == "diffusion" else m["at_t"]
        traces += [_points(real, "data", FAINT_REAL), arrows, _points(pts, f"samples at t={t:.2f}", MODEL)]
        title += f" at t={t:.2f}"
    else:
        traces.append(_points(m["samples"], "samples", MODEL))
    if fam == "autoregressive":
        g = m["given"]
        line = ([g, g], [b[2], b[3]]) if m["first"] == "x1" else ([b[0], b[1]], [g, g])
        traces.append({"type": "scatter", "mode": "lines", "x": list(line[0]), "y": list(line[1]),
                       "name": f"slice {m['first']} = {g:.2f}",
                       "line": {"color": "#e67e22", "width": 2, "dash": "dash"}})
    return {"data": traces, "layout": _layout(f"{title} · step {m['step']:,}", b, height, key)}


def aux_figure_2d(m: dict, snap: dict, height: int, key: str) -> dict:
    fam, b, real = m["family"], snap["bounds"], snap["real"]
    if fam == "flow":
        g = m["grid"]
        traces = [_points(real, "data", FAINT_REAL), _lines([ln[:, 0] for ln in g], [ln[:, 1] for ln in g],
                                                            "noise grid", "rgba(142,68,173,0.6)")]
        title = f"noise grid after {m['layer']} of {m['n_layers']} layers"
        return {"data": traces, "layout": _layout(title, b, height, key)}
    if fam == "autoregressive":
        traces = [{"type": "scatter", "mode": "lines", "x": m["marginal_x"], "y": m["marginal"],
                   "name": f"q({m['first']})", "line": {"color": REAL, "width": 2}},
                  {"type": "scatter", "mode": "lines", "x": m["conditional_x"], "y": m["conditional"],
                   "name": f"q({m['second']} | {m['first']}={m['given']:.2f})", "line": {"color": MODEL, "width": 2}}]
        top = nice_ceil(float(max(np.max(m["marginal"]), np.max(m["conditional"]), 1e-3)) * 1.1,
                        (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8))
        lo, hi = min(b[0], b[2]), max(b[1], b[3])
        return {"data": traces, "layout": _curve_layout("marginal and conditional", height, key,
                                                         "value", "density", [lo, hi], [0.0, top])}
    if fam == "vae":
        lat = m["latent_means"]
        if m["latent_dim"] == 2:
            traces = [_lines([e[:, 0] for e in m.get("ellipses", [])], [e[:, 1] for e in m.get("ellipses", [])],
                             "posterior ±1 std", "rgba(142,68,173,0.35)"),
                      _points(lat, "posterior means μ(x)", MODEL, 4)]
            lay = _layout("encoder's map (latent space)", (-3.5, 3.5, -3.5, 3.5), height, key)
        else:
            traces = [_points(np.stack([lat[:, 0], m["data_for_latent"][:, 0]], 1), "μ(x) against x₁", MODEL, 4)]
            lay = _curve_layout("encoder's map (latent z by x₁)", height, key, "latent z", "x₁", [-3.5, 3.5],
                                [b[0], b[1]])
        return {"data": traces, "layout": lay}
    if fam == "diffusion":
        traces = [_points(real, "data", FAINT_REAL), _points(m["forward"], f"data noised to t={m['t']:.2f}", REAL)]
        return {"data": traces, "layout": _layout(f"forward noising at t={m['t']:.2f}", b, height, key)}
    if fam == "flow_matching":
        p = m["paths"]
        traces = [_points(real, "data", FAINT_REAL),
                  _lines([p[:, j, 0] for j in range(p.shape[1])], [p[:, j, 1] for j in range(p.shape[1])],
                         "trajectories noise → data", "rgba(142,68,173,0.45)"),
                  _points(m["samples"], "samples (t=1)", MODEL, 3)]
        return {"data": traces, "layout": _layout(f"ODE paths ({m['solver']}, {m['sample_steps']} steps)",
                                                  b, height, key)}
    return loss_figure(m, height, key)


# ------------------------------------------------------------------ 1D views
def main_figure_1d(m: dict, snap: dict, height: int, key: str) -> dict:
    xs, b = m["xs"], snap["bounds"]
    p = snap.get("target_p")
    traces = []
    if p is not None:
        traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": p, "name": "target p(x)",
                       "line": {"color": REAL, "width": 2}, "fill": "tozeroy", "fillcolor": "rgba(31,158,137,0.15)"})
    edges = np.linspace(b[0], b[1], 61)
    hist, _ = np.histogram(m["samples"][:, 0], bins=edges, density=True)
    hist = hist * (np.mean((m["samples"][:, 0] >= b[0]) & (m["samples"][:, 0] <= b[1])))
    traces.append({"type": "scatter", "mode": "lines", "x": np.repeat(edges, 2)[1:-1].astype(np.float32),
                   "y": np.repeat(hist, 2).astype(np.float32), "name": "samples (histogram)",
                   "line": {"color": "rgba(142,68,173,0.6)", "width": 1}})
    if "q" in m:
        traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": m["q"], "name": "model q(x)"
                       + (" (by quadrature)" if m["family"] == "vae" else " (exact)"),
                       "line": {"color": MODEL, "width": 2}})
    top = max([float(np.max(t["y"])) for t in traces if len(t["y"])] + [1e-3])
    lay = _curve_layout(f"density · step {m['step']:,}", height, key, "x", "density",
                        [b[0], b[1]], [0.0, nice_ceil(top * 1.1, (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8))])
    return {"data": traces, "layout": lay}


def aux_figure_1d(m: dict, snap: dict, height: int, key: str) -> dict:
    if "paths" not in m:
        return loss_figure(m, height, key)
    p, t = m["paths"], m["path_times"]
    trace = _lines([t] * p.shape[1], [p[:, j] for j in range(p.shape[1])], "x(t)", "rgba(142,68,173,0.5)")
    b = snap["bounds"]
    what = "reverse paths x(t), 1 → 0" if m["family"] == "diffusion" else "ODE paths x(t), 0 → 1"
    return {"data": [trace], "layout": _curve_layout(what, height, key, "t", "x", [0.0, 1.0], [b[0], b[1]])}


# ------------------------------------------------------------------ the page's frame
HEIGHTS = {1: (480, 480), 2: (430, 320), 3: (340, 270), 4: (310, 250)}      # by number of models: main, aux


def lab_figures(snap: dict, height: int | None = None, aux_height: int | None = None) -> dict[str, dict]:
    """Both figures of every model, keyed m{i}_main / m{i}_aux (fewer models: taller figures)."""
    main, aux = (main_figure_2d, aux_figure_2d) if snap["dim"] == 2 else (main_figure_1d, aux_figure_1d)
    h, ah = HEIGHTS[min(max(len(snap["models"]), 1), 4)]
    height, aux_height = height or h, aux_height or ah
    out = {}
    for i, m in enumerate(snap["models"]):
        out[f"m{i}_main"] = main(m, snap, height, f"m{i}_main")
        out[f"m{i}_aux"] = aux(m, snap, aux_height, f"m{i}_aux")
    return out


def figure_columns(n: int) -> list[list[str]]:
    """One column per model, its main view over its other view; a lone model's two views side by side."""
    if n == 1:
        return [["m0_main"], ["m0_aux"]]
    return [[f"m{i}_main", f"m{i}_aux"] for i in range(n)]


def frame_height(n: int) -> int:
    """The live component's height for n models (its figures and the metric row)."""
    h, ah = HEIGHTS[min(max(n, 1), 4)]
    return (h if n == 1 else h + ah) + 70


def fast_figures(snap: dict) -> list[str]:
    """The figures the live component may paint on its canvas (single-colour markers and lines, heatmaps)."""
    return [f"m{i}_{k}" for i in range(len(snap["models"])) for k in ("main", "aux")]


def header_items(snap: dict, labels: list[str]) -> list[list[str]]:
    """The metric row over the figures: the lockstep's step, and each model's latest loss."""
    items = [["step", f"{snap['step']:,} / {snap['steps']:,}",
              "lockstep ticks: every model made this many training iterations (a GAN's: d_steps + g_steps updates)"]]
    for k, (lab_, loss) in enumerate(zip(labels, snap["losses"]), start=1):
        items.append([f"{k} · {lab_.split(' (')[0]} loss", f"{loss:.3f}" if np.isfinite(loss) else "–", lab_])
    return items


def live_frame(snap: dict, labels: list[str]) -> dict[str, Any]:
    """One frame for the live component: packed figures, header, play state."""
    return {"figures": {k: pack_figure(v) for k, v in lab_figures(snap).items()},
            "header": header_items(snap, labels), "step": snap["step"], "playing": bool(snap["playing"]),
            "error": snap.get("error")}


def frame_picture(snap: dict, size: int = 300) -> np.ndarray:
    """The models' main views side by side as one RGB picture (a history frame for GIF/MP4)."""
    from playground.raster import render_figure, tile

    figs = lab_figures(snap)
    pics = []
    for i, m in enumerate(snap["models"]):
        fig = figs[f"m{i}_main"]
        title = f"{i + 1}. {TITLES[m['family']]}: {fig['layout']['title']['text']}"
        pics.append(render_figure({**fig, "layout": {**fig["layout"], "title": {"text": title}}}, size, size))
    return tile(pics)


# ------------------------------------------------------------------ the scoreboard
def _num(v, fmt: str = "{:.3f}") -> str:
    return "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else fmt.format(v)


def scoreboard_table(rows: list[dict | None], labels: list[str]) -> list[dict[str, str]]:
    """Display rows, one per model. Exact KL and the VAE's bound sit in separate columns, never mixed."""
    out = []
    for lab_, r in zip(labels, rows):
        if r is None:
            out.append({"model": lab_, "evaluated at step": "not yet"})
            continue
        cover = "–" if r.get("modes_covered") is None else f"{r['modes_covered']} / {r['n_modes']}"
        out.append({
            "model": lab_, "evaluated at step": f"{r['steps']:,}",
            "exact KL(p‖q) nats": "–" if r.get("kl") is None else f"{r['kl']:.3f} ± {r['kl_se']:.3f}"
                                  + (f" ({r['likelihood_note']})" if r.get("likelihood_note") else ""),
            "KL upper bound (VAE)": "–" if r.get("kl_bound") is None else f"≤ {r['kl_bound']:.3f}",
            "NLL": _num(r.get("nll")), "NLL bound (VAE)": _num(r.get("nll_bound")),
            "target entropy (NLL floor)": _num(r.get("target_entropy")),
            "grid KL": _num(r.get("grid_kl")), "grid reverse KL": _num(r.get("grid_rkl")),
            "grid JS": _num(r.get("grid_js")), "modes covered": cover,
            "high quality": _num(r.get("high_quality"), "{:.1%}"), "steps": f"{r['steps']:,}",
            "wall time s": _num(r.get("seconds"), "{:.1f}"), "steps/s": _num(r.get("steps_per_sec"), "{:.0f}"),
            "samples/s": _num(r.get("samples_per_sec"), "{:,.0f}"), "parameters": f"{r['params']:,}"})
    return out
