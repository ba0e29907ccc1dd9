"""Figure builders (pure: arrays -> JSON-ready Plotly specs), tables, CSV exports and explanations of the lab."""

import json
import math

import numpy as np
import pytest

from playground.divergences import explain, plots, snapshots, tables
from playground.divergences.densities import resolve_target_1d


def _json(fig):
    return json.loads(json.dumps(fig, allow_nan=False))


def test_fits_figure_animates_every_fit():
    snap = snapshots.fits_snapshot("lecture", ["kl", "rkl"], restarts=3)
    fig = _json(plots.fits_figure(snap["x"], snap["p"], snap["fits"], title="t"))
    assert [t["name"] for t in fig["data"]] == ["target p", "KL(p‖q) (forward)", "KL(q‖p) (reverse)"]
    assert fig["frames"] and all(fr["traces"] == [1, 2] for fr in fig["frames"])
    assert fig["layout"]["updatemenus"][0]["buttons"][0]["method"] == "animate"
    # The last frame shows the final fit.
    assert fig["frames"][-1]["data"][0]["y"] == fig["data"][1]["y"]


def test_landscape_figure_hides_infinite_values():
    mus, sigmas = np.linspace(-1, 1, 5), np.array([0.5, 1.0, 2.0])
    z = np.ones((3, 5))
    z[0, 0] = np.inf
    fig = _json(plots.landscape_figure(mus, sigmas, z, paths=[(np.array([0.0, 0.1]), np.array([1.0, 1.1]))],
                                       minima=[(0.1, 1.1, 0.2, 3), (0.5, 0.9, 0.4, 1)]))
    assert fig["data"][0]["type"] == "contour" and fig["data"][0]["z"][0][0] is None
    names = [t.get("name") for t in fig["data"]]
    assert "global best" in names and "local minima" in names and "paths" in names


def test_other_figures_are_json():
    a = snapshots.alpha_snapshot("symmetric", 0.3, restarts=2, sweep_points=5)
    _json(plots.alpha_fit_figure(a["x"], a["p"], a["current"]["q"], 0.3, a["landmarks"]))
    _json(plots.alpha_sweep_figure(a["sweep"], 0.3))
    d = snapshots.fit2d_snapshot("correlated", 0.8, "gaussian_diag", ["kl", "rkl"], restarts=1, n=41)
    fig = _json(plots.fits_2d_figure(d["xs"], d["ys"], d["density"], d["fits"]))
    assert sum(t.get("showlegend", True) and t["type"] == "scatter" for t in fig["data"]) == 2
    assert d["closed_form"]["rkl"] == pytest.approx([1 - 0.64] * 2)
    g = snapshots.gan_view("lecture", "N(0,2)")
    _json(plots.gan_figure(g))
    _json(plots.saturation_figure(g["curves"]))
    assert g["value"] == pytest.approx(g["identity"], abs=1e-10)


def test_ellipse_radius():
    x, y = plots.ellipse([1.0, 2.0], np.diag([4.0, 1.0]), nsig=1.0, n=9)
    r = ((x - 1) / 2) ** 2 + (y - 2) ** 2
    assert r == pytest.approx(np.ones(9))


def test_curves_csv():
    text = tables.curves_csv({"x": [0.0, 1.0], "v": [math.inf, float("nan")]})
    assert text.splitlines() == ["x,v", "0.0,inf", "1.0,"]
    with pytest.raises(ValueError):
        tables.curves_csv({"a": [1.0], "b": [1.0, 2.0]})
    assert tables.rows_csv([{"a": 1, "b": "x, y"}, {"a": 2, "b": "z"}]).splitlines() == ['a,b', '1,"x, y"', "2,z"]


def test_fit_tables_show_the_snapshots_numbers():
    snap = snapshots.fits_snapshot("lecture", ["kl", "rkl"], restarts=4)
    rows = tables.fits_table(snap)
    p = resolve_target_1d("lecture")
    assert [r["divergence"] for r in rows] == ["KL(p‖q) (forward)", "KL(q‖p) (reverse)"]
    assert rows[0]["μ"] == pytest.approx(p.mean(), abs=1e-6) and rows[0]["σ"] == pytest.approx(p.std(), abs=1e-6)
    assert rows[1]["local minima"] == len(snap["fits"][1]["minima"]) >= 2
    measured = tables.measured_table(snap)
    assert float(measured[0]["kl"]) <= float(measured[1]["kl"])          # KL is smallest at the KL fit
    assert float(measured[1]["rkl"]) <= float(measured[0]["rkl"])
    minima = tables.minima_table(snap["fits"][1])
    assert sum(m["starts that ended here"] for m in minima) == snap["fits"][1]["restarts"]   # every start, once
    assert [m["value"] for m in minima] == sorted(m["value"] for m in minima)
    assert snap["fits"][0]["formula"] == f"N({p.mean():.6g},{p.std():.6g})"     # the one formatter
    csv_lines = tables.fits_csv(snap).splitlines()
    assert csv_lines[0] == "x,p,q_kl,q_rkl" and len(csv_lines) == len(snap["x"]) + 1


def test_mixture_parameters_and_values_read_as_text():
    assert tables.params_columns({"mu": -8e-9, "sigma": 1.23456789}) == {"μ": 0.0, "σ": 1.234568}
    assert tables.params_columns({"weights": [0.25, 0.75], "means": [-1, 2], "stds": [0.5, 1]}) == {
        "weights": "0.250, 0.750", "means": "-1.000, 2.000", "stds": "0.500, 1.000"}
    assert [tables.fmt_value(v) for v in (math.inf, None, float("nan"), 0.1234567)] == ["∞", "—", "—", "0.123457"]


def test_the_fits_story_tells_wide_from_narrow_js():
    from scipy.stats import norm

    x = np.linspace(-6, 6, 601)
    two_modes, one_mode = 0.5 * norm.pdf(x, -2, 0.6) + 0.5 * norm.pdf(x, 2, 0.6), norm.pdf(x, 0, 2)

    def story(js_sigma, p=two_modes):
        fits = [{"name": "js", "params": {"mu": 0.0, "sigma": js_sigma}, "minima": [{}]},
                {"name": "rkl", "params": {"mu": 0.0, "sigma": 1.0}, "minima": [{}, {}]}]
        return explain.fits_story({"fits": fits, "std": 2.0, "mean": 0.0, "p": p})
    assert "unlike the textbook picture" in story(1.9) and "it picks a mode" in story(0.6)
    assert "2 distinct local minima (roughly one per mode)" in story(1.0)
    assert "Forward KL" not in story(1.0)
    for s in (0.6, 1.9):                       # one mode: neither covering nor picking is claimed
        assert "textbook" not in story(s, one_mode) and "picks a mode" not in story(s, one_mode)
        assert "single mode" in story(s, one_mode)
    assert explain.count_modes(two_modes) == 2 and explain.count_modes(one_mode) == 1


def test_the_2d_story_says_what_a_diagonal_gaussian_can_match():
    assert "diagonal of its covariance" in explain.fits_2d_story(True)
    assert "mean and covariance" in explain.fits_2d_story(False)
    story = explain.factorised_story({"kl": [1.0, 1.0], "rkl": [0.19, 0.19]})
    assert "too narrow along the ellipse's long axis" in story and "over-covers the diagonal" not in story
