"""Figure builders for the games page: numpy results -> Plotly figure specs (plain dicts, JSON-ready).

Pure functions, unit-tested without a browser. Arrays become lists with NaN/∞ as None (a gap in the line).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from playground.games.bilinear import GameConfig, field_label

FONT = {"family": "system-ui, sans-serif", "size": 12}
PATH = "#8e44ad"
AVERAGE = "#16a085"
FIELD = "rgba(60,60,60,0.35)"
COLORS = {"js": "#27ae60", "kl": "#c0392b", "rkl": "#2980b9", "w1": "#e67e22", "minimax": "#c0392b",
          "nonsaturating": "#2980b9", "critic": "#e67e22"}
LABELS = {"js": "JS(P, Q)", "kl": "KL(P‖Q)", "rkl": "KL(Q‖P)", "w1": "W1(P, Q)", "minimax": "minimax log(1 − D)",
          "nonsaturating": "non-saturating −log D", "critic": "Lipschitz critic −f"}
MAX_FRAMES = 40


def _list(a: Any, digits: int = 5) -> list:
    """Rounded floats with NaN and ±∞ as None."""
    a = np.asarray(a, dtype=np.float64)
    return [None if not np.isfinite(v) else round(float(v), digits) for v in a.ravel()]


def _layout(**kw: Any) -> dict:
    return {"font": FONT, "template": "plotly_white", "margin": {"l": 50, "r": 20, "t": 40, "b": 40}, **kw}


def axis_names(game: str) -> tuple[str, str]:
    return ("x (minimising player)", "y (maximising player)") if game == "bilinear" else \
        ("θ (generator's point)", "ψ (discriminator's slope)")


def view_extent(path: np.ndarray, cap: float = 6.0) -> float:
    """Half-width of the square view: the path's reach (at least 1.5), at most `cap`."""
    finite = np.abs(path[np.isfinite(path).all(axis=1)])
    return float(min(max(1.5, 1.15 * finite.max() if finite.size else 1.5), cap))


def field_arrows(grid: dict[str, np.ndarray], extent: float) -> tuple[list, list]:
    """The field as one line trace: a segment per grid point in the field's direction, its length growing
    with the field's strength (up to 80% of the grid spacing), NaN-separated."""
    xx, yy = np.meshgrid(grid["x"], grid["y"])
    u, v = grid["u"], grid["v"]
    mag = np.hypot(u, v)
    spacing = 2 * extent / max(len(grid["x"]) - 1, 1)
    scale = 0.8 * spacing * np.sqrt(mag / mag.max()) if mag.max() > 0 else np.zeros_like(mag)
    with np.errstate(invalid="ignore", divide="ignore"):
        dx, dy = np.where(mag > 0, u / mag * scale, 0.0), np.where(mag > 0, v / mag * scale, 0.0)
    nan = np.full_like(xx, np.nan)
    xs = np.stack([xx, xx + dx, nan], axis=-1).ravel()
    ys = np.stack([yy, yy + dy, nan], axis=-1).ravel()
    return _list(xs, 4), _list(ys, 4)


def game_figure(cfg: GameConfig, result: dict[str, np.ndarray], grid: dict[str, np.ndarray],
                height: int = 520) -> dict:
    """The parameter plane: the field, the players' path (with a play button that draws it step by step),
    the running average of the iterates and the equilibrium."""
    path, avg = result["path"], result["average"]
    extent = view_extent(path)
    fx, fy = field_arrows(grid, extent)
    xname, yname = axis_names(cfg.game)
    traces = [
        {"type": "scatter", "mode": "lines", "x": fx, "y": fy, "name": field_label(cfg),
         "line": {"color": FIELD, "width": 1}, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "markers", "x": [0.0], "y": [0.0], "name": "equilibrium",
         "marker": {"symbol": "star", "size": 14, "color": "#2c3e50"}},
        {"type": "scatter", "mode": "markers", "x": [cfg.x0], "y": [cfg.y0], "name": "start",
         "marker": {"size": 9, "color": PATH, "symbol": "circle-open", "line": {"width": 2}}},
        {"type": "scatter", "mode": "lines", "x": _list(avg[:, 0]), "y": _list(avg[:, 1]),
         "name": "average of the iterates", "line": {"color": AVERAGE, "width": 2, "dash": "dash"}},
        {"type": "scatter", "mode": "lines+markers", "x": _list(path[:, 0]), "y": _list(path[:, 1]),
         "name": f"{cfg.method} steps", "line": {"color": PATH, "width": 1.5}, "marker": {"size": 3}},
    ]
    n = len(path)
    ends = np.unique(np.linspace(1, n, min(MAX_FRAMES, n)).round().astype(int))
    frames = [{"name": str(e - 1), "traces": [4], "data": [{"x": _list(path[:e, 0]), "y": _list(path[:e, 1])}]}
              for e in ends]
    layout = _layout(
        height=height, title={"text": f"{'bilinear game x·y' if cfg.game == 'bilinear' else 'Dirac GAN'}, "
                                      f"η = {cfg.lr:g}", "x": 0.02, "font": {"size": 13}},
        xaxis={"title": {"text": xname}, "range": [-extent, extent], "zeroline": True, "constrain": "domain"},
        yaxis={"title": {"text": yname}, "range": [-extent, extent], "scaleanchor": "x", "scaleratio": 1},
        legend={"orientation": "h", "y": -0.15, "x": 0},
        updatemenus=[{"type": "buttons", "x": 1.0, "y": 1.12, "xanchor": "right", "showactive": False,
                      "buttons": [{"label": "▶ play the path", "method": "animate",
                                   "args": [None, {"frame": {"duration": 80, "redraw": False},
                                                   "fromcurrent": False, "transition": {"duration": 0}}]}]}])
    return {"data": traces, "layout": layout, "frames": frames}


def norm_figure(result: dict[str, np.ndarray], height: int = 260) -> dict:
    """|z_t| (distance to the equilibrium) of the iterates and of their running average, log scale."""
    t = np.arange(len(result["path"]))
    avg = np.linalg.norm(result["average"], axis=1)
    traces = [{"type": "scatter", "mode": "lines", "x": t.tolist(), "y": _list(result["norm"], 6),
               "name": "|z_t| iterates", "line": {"color": PATH}},
              {"type": "scatter", "mode": "lines", "x": t.tolist(), "y": _list(avg, 6),
               "name": "|average|", "line": {"color": AVERAGE, "dash": "dash"}}]
    return {"data": traces, "layout": _layout(
        height=height, title={"text": "distance to the equilibrium", "x": 0.02, "font": {"size": 13}},
        xaxis={"title": {"text": "step"}}, yaxis={"type": "log", "dtick": 1, "title": {"text": "|z|"}},
        legend={"orientation": "h", "y": 1.12, "x": 0.45})}


def divergence_figure(curves: dict[str, np.ndarray], theta: float | None = None, height: int = 340) -> dict:
    """JS, both KLs and W1 against the shift θ; an infinite KL is a gap, said in its legend entry."""
    th = curves["theta"]
    traces = []
    for key in ("js", "kl", "rkl", "w1"):
        y = curves[key]
        name = LABELS[key] + (" (= ∞ for θ ≠ 0)" if np.isinf(y).any() else "")
        traces.append({"type": "scatter", "mode": "lines", "x": _list(th), "y": _list(y), "name": name,
                       "line": {"color": COLORS[key], "width": 2, "dash": "dot" if key == "rkl" else "solid"}})
    finite = np.concatenate([curves[k][np.isfinite(curves[k])] for k in ("js", "kl", "rkl", "w1")])
    top = float(min(max(finite.max(), np.log(2)) * 1.05, 3 * max(np.abs(th).max(), np.log(2))))
    shapes = [] if theta is None else [{"type": "line", "x0": theta, "x1": theta, "y0": 0, "y1": top,
                                        "line": {"color": "#7f8c8d", "dash": "dash", "width": 1}}]
    return {"data": traces, "layout": _layout(
        height=height, title={"text": "divergences against the shift θ", "x": 0.02, "font": {"size": 13}},
        xaxis={"title": {"text": "θ"}}, yaxis={"title": {"text": "nats"}, "range": [0, top]}, shapes=shapes,
        annotations=[{"x": float(th.max()), "y": float(np.log(2)), "text": "log 2", "showarrow": False,
                      "yshift": 10, "xanchor": "right", "font": {"size": 11}}],
        legend={"orientation": "h", "y": -0.25, "x": 0})}


def critic_figure(view: dict[str, Any], height: int = 340) -> dict:
    """The 1D data: P and Q_θ, the logistic D (right axis, 0..1) and the Lipschitz critic (right axis)."""
    x = view["x"]
    crit = view["critic"]
    span = float(np.abs(crit).max()) or 1.0
    traces = [
        {"type": "scatter", "mode": "lines", "x": _list(x), "y": _list(view["p"]), "name": "real P",
         "line": {"color": "#1f9e89", "width": 2}, "fill": "tozeroy", "fillcolor": "rgba(31,158,137,0.15)"},
        {"type": "scatter", "mode": "lines", "x": _list(x), "y": _list(view["q"]), "name": "generated Q_θ",
         "line": {"color": PATH, "width": 2}, "fill": "tozeroy", "fillcolor": "rgba(142,68,173,0.12)"},
        {"type": "scatter", "mode": "lines", "x": _list(x), "y": _list(view["d"]), "yaxis": "y2",
         "name": f"sigmoid D (slope a = {view['a']:.2f})", "line": {"color": "#c0392b", "width": 2}},
        {"type": "scatter", "mode": "lines", "x": _list(x), "y": _list(0.5 + 0.5 * crit / span), "yaxis": "y2",
         "name": "1-Lipschitz critic f (rescaled)", "line": {"color": COLORS["critic"], "width": 2, "dash": "dash"}},
    ]
    return {"data": traces, "layout": _layout(
        height=height, title={"text": "a saturated sigmoid D beside a Lipschitz critic", "x": 0.02,
                              "font": {"size": 13}},
        xaxis={"title": {"text": "x"}}, yaxis={"title": {"text": "density"}},
        yaxis2={"overlaying": "y", "side": "right", "range": [-0.05, 1.05], "showgrid": False,
                "title": {"text": "D(x)"}},
        legend={"orientation": "h", "y": -0.25, "x": 0})}


def push_figure(view: dict[str, Any], height: int = 300) -> dict:
    """−d(G loss)/dx along x for each generator loss: what moves a generated sample sitting there; the title
    gives the average over Q_θ (the gradient the generator's shift θ actually gets)."""
    x = view["x"]
    traces = [{"type": "scatter", "mode": "lines", "x": _list(x), "y": _list(view["push"][k]), "name": LABELS[k],
               "line": {"color": COLORS[k], "width": 2}} for k in ("minimax", "nonsaturating", "critic")]
    at = view["push_at_fake"]
    text = ", ".join(f"{k.replace('nonsaturating', 'non-sat.')} {v:+.3g}" for k, v in at.items())
    return {"data": traces, "layout": _layout(
        height=height, title={"text": f"push on generated samples (average over Q_θ: {text})", "x": 0.02,
                              "font": {"size": 12}},
        xaxis={"title": {"text": "x"}}, yaxis={"title": {"text": "−d loss / dx"}},
        legend={"orientation": "h", "y": -0.3, "x": 0})}
