"""A Plotly figure that lives in the browser and is updated in place (Plotly.react), never remounted.

Stock `st.plotly_chart` remounts on every data change in Streamlit 1.67 (its identity hashes the figure),
which flickers and drops zoom. This is a Components-v1 iframe with a stable key: each script or fragment
run sends new figure specs as arguments and the page's JS reacts them into the same Plotly divs.
Plotly.js is served straight from the installed plotly package (never downloaded, never copied): its folder
is registered as a second component, whose URL the iframe's page loads (`../NAME/plotly.min.js`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly
import streamlit.components.v1 as components

FRONTEND = Path(__file__).parent / "frontend"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data"     # holds plotly.min.js
PLOTLY_COMPONENT = "plotly_js"      # served at /component/<this module>.plotly_js/ (index.html loads it)


def live_figure(figures: dict[str, dict], columns: list[list[str]], *, key: str, height: int = 560,
                frame: int = 0, draw: bool = False, draw_points: list | None = None, draw_epoch: int = 0,
                widths: list[float] | None = None, header: list | None = None, step: int | None = None,
                playing: bool = False, error: str | None = None, feed: str | None = None,
                feed_min_gap_ms: int = 50, fast: list[str] | None = None) -> Any:
    """Show `figures` (name -> Plotly spec) in `columns` (lists of names stacked top to bottom).

    With `draw=True`, clicks on the first figure's plot area add points; the return value is then
    {"points": [[x, y], ...], "nonce": n, "epoch": draw_epoch} once the user has clicked, else None; a new
    `draw_epoch` replaces the browser's drawing with `draw_points`.

    `header` is a metric row ([label, value, tooltip] triples) drawn above the figures, with the training
    speed worked out in the browser from `step` while `playing`. With `feed` (a URL from feed.url_for) the
    browser pulls frames (`{"figures", "header", "step", "playing", "error"}`) from the server itself,
    at most one per `feed_min_gap_ms`, until a frame says it stopped playing; it then sets the value to
    {"event": "stopped", ...}, which reruns the page. Figures named in `fast` (fixed axes, heatmap and
    scatter traces only) are painted on a canvas over their last Plotly rendering while the feed plays,
    with a full Plotly render every few seconds and on pause.
    """
    components.declare_component(PLOTLY_COMPONENT, path=str(PLOTLY_JS))
    component = components.declare_component("live_figure", path=str(FRONTEND))
    return component(figures=figures, columns=columns, height=height, frame=frame, draw=draw,
                     draw_points=draw_points or [], draw_epoch=draw_epoch, widths=widths or [], header=header or [],
                     step=step, playing=playing, error=error, feed=feed, feed_min_gap_ms=feed_min_gap_ms,
                     fast=fast or [], key=key,
                     default=None)
