"""Plotly figure specs (the plain dicts the live pages build) painted to RGB pictures, for GIF/MP4 export.

Only what the live views use: heatmaps, scatter markers and lines (NaN gaps split lines), on the figure's x and
y axes (and `yaxis2`), with the axis ranges of its layout and its title. The browser's canvas fast path draws
the same subset, so an exported animation looks like the page. No browser, no plotting library: Pillow only.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from playground.plotly_arrays import unpack

BACKGROUND = (255, 255, 255)
FRAME = (120, 120, 120)
TEXT = (30, 30, 30)
_RGB = re.compile(r"rgba?\(([^)]*)\)")


def parse_color(c: Any, default=(60, 60, 60, 1.0)) -> tuple[int, int, int, float]:
    """(r, g, b, alpha) of '#rrggbb', 'rgb(...)', 'rgba(...)' or a CSS name; `default` for anything else."""
    if not isinstance(c, str):
        return default
    m = _RGB.match(c.strip())
    if m:
        v = [float(x) for x in m.group(1).split(",")]
        return int(v[0]), int(v[1]), int(v[2]), (v[3] if len(v) > 3 else 1.0)
    try:
        from PIL import ImageColor

        r, g, b = ImageColor.getrgb(c)[:3]
        return r, g, b, 1.0
    except ValueError:
        return default


def colorscale_lut(scale: Any) -> np.ndarray:
    """256 RGB entries along a Plotly colorscale (a name or [[pos, color], ...])."""
    if isinstance(scale, str):
        from plotly.colors import get_colorscale

        scale = get_colorscale(scale)
    if not scale:
        scale = [[0.0, "#ffffff"], [1.0, "#000000"]]
    pos = np.array([float(p) for p, _ in scale])
    cols = np.array([parse_color(c)[:3] for _, c in scale], dtype=np.float64)
    t = np.linspace(0, 1, 256)
    return np.stack([np.interp(t, pos, cols[:, j]) for j in range(3)], axis=1).round().astype(np.uint8)


def _arr(v: Any) -> np.ndarray:
    a = unpack(v) if isinstance(v, dict) else v
    return np.asarray([np.nan if x is None else x for x in a] if isinstance(a, list) and a and
                      not isinstance(a[0], (list, np.ndarray)) else a, dtype=np.float64)


def _range(layout: dict, key: str, data: list[np.ndarray]) -> tuple[float, float]:
    r = (layout.get(key) or {}).get("range")
    if r and None not in r:
        return float(r[0]), float(r[1])
    v = np.concatenate([d.ravel() for d in data if d.size]) if data else np.array([0.0, 1.0])
    v = v[np.isfinite(v)]
    if not v.size:
        return 0.0, 1.0
    lo, hi = float(v.min()), float(v.max())
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def render_figure(fig: dict, width: int = 360, height: int = 360, title: bool = True) -> np.ndarray:
    """The figure as an (height, width, 3) uint8 picture."""
    from PIL import Image, ImageDraw

    layout = fig.get("layout") or {}
    traces = [t for t in fig.get("data") or [] if t.get("visible", True) is True]
    top = 20 if title else 6
    box = (6, top, width - 6, height - 6)                    # plot area: left, top, right, bottom
    x_of = {"x": [], "y": [], "y2": []}
    for t in traces:
        if t.get("type") in ("heatmap", "scatter", "scattergl"):
            x_of["x"].append(_arr(t.get("x", [])))
            x_of["y2" if t.get("yaxis") == "y2" else "y"].append(_arr(t.get("y", [])))
    xr = _range(layout, "xaxis", x_of["x"])
    yr = {"y": _range(layout, "yaxis", x_of["y"]), "y2": _range(layout, "yaxis2", x_of["y2"])}

    def px(x):
        return box[0] + (np.asarray(x) - xr[0]) / (xr[1] - xr[0]) * (box[2] - box[0])

    def py(y, axis="y"):
        lo, hi = yr[axis]
        return box[3] - (np.asarray(y) - lo) / (hi - lo) * (box[3] - box[1])

    canvas = Image.new("RGB", (width, height), BACKGROUND)
    for t in traces:
        axis = "y2" if t.get("yaxis") == "y2" else "y"
        if t.get("type") == "heatmap":
            _heatmap(canvas, t, px, lambda y: py(y, axis))
        elif t.get("type") in ("scatter", "scattergl"):
            layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
            draw = ImageDraw.Draw(layer)
            mode = t.get("mode", "markers")
            x, y = px(_arr(t.get("x", []))), py(_arr(t.get("y", [])), axis)
            if "lines" in mode:
                _lines(draw, t, x, y)
            if "markers" in mode:
                _markers(draw, t, x, y)
            canvas.paste(layer, (0, 0), layer)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, width - 1, box[1] - 1), fill=BACKGROUND)      # points outside the box are cut off
    draw.rectangle((0, box[3] + 1, width - 1, height - 1), fill=BACKGROUND)
    draw.rectangle((0, 0, box[0] - 1, height - 1), fill=BACKGROUND)
    draw.rectangle((box[2] + 1, 0, width - 1, height - 1), fill=BACKGROUND)
    draw.rectangle(box, outline=FRAME)
    text = ((layout.get("title") or {}).get("text") or "") if title else ""
    if text:
        draw.text((box[0], 4), re.sub(r"<[^>]+>", "", text)[:70], fill=TEXT)
    return np.asarray(canvas, dtype=np.uint8)


def _heatmap(canvas, t: dict, px, py) -> None:
    from PIL import Image

    z = _arr(t["z"])
    if z.ndim != 2 or not z.size:
        return
    x, y = _arr(t["x"]), _arr(t["y"])
    finite = z[np.isfinite(z)]
    zmin = t.get("zmin", float(finite.min()) if finite.size else 0.0)
    zmax = t.get("zmax", float(finite.max()) if finite.size else 1.0)
    lut = colorscale_lut(t.get("colorscale", "Viridis"))
    if t.get("reversescale"):
        lut = lut[::-1]
    k = np.clip((z - zmin) / ((zmax - zmin) or 1.0), 0, 1)
    k = np.where(np.isfinite(k), k, 0.0)
    rgb = lut[(k * 255).round().astype(int)][::-1]               # image rows go down, z rows go up in y
    dx = (x[-1] - x[0]) / (len(x) - 1) if len(x) > 1 else 1.0
    dy = (y[-1] - y[0]) / (len(y) - 1) if len(y) > 1 else 1.0
    x0, x1 = float(px(x[0] - dx / 2)), float(px(x[-1] + dx / 2))
    y0, y1 = float(py(y[-1] + dy / 2)), float(py(y[0] - dy / 2))
    w, h = max(1, int(round(x1 - x0))), max(1, int(round(y1 - y0)))
    im = Image.fromarray(np.ascontiguousarray(rgb)).resize((w, h), Image.NEAREST)
    alpha = float(t.get("opacity", 1.0))
    if alpha < 1:
        base = canvas.crop((int(round(x0)), int(round(y0)), int(round(x0)) + w, int(round(y0)) + h))
        im = Image.blend(base, im, alpha)
    canvas.paste(im, (int(round(x0)), int(round(y0))))


def _rgba(c: Any, opacity: float) -> tuple[int, int, int, int]:
    r, g, b, a = parse_color(c)
    return r, g, b, int(round(255 * a * opacity))


def _markers(draw, t: dict, x: np.ndarray, y: np.ndarray) -> None:
    m = t.get("marker") or {}
    color = _rgba(m.get("color", "#444444"), float(m.get("opacity", 1.0)) * float(t.get("opacity", 1.0)))
    r = max(1.0, float(m.get("size", 6)) / 2 * 0.8)
    ok = np.isfinite(x) & np.isfinite(y)
    for X, Y in zip(x[ok], y[ok]):
        draw.ellipse((X - r, Y - r, X + r, Y + r), fill=color)


def _lines(draw, t: dict, x: np.ndarray, y: np.ndarray) -> None:
    ln = t.get("line") or {}
    color = _rgba(ln.get("color", "#444444"), float(t.get("opacity", 1.0)))
    width = max(1, int(round(float(ln.get("width", 1)))))
    ok = np.isfinite(x) & np.isfinite(y)
    run: list[tuple[float, float]] = []
    for X, Y, good in zip(x, y, ok):
        if good:
            run.append((float(X), float(Y)))
        elif run:
            if len(run) > 1:
                draw.line(run, fill=color, width=width)
            run = []
    if len(run) > 1:
        draw.line(run, fill=color, width=width)


def tile(pictures: list[np.ndarray], cols: int | None = None, pad: int = 4) -> np.ndarray:
    """Pictures of one height side by side (in rows of `cols`), separated by `pad` white pixels."""
    if not pictures:
        raise ValueError("nothing to tile")
    cols = cols or len(pictures)
    h = max(p.shape[0] for p in pictures)
    w = max(p.shape[1] for p in pictures)
    rows = -(-len(pictures) // cols)
    out = np.full((rows * h + (rows + 1) * pad, cols * w + (cols + 1) * pad, 3), 255, dtype=np.uint8)
    for i, p in enumerate(pictures):
        r, c = divmod(i, cols)
        y0, x0 = pad + r * (h + pad), pad + c * (w + pad)
        out[y0:y0 + p.shape[0], x0:x0 + p.shape[1]] = p
    return out
