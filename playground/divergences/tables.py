"""The divergence lab's tables and CSV exports: snapshots -> rows (lists of dicts) and CSV text.

Pure functions over the snapshots of `snapshots`, so the page only hands their output to st.dataframe and
st.download_button, and the numbers in a table are the ones the figures show.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence

import numpy as np


def fmt_value(v: float | None) -> str:
    """A divergence for reading: 6 significant digits, ∞ for +inf, — for a missing or NaN value."""
    if v is None or not math.isfinite(v):
        return "∞" if v is not None and v > 0 else "—"
    return f"{v:.6g}"


def params_columns(params: dict) -> dict:
    """A fitted model's parameters as table columns: μ and σ, or a mixture's weights, means and stds."""
    if "mu" in params:       # 6 decimals: a mean of −8e-9 is 0 to the eye (+ 0.0: no "-0")
        return {"μ": round(params["mu"], 6) + 0.0, "σ": round(params["sigma"], 6)}
    return {k: ", ".join(f"{v:.3f}" for v in params[k]) for k in ("weights", "means", "stds")}


def fits_table(snap: dict) -> list[dict]:
    """One row per fitted divergence: parameters, value, number of local minima, converged starts."""
    return [{"divergence": f["label"], **params_columns(f["params"]), "value (nats)": f["value"],
             "local minima": len(f["minima"]), "converged starts": f"{f['converged']}/{f['restarts']}"}
            for f in snap["fits"]]


def measured_table(snap: dict) -> list[dict]:
    """Every divergence measured at each fit (rows: the fit, columns: the measure)."""
    return [{"fitted by": f["label"], **{k: fmt_value(v) for k, v in f["measured"].items()}} for f in snap["fits"]]


def minima_table(fit: dict) -> list[dict]:
    """The distinct local minima one divergence's restarts ended in, best first."""
    return [{**params_columns(m), "value": m["value"], "starts that ended here": m["count"]} for m in fit["minima"]]


def landscape_table(snap: dict) -> list[dict]:
    return [{"μ": m[0], "σ": m[1], "value": m[2], "starts": m[3]} for m in snap["minima"]]


def fits_2d_table(snap: dict) -> list[dict]:
    """One row per 2D fit: mean, covariance entries, value, local minima."""
    return [{"divergence": f["label"], "mean": f"({f['mean'][0]:.3f}, {f['mean'][1]:.3f})",
             "Σ11": round(f["cov"][0][0], 6), "Σ12": round(f["cov"][0][1], 6) + 0.0,   # + 0.0: no "-0.0"
             "Σ22": round(f["cov"][1][1], 6), "value": f["value"], "local minima": f["n_minima"]}
            for f in snap["fits"]]


# ------------------------------------------------------------------------------------------------------ CSV
def curves_csv(columns: dict[str, Sequence[float]]) -> str:
    """Columns of equal length as CSV text (inf written as inf, NaN as empty)."""
    names = list(columns)
    arrays = [np.asarray(columns[n], dtype=np.float64) for n in names]
    n = len(arrays[0]) if arrays else 0
    if any(len(a) != n for a in arrays):
        raise ValueError("columns must have equal lengths")
    buf = io.StringIO()
    buf.write(",".join(names) + "\n")
    for i in range(n):
        buf.write(",".join("" if math.isnan(a[i]) else repr(float(a[i])) for a in arrays) + "\n")
    return buf.getvalue()


def rows_csv(rows: list[dict]) -> str:
    """Table rows (same keys) as CSV text."""
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return buf.getvalue()


def fits_csv(snap: dict) -> str:
    return curves_csv({"x": snap["x"], "p": snap["p"], **{f"q_{f['name']}": f["q"] for f in snap["fits"]}})


def landscape_csv(snap: dict) -> str:
    mu, sigma = np.meshgrid(snap["mus"], snap["sigmas"])
    return curves_csv({"mu": mu.ravel(), "sigma": sigma.ravel(), "value": np.asarray(snap["values"]).ravel()})


def alpha_csv(snap: dict) -> str:
    return curves_csv({k: snap["sweep"][k] for k in ("alpha", "mu", "sigma", "value")})


def gan_csv(snap: dict) -> str:
    return curves_csv({k: snap[k] for k in ("x", "p", "q", "d_star")})


def saturation_csv(snap: dict) -> str:
    return curves_csv({k: snap["curves"][k] for k in ("logit", "D", "minimax_loss", "minimax_grad",
                                                      "nonsaturating_loss", "nonsaturating_grad")})
