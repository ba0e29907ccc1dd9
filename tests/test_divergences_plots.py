"""Figure builders (pure: arrays -> JSON-ready Plotly specs), CSV export and the page's config."""

import json
import math

import numpy as np
import pytest

from playground.configs import from_json, from_query, to_json, to_query
from playground.divergences import plots, snapshots
from playground.divergences.config import DivergenceConfig
from playground.errors import PlaygroundError


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
    text = plots.curves_csv({"x": [0.0, 1.0], "v": [math.inf, float("nan")]})
    assert text.splitlines() == ["x,v", "0.0,inf", "1.0,"]
    with pytest.raises(ValueError):
        plots.curves_csv({"a": [1.0], "b": [1.0, 2.0]})


def test_config_round_trips_and_validates():
    cfg = DivergenceConfig(target="0.5*N(-1,0.5)+0.5*U(0,2)", divergences="kl,alpha:0.3", alpha=-0.5,
                           view="landscape", param2d=0.5)
    cfg.validate()
    assert from_json(DivergenceConfig, to_json(cfg)) == cfg
    back, problems = from_query(DivergenceConfig, to_query(cfg))
    assert back == cfg and problems == []
    assert cfg.divergence_list == ["kl", "alpha:0.3"]
    for bad in ({"divergences": "kl,foo"}, {"target": "N(0,-1)"}, {"divergences2d": "w1"},
                {"param2d": 5.0, "target2d": "correlated"}, {"gan_q": "N(0"}):
        with pytest.raises(PlaygroundError):
            DivergenceConfig(**bad).validate()
    _, problems = from_query(DivergenceConfig, {"alpha": "zz", "restarts": "3"})
    assert problems and "alpha" in problems[0]
