"""The divergence lab page through AppTest: every view renders, widgets drive the config, URL and errors."""

import dataclasses
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from playground.divergences import snapshots
from playground.divergences.config import DivergenceConfig
from playground.divergences.densities import PRESETS_1D

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "app/views/divergences.py")


def new_app(**query):
    at = AppTest.from_file(PAGE, default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def spec(at, i=0):
    return json.loads(at.get("plotly_chart")[i].proto.spec)


def trace_names(fig):
    return [t.get("name") for t in fig["data"]]


def test_default_page_fits_three_divergences():
    at = new_app()
    assert not at.error
    fig = spec(at)
    assert trace_names(fig) == ["target p", "KL(p‖q) (forward)", "KL(q‖p) (reverse)", "Jensen-Shannon"]
    assert fig["frames"]                                        # the optimisation animates
    assert len(at.dataframe) >= 1
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Curves (CSV)" in labels and "Config (JSON)" in labels
    assert any("camera" in c.value for c in at.caption)


def test_preset_divergences_and_url():
    at = new_app()
    at.selectbox(key="dv_preset_pick").set_value("symmetric").run()
    assert at.text_input(key="dv_target").value == PRESETS_1D["symmetric"][0]
    at.multiselect(key="dv_divergences").set_value(["kl", "tv", "alpha:0.3"]).run()
    assert not at.exception
    assert trace_names(spec(at))[1:] == ["KL(p‖q) (forward)", "total variation", "α-divergence, α = 0.3"]
    assert at.query_params["target"] == PRESETS_1D["symmetric"][0]
    assert at.query_params["divergences"] == "kl,tv,alpha:0.3"


def test_bad_formula_shows_an_error_and_keeps_the_last_fit():
    at = new_app()
    at.text_input(key="dv_target").set_value("0.5*N(0,-1)").run()
    assert not at.exception
    assert any("standard deviation must be positive" in e.value for e in at.error)
    assert len(at.get("plotly_chart")) == 1


def test_sliders_edit_the_target():
    at = new_app()
    at.slider(key="dv_a1").set_value(3.0).run()
    assert not at.exception
    assert "N(3," in at.text_input(key="dv_target").value
    next(b for b in at.button if b.proto.label == "add a part").click().run()
    assert not at.exception
    assert at.text_input(key="dv_target").value.count("N(") == 3


def test_url_seeds_the_landscape_view():
    at = new_app(view="landscape", landscape="js", target="symmetric")
    assert not at.error
    fig = spec(at)
    assert fig["data"][0]["type"] == "contour" and "Jensen-Shannon" in fig["layout"]["title"]["text"]
    assert "global best" in trace_names(fig)


def test_alpha_view_and_slider():
    at = new_app(view="alpha", alpha="-0.5")
    assert not at.error
    assert len(at.get("plotly_chart")) == 2
    at.slider(key="dv_alpha").set_value(1.0).run()
    assert not at.exception
    assert "fit at α = 1" in trace_names(spec(at))


def test_2d_and_gan_views():
    at = new_app(view="2d")
    assert not at.error and spec(at)["data"][0]["type"] == "contour"
    assert any("1/Λᵢᵢ" in m.value for m in at.markdown)          # the factorised case is explained
    at = new_app(view="gan")
    assert not at.error
    vals = [m.value for m in at.metric]
    assert vals[0] == vals[1]                                     # V(D*, q) = −log 4 + 2·JS
    assert len(at.get("plotly_chart")) == 2


def test_fit_button_when_live_is_off():
    at = new_app()
    at.toggle(key="dv_live").set_value(False).run()
    at.multiselect(key="dv_divergences").set_value(["pearson"]).run()
    assert any("press **Fit**" in i.value for i in at.info)
    assert len(spec(at)["data"]) == 4                             # still the old fits
    next(b for b in at.button if b.proto.label == "Fit").click().run()
    assert trace_names(spec(at))[1:] == ["Pearson χ²"]


def test_infinite_for_every_gaussian_is_a_warning_not_a_crash():
    at = new_app(target="uniform", divergences="kl,rkl")
    assert not at.exception
    assert any("infinite for every Gaussian" in w.value for w in at.warning)
    assert trace_names(spec(at))[1:] == ["KL(p‖q) (forward)"]


def test_list_widgets_are_the_config_fields():
    at = new_app(view="2d", divergences2d="kl")
    assert at.multiselect(key="dv_divergences2d").value == ["kl"]
    assert sum(t.get("showlegend", True) for t in spec(at)["data"] if t["type"] == "scatter") == 1
    at.multiselect(key="dv_divergences2d").set_value(["kl", "js", "alpha:0.5"]).run()
    assert not at.exception
    assert at.query_params["divergences2d"] == "kl,js,alpha:0.5"
    assert list(at.dataframe[0].value["divergence"]) == ["KL(p‖q) (forward)", "Jensen-Shannon",
                                                                  "α-divergence, α = 0.5"]
    at.multiselect(key="dv_divergences2d").set_value([]).run()
    assert any("Pick at least one" in i.value for i in at.info)


def test_restarts_widget_has_the_configs_bounds_and_default():
    meta = {f.name: f.metadata for f in dataclasses.fields(DivergenceConfig)}["restarts"]
    box = new_app().number_input(key="dv_restarts")
    assert (box.value, box.min, box.max) == (DivergenceConfig().restarts, meta["lo"], meta["hi"])


def test_gan_view_defaults_to_the_first_fit_written_by_the_one_formatter():
    at = new_app(view="gan", divergences="kl,rkl")
    snap = snapshots.fits_snapshot(PRESETS_1D["lecture"][0], ["kl", "rkl"], restarts=DivergenceConfig().restarts)
    assert any(f"q = `{snap['fits'][0]['formula']}`" in m.value for m in at.markdown)


def test_the_2d_view_fits_with_the_sidebars_restarts_as_fit_does(capsys):
    """The 2D tab and `python -m playground fit` on a 2D target start from the same number of restarts."""
    from playground.cli import main

    at = new_app(view="2d", divergences2d="rkl")
    table = at.dataframe[0].value
    assert main(["fit", "--target", "correlated", "--divergence", "rkl", "--family", "gaussian_diag", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    row = table[table["divergence"] == "KL(q‖p) (reverse)"].iloc[0]
    assert row["value"] == pytest.approx(out["value"], rel=1e-9)
    assert row["local minima"] == len(out["local_minima"]) and out["restarts"] == 12


def test_the_landscape_and_gan_link_views_are_the_clis(tmp_path, capsys):
    """`landscape` and `gan-link` print what the page's views show for the same target."""
    from playground.cli import main

    at = new_app(view="landscape")
    page = at.dataframe[0].value
    csv = tmp_path / "land.csv"
    assert main(["landscape", "--target", DivergenceConfig().target, "--csv", str(csv), "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [m["value"] for m in out["minima"]] == pytest.approx(list(page["value"]), rel=1e-9)
    assert len(csv.read_text().splitlines()) == 1 + out["grid"][0] * out["grid"][1]
    at = new_app(view="gan", gan_q="N(0,1)")
    assert main(["gan-link", "--p", DivergenceConfig().target, "--q", "N(0,1)", "--json"]) == 0
    gan = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["V(D*, q), integrated"] == f"{gan['value_optimal_d']:.6f}"
    assert metrics["JS(p‖q)"] == f"{gan['js']:.6f}"


def test_the_alpha_view_is_the_cli(tmp_path, capsys):
    """`alpha` prints the α view's fit (the page's metrics) and writes its sweep, as the page's download does."""
    from playground.cli import main

    at = new_app(view="alpha", alpha="0.3")
    metrics = {m.label: m.value for m in at.metric}
    csv = tmp_path / "sweep.csv"
    assert main(["alpha", "--target", DivergenceConfig().target, "--alpha", "0.3", "--csv", str(csv), "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert metrics["μ"] == f"{out['fit']['mu']:.4f}" and metrics["σ"] == f"{out['fit']['sigma']:.4f}"
    assert out["fit"]["alpha"] == 0.3 and [f["label"] for f in out["landmarks"]] == \
        [label for _, _, label in snapshots.LANDMARKS]
    rows = csv.read_text().splitlines()
    assert rows[0] == "alpha,mu,sigma,value" and len(rows) == 1 + len(out["sweep"])
    assert any(r["alpha"] == pytest.approx(0.3) for r in out["sweep"])       # the chosen α is on the sweep


def test_gan_link_writes_the_views_curves(tmp_path, capsys):
    import numpy as np

    from playground.cli import main

    d, sat = tmp_path / "d.csv", tmp_path / "sat.csv"
    assert main(["gan-link", "--p", "N(0,1)", "--q", "N(2,1)", "--csv", str(d), "--saturation-csv", str(sat),
                 "--json"]) == 0
    capsys.readouterr()
    x, p, q, dstar = np.loadtxt(d, delimiter=",", skiprows=1).T
    assert open(d).readline().strip() == "x,p,q,d_star"
    assert np.allclose(dstar, p / (p + q), atol=1e-6)                         # D* = p / (p + q), point by point
    logit, D, _, mm_grad, _, ns_grad = np.loadtxt(sat, delimiter=",", skiprows=1).T
    # d/dl log(1 − σ(l)) = −σ(l): flat where D rejects the samples; d/dl −log σ(l) = −(1 − σ(l)): steep there
    assert np.allclose(np.abs(mm_grad), D, atol=1e-6) and np.allclose(np.abs(ns_grad), 1 - D, atol=1e-6)
