"""The GAN lab page driven through AppTest: layout, live settings, resets, URL, steps and play."""

import json
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from playground.plotly_arrays import unpack
from playground.toy.config import ToyConfig
from playground.toy.worker import live_workers
from playground.toy.worker_limits import ENV_MAX_WORKERS

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "app/views/gan_lab.py")


def figure_args(at):
    """The arguments sent to the live figure component (figures, frame, ...)."""
    comp = at.get("component_instance")
    assert len(comp) == 1
    args = json.loads(comp[0].proto.json_args)
    for fig in args["figures"].values():         # long arrays travel as base64 float32
        for t in fig["data"]:
            for k in ("x", "y", "z"):
                if k in t:
                    t[k] = unpack(t[k])
    return args


@pytest.fixture
def at(shared_lab_worker):
    """The page with the test run's one training process, reset as a fresh page would have it."""
    shared_lab_worker.reset(ToyConfig())            # new networks from the default seed, paused, full speed
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.session_state["toy_lab"] = shared_lab_worker
    app.run()
    assert not app.exception, app.exception
    yield app
    if app.session_state["toy_lab"] is not shared_lab_worker:
        app.session_state["toy_lab"].close()


def test_page_draws_field_losses_and_metrics(at):
    args = figure_args(at)
    assert set(args["figures"]) == {"field", "losses", "metrics"}
    field = args["figures"]["field"]
    kinds = [t["type"] for t in field["data"]]
    assert kinds[0] == "heatmap"
    names = [t.get("name") for t in field["data"]]
    assert "real" in names and "generated" in names
    heat = field["data"][0]
    assert heat["z"].shape == (48, 48) and 0.0 <= heat["z"].min() <= heat["z"].max() <= 1.0
    assert field["layout"]["uirevision"] == "field"     # zoom survives updates
    header = {label: value for label, value, _ in args["header"]}
    assert header["step"] == "0" and header["modes covered"].endswith("/ 8")
    assert header["high quality"].endswith("%") and "mode KL" in header
    assert args["feed"] is None          # no feed route under AppTest: fragment reruns instead
    assert not at.error


def test_single_steps_advance_and_redraw(at):
    frame0 = figure_args(at)["frame"]
    at.button(key="toy_step_d").click().run()
    assert at.session_state["toy_lab"].stats()["step"] == 1
    at.button(key="toy_step_both").click().run()
    assert at.session_state["toy_lab"].stats()["step"] == 2
    assert figure_args(at)["frame"] > frame0
    assert figure_args(at)["figures"]["field"]["layout"]["title"]["text"].startswith("step 2")
    lab = at.session_state["toy_lab"]
    g_before = lab.snapshot()["fake"]
    at.button(key="toy_step_g").click().run()
    assert lab.stats()["step"] == 3 and not np.array_equal(lab.snapshot()["fake"], g_before)   # G moved


def test_show_toggles_and_speed_control(at):
    names = lambda: [t.get("name") for t in figure_args(at)["figures"]["field"]["data"]]
    assert "G(noise grid)" not in names() and "G update (−∇ₓ loss)" in names()
    at.pills(key="toy_show").set_value(["heatmap", "manifold", "real", "generated"]).run()
    assert "G(noise grid)" in names() and "G update (−∇ₓ loss)" not in names()
    # 10 steps/s: the worker trains at that rate, not flat out
    at.select_slider(key="toy_speed").set_value("10 steps/s").run()
    at.button(key="toy_play").click().run()
    lab = at.session_state["toy_lab"]
    time.sleep(0.5)
    s0, t0 = lab.stats()["step"], time.time()
    time.sleep(2.0)
    rate = (lab.stats()["step"] - s0) / (time.time() - t0)
    at.run()
    at.button(key="toy_pause").click().run()
    assert 5 <= rate <= 13, rate
    assert not at.exception


def test_live_change_keeps_training_and_reset_change_restarts(at):
    at.button(key="toy_step_both").click().run()
    lab = at.session_state["toy_lab"]
    at.selectbox(key="toy_loss").set_value("hinge").run()
    assert at.session_state["toy_lab"] is lab          # same model, new objective
    assert lab.cfg.loss == "hinge" and lab.stats()["step"] == 1
    assert at.query_params["loss"] in ("hinge", ["hinge"])
    at.selectbox(key="toy_dist").set_value("grid25").run()
    new = at.session_state["toy_lab"]
    assert new.stats()["step"] == 0 and new.cfg.dist == "grid25"
    assert new.cfg.n_modes == 5 and new.cfg.std == 0.05   # the target's own defaults
    assert any("reset" in t.value.lower() for t in at.toast)
    assert not at.exception


def test_url_reproduces_a_setup():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["dist"] = "two_moons"
    at.query_params["loss"] = "least_squares"
    at.query_params["g_lr"] = "0.001"
    at.query_params["batch_size"] = "not-a-number"
    at.run()
    cfg = at.session_state["toy_lab"].cfg
    assert (cfg.dist, cfg.loss, cfg.g_lr, cfg.batch_size) == ("two_moons", "least_squares", 0.001, 128)
    assert any("batch_size" in w.value for w in at.warning)   # the bad value is reported, not fatal
    assert not at.exception
    at.session_state["toy_lab"].close()


def test_one_dimensional_target_shows_d_star(at):
    at.selectbox(key="toy_dist").set_value("bimodal1d").run()
    fig = figure_args(at)["figures"]["field"]
    names = [t["name"] for t in fig["data"]]
    assert "optimal D*(x) = p/(p+q)" in names and "target p(x)" in names
    assert at.session_state["toy_lab"].cfg.latent_dim == 1
    assert not at.exception


def test_invalid_formula_is_reported_and_state_kept(at):
    at.selectbox(key="toy_dist").set_value("mixture1d").run()
    lab = at.session_state["toy_lab"]
    at.text_input(key="toy_formula").set_value("0.5*N(0,-1)").run()
    assert any("standard deviation" in e.value for e in at.error)
    assert at.session_state["toy_lab"] is lab and not at.exception


def test_preset_loads_a_lesson(at):
    assert not any("differ from this lesson" in c.value for c in at.sidebar.caption)     # the defaults' lesson
    at.selectbox(key="toy_preset").set_value("wgan_gp_grid25").run()
    cfg = at.session_state["toy_lab"].cfg
    assert (cfg.dist, cfg.loss, cfg.d_steps) == ("grid25", "wgan_gp", 5)
    heat = figure_args(at)["figures"]["field"]["data"][0]
    assert heat.get("zmid") == 0.0              # a critic score, not a probability
    lesson = [c.value for c in at.sidebar.caption if "WGAN" in c.value or "critic" in c.value.lower()]
    assert lesson and "differ from this lesson" not in lesson[0]
    at.number_input(key="toy_d_steps").set_value(1).run()
    assert any("differ from this lesson's in d_steps" in c.value for c in at.sidebar.caption)


def test_play_trains_in_the_background(at):
    at.button(key="toy_play").click().run()
    assert at.session_state["toy_lab"].stats()["playing"]
    deadline = time.time() + 20
    while at.session_state["toy_lab"].stats()["step"] < 5 and time.time() < deadline:
        time.sleep(0.1)
    at.run()
    assert at.session_state["toy_lab"].stats()["step"] >= 5
    at.button(key="toy_pause").click().run()
    assert not at.session_state["toy_lab"].stats()["playing"]
    assert not at.exception


def test_app_navigation_has_home_and_lab():
    at = AppTest.from_file(str(ROOT / "app/streamlit_app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert "playground" in at.title[0].value.lower()
    at.switch_page("views/gan_lab.py").run()
    assert not at.exception and at.title[0].value == "GAN lab"
    at.session_state["toy_lab"].close()


def test_uploaded_csv_becomes_the_target_and_bad_files_are_explained(at):
    lab = at.session_state["toy_lab"]
    at.file_uploader(key="toy_upload").set_value(("mine.csv", b"x,y\n0,0\n1,1\n2,0.5\n-1,2\n", "text/csv")).run()
    assert not at.exception
    at.run()
    cfg = at.session_state["toy_lab"].cfg
    assert cfg.dist == "custom"
    real = figure_args(at)["figures"]["field"]["data"]
    xs = next(t for t in real if t.get("name") == "real")["x"]
    assert set(np.asarray(xs).tolist()) <= {0.0, 1.0, 2.0, -1.0}   # the real samples are the uploaded points
    at.file_uploader(key="toy_upload").set_value(("bad.csv", b"x,y\n1,2\n3,abc\n", "text/csv")).run()
    assert any("abc" in e.value for e in at.error)
    assert at.session_state["toy_lab"].cfg.dist == "custom" and not at.exception
    assert at.session_state["toy_lab"] is lab


def test_bad_config_json_is_refused_with_a_message(at):
    at.file_uploader(key="toy_cfg_upload").set_value(("c.json", b'{"loss": "nope"}', "application/json")).run()
    assert any("loss" in e.value and "nope" in e.value for e in at.error)
    assert at.session_state["toy_lab"].cfg.loss == "nonsaturating" and not at.exception
    at.file_uploader(key="toy_cfg_upload").set_value(
        ("c.json", b'{"loss": "hinge", "dist": "spiral"}', "application/json")).run()
    at.run()
    assert (at.session_state["toy_lab"].cfg.loss, at.session_state["toy_lab"].cfg.dist) == ("hinge", "spiral")


def test_drawing_on_a_1d_target_gives_1d_data(at):
    at.selectbox(key="toy_dist").set_value("bimodal1d").run()
    assert at.session_state["toy_lab"].dim == 1
    at.session_state["toy_draw"] = True
    at.session_state["toy_drawn"] = [[-1.0, 0.2], [0.5, 0.05], [1.5, 0.3]]     # clicks: (x, density-axis y)
    at.run()
    at.button(key="toy_draw_use").click().run()
    at.run()
    assert not at.exception
    assert at.session_state["toy_lab"].cfg.dist == "custom" and at.session_state["toy_lab"].dim == 1
    np.testing.assert_array_equal(at.session_state["toy_points"], [[-1.0], [0.5], [1.5]])


def test_mixture_components_table_writes_the_formula(at):
    at.selectbox(key="toy_dist").set_value("mixture1d").run()
    assert not at.exception
    table = [d for d in at.dataframe if (d.key or "").startswith("toy_mix_")]
    assert len(table) == 1                               # the components table
    assert list(table[0].value["mean"]) == [-2.0, 2.0]   # the default formula's components
    # an edit of the table arrives as a new formula on the next run (what the table's handler stores)
    at.session_state["toy_pending_formula"] = "0.2*N(-3,0.4)+0.8*N(1,0.6)"
    at.run()
    assert not at.exception
    assert at.session_state["toy_lab"].cfg.formula == "0.2*N(-3,0.4)+0.8*N(1,0.6)"


def test_an_ended_worker_is_replaced_and_a_full_server_says_so_keeping_the_settings(monkeypatch, shared_lab_worker):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    own = at.session_state["toy_lab"]
    assert own is not shared_lab_worker and own.alive
    at.selectbox(key="toy_loss").set_value("hinge").run()
    at.select_slider(key="toy_speed").set_value("10 steps/s").run()
    own.close()                                   # as after its idle time, or the end of a websocket
    monkeypatch.setenv(ENV_MAX_WORKERS, str(len(live_workers())))    # and no slot left for a new one
    at.run()
    assert not at.exception
    notice = " ".join(w.value for w in at.warning)
    assert "training slots" in notice and "Try again" in notice and "settings are kept" in notice
    assert at.button(key="toy_worker_retry").label == "Try again"
    monkeypatch.setenv(ENV_MAX_WORKERS, str(len(live_workers()) + 1))     # a slot frees up
    at.button(key="toy_worker_retry").click().run()
    assert not at.exception and not at.warning
    new = at.session_state["toy_lab"]
    try:
        assert new is not own and new.alive and new.stats()["step"] == 0
        assert new.cfg.loss == "hinge" and at.select_slider(key="toy_speed").value == "10 steps/s"
        assert any("ended" in t.value for t in at.toast)
    finally:
        new.close()
