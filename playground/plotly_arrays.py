"""Plotly figure specs with their long numeric arrays as base64 float32 ({"dtype", "bdata", "shape"}, the
encoding plotly.js itself reads), so a live frame is cheap to write in Python and to read in the browser:
no float formatting or parsing, one string per array. Gaps (None) travel as NaN."""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

import numpy as np

PACKED_KEYS = ("x", "y", "z")
MIN_LENGTH = 64          # shorter arrays stay plain JSON lists


def pack(values: Any) -> Any:
    """One array as {"dtype": "f4", "bdata": ..., "shape": "rows, cols"}; short lists stay lists and short
    numpy arrays become lists (NaN as None, JSON's gap)."""
    if not isinstance(values, (list, np.ndarray)):
        return values
    if len(values) < MIN_LENGTH and not any(isinstance(v, (list, tuple, np.ndarray)) for v in values):
        if isinstance(values, np.ndarray):
            return [None if v != v else v for v in values.astype(np.float64).tolist()]
        return values
    try:
        a = np.asarray(values, dtype=np.float32)          # None -> NaN
    except (TypeError, ValueError):                        # ragged or non-numeric: leave it to JSON
        return values
    if a.ndim not in (1, 2):
        return values
    out = {"dtype": "f4", "bdata": base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")}
    if a.ndim == 2:
        out["shape"] = f"{a.shape[0]}, {a.shape[1]}"
    return out


def pack_figure(fig: dict[str, Any]) -> dict[str, Any]:
    """A copy of `fig` whose traces carry their x, y, z arrays packed."""
    data = [{k: pack(v) if k in PACKED_KEYS else v for k, v in trace.items()} for trace in fig.get("data", [])]
    return {**fig, "data": data}


def unpack(value: Any) -> Any:
    """The inverse of `pack` (tests, and anything reading a frame back in Python)."""
    if not (isinstance(value, dict) and "bdata" in value):
        return value
    a = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]).newbyteorder("<"))
    if "shape" in value:
        a = a.reshape([int(n) for n in value["shape"].split(",")])
    return a.astype(np.float64)


@functools.lru_cache(maxsize=8)
def template_json(name: str) -> dict[str, Any]:
    """Plotly's named template as plain JSON, built once: set on a spec's layout it costs nothing per figure,
    where `template=name` on a Figure validates the whole template each time. Read it, do not change it."""
    import plotly.io as pio
    from plotly.utils import PlotlyJSONEncoder

    return json.loads(json.dumps(pio.templates[name].to_plotly_json(), cls=PlotlyJSONEncoder))
