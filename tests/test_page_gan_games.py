"""The GAN games page through AppTest: both tabs draw, lessons load, controls and the URL drive the figures."""

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "app/views/gan_games.py")


def charts(at):
    """The page's Plotly figures in page order."""
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_page_draws_the_game_and_the_wasserstein_view():
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    figs = charts(at)
    assert len(figs) == 5
    plane = figs[0]
    assert plane["data"][-1]["name"] == "simultaneous steps" and len(plane["data"][-1]["x"]) == 201
    assert any("(1 + η²)|z_t|² exactly" in c.value for c in at.caption)     # the default: simultaneous on x·y
    assert "JS" in figs[2]["data"][0]["name"]


def test_lessons_and_controls_change_the_path_and_the_url():
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    at.selectbox(key="gg_preset").set_value("dirac_r1").run()
    assert at.session_state["gg_r1"] == 1.0 and at.session_state["gg_game"] == "dirac"
    path = charts(at)[0]["data"][-1]
    assert abs(path["x"][-1]) < 1e-3 and abs(path["y"][-1]) < 1e-3        # R1 converges
    assert at.query_params["game"] in ("dirac", ["dirac"])
    assert "(1 + η²)" not in " ".join(c.value for c in at.caption)      # the Dirac GAN has no such law
    assert not any("differ from this lesson" in c.value for c in at.caption)
    at.selectbox(key="gg_method").set_value("alternating").run()
    assert charts(at)[0]["data"][-1]["name"] == "alternating steps"
    assert any("differ from this lesson's in method" in c.value for c in at.caption)   # the lesson text is stale
    at.number_input(key="gw_theta").set_value(3.0).run()
    assert charts(at)[2]["layout"]["shapes"][0]["x0"] == 3.0
    assert not at.exception


def test_url_seeds_both_configs():
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.query_params["method"] = "alternating"
    at.query_params["shape"] = "gaussian"
    at.query_params["lr"] = "lots"
    at.run()
    assert at.session_state["gg_method"] == "alternating" and at.session_state["gw_shape"] == "gaussian"
    assert any("lr" in w.value for w in at.warning) and not at.exception
