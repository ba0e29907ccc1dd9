"""The model families lab page through AppTest: layout, adding models, bad input keeps state, URL round trip,
stepping, scoring, looking back and branching. The page trains in a process of its own (FamiliesWorker); a reset
rebuilds the models in the same process (its `generation` counts the rebuilds)."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from playground.families.setup import setup_query
from playground.families.worker import FamiliesWorker
from playground.plotly_arrays import unpack
from playground.workers import live_workers

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "app/views/families.py")
TINY = {"width": "8", "layers": "1", "batch_size": "64", "eval_samples": "200", "m1.flow_layers": "2",
        "m1.flow_bins": "4", "m2.sample_steps": "5", "m2.fm_logprob_steps": "5"}

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def close_page_workers():
    """AppTest never ends its sessions: close the training processes a test's pages started."""
    before = set(live_workers())
    yield
    for w in set(live_workers()) - before:
        if isinstance(w, FamiliesWorker):
            w.close()


def figure_args(at):
    comp = at.get("component_instance")
    assert len(comp) == 1
    args = json.loads(comp[0].proto.json_args)
    for fig in args["figures"].values():
        for t in fig["data"]:
            for k in ("x", "y", "z"):
                if k in t:
                    t[k] = unpack(t[k])
    return args


def page(query=None):
    at = AppTest.from_file(PAGE, default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def tiny(**extra):
    return page({**TINY, **extra})


def scoreboard_rows(at):
    assert len(at.dataframe) == 1
    return at.dataframe[0].value


def test_default_page_renders_two_models_side_by_side():
    at = page()
    lab = at.session_state["fam_lab"]
    assert [c.model for c in lab.cfgs] == ["flow", "flow_matching"]
    args = figure_args(at)
    assert set(args["figures"]) == {"m0_main", "m0_aux", "m1_main", "m1_aux"}
    assert args["columns"] == [["m0_main", "m0_aux"], ["m1_main", "m1_aux"]]
    assert args["figures"]["m0_main"]["data"][0]["type"] == "heatmap"       # the flow's exact density
    assert "velocity" in args["figures"]["m1_main"]["layout"]["title"]["text"]
    assert args["header"][0][:2] == ["step", "0 / 10,000"] and args["feed"] is None
    assert len(scoreboard_rows(at)) == 2
    assert not at.error and dict(at.query_params) == {}                       # the defaults: a clean URL
    assert at.title[0].value == "Model families lab"


def test_adding_and_removing_a_model():
    at = tiny()
    at.button(key="fam_add").click().run()
    assert not at.exception
    lab = at.session_state["fam_lab"]
    assert [c.model for c in lab.cfgs] == ["flow", "flow_matching", "diffusion"]
    assert {c.seed for c in lab.cfgs} == {0} and {c.batch_size for c in lab.cfgs} == {64}     # shared settings
    assert len(scoreboard_rows(at)) == 3 and "m2_main" in figure_args(at)["figures"]
    assert at.query_params["models"] in ("flow,flow_matching,diffusion", ["flow,flow_matching,diffusion"])
    at.selectbox(key="fam2_model").set_value("gan").run()
    assert [c.model for c in at.session_state["fam_lab"].cfgs] == ["flow", "flow_matching", "gan"]
    at.button(key="fam0_remove").click().run()
    assert [c.model for c in at.session_state["fam_lab"].cfgs] == ["flow_matching", "gan"]
    assert len(scoreboard_rows(at)) == 2


def test_bad_csv_shows_an_error_and_keeps_state():
    at = tiny()
    at.button(key="fam_step").click().run()
    at.button(key="fam_step").click().run()
    lab = at.session_state["fam_lab"]
    gen = lab.generation
    assert lab.step == 2
    at.file_uploader(key="fam_upload").set_value(("bad.csv", b"x,y\n1,2\n3,abc\n", "text/csv")).run()
    assert not at.exception
    assert any("bad.csv" in e.value and "abc" in e.value for e in at.error)
    assert at.session_state["fam_lab"] is lab and lab.step == 2 and lab.cfgs[0].dist == "ring8"
    assert lab.generation == gen
    # a good file becomes the target of every model
    at.file_uploader(key="fam_upload").set_value(("mine.csv", b"x,y\n0,0\n1,1\n2,0.5\n-1,2\n", "text/csv")).run()
    new = at.session_state["fam_lab"]
    assert not at.exception and new.generation == gen + 1 and new.step == 0 and new.target.name == "custom"
    assert all(c.dist == "custom" for c in new.cfgs)
    # an impossible setting: an error, the models kept
    at.selectbox(key="fam1_model").set_value("diffusion").run()
    kept = at.session_state["fam_lab"]
    gen = kept.generation
    assert [c.model for c in kept.cfgs] == ["flow", "diffusion"] and kept.cfgs[1].sample_steps == 100
    at.number_input(key="fam1_diffusion_timesteps").set_value(10).run()      # fewer noise levels than steps
    assert not at.exception and any("cannot exceed" in e.value for e in at.error)
    assert at.session_state["fam_lab"] is kept and kept.generation == gen
    # a config file that is not one
    at.file_uploader(key="fam0_upload").set_value(("c.json", b'{"model": "nope"}', "application/json")).run()
    assert not at.exception and any("c.json" in e.value for e in at.error)


def test_url_round_trip():
    at = tiny(models="flow,gan", dist="two_moons", seed="4", **{"m1.flow_objective": "reverse_kl",
                                                                "m2.gan_loss": "hinge", "m2.width": "oops"})
    lab = at.session_state["fam_lab"]
    assert [c.model for c in lab.cfgs] == ["flow", "gan"]
    assert lab.cfgs[0].flow_objective == "reverse_kl" and lab.cfgs[1].gan_loss == "hinge"
    assert all(c.dist == "two_moons" and c.seed == 4 for c in lab.cfgs)
    assert any("width" in w.value for w in at.warning)                       # the bad value is reported, skipped
    assert at.selectbox(key="fam0_flow_objective").value == "reverse_kl"
    want = setup_query(lab.cfgs)
    assert {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()} == want
    again = page(want)                                                      # the URL rebuilds the same setup
    assert again.session_state["fam_lab"].cfgs == lab.cfgs


def test_step_evaluate_look_back_and_branch():
    at = tiny()
    for _ in range(3):
        at.button(key="fam_step").click().run()
    lab = at.session_state["fam_lab"]
    assert lab.step == 3 and figure_args(at)["header"][0][1] == "3 / 10,000"
    at.button(key="fam_eval").click().run()
    rows = scoreboard_rows(at)
    assert len(rows) == 2 and rows.iloc[0]["exact KL(p‖q) nats"] != "–" and rows.iloc[1]["evaluated at step"] == "3"
    at.toggle(key="fam_look").set_value(True).run()
    steps = lab.history_steps
    assert steps[0] == 0 and steps[-1] == 3
    at.select_slider(key="fam_scrub").set_value(1).run()
    shown = figure_args(at)["figures"]["m0_main"]["layout"]["title"]["text"]
    assert shown.endswith(f"· step {steps[1]:,}")                              # the stored frame, not now
    assert lab.step == 3
    at.button(key="fam_branch").click().run()
    assert not at.exception
    assert at.session_state["fam_lab"].step == steps[1] and not at.session_state["fam_look"]


def test_settings_changed_while_looking_back_apply_when_branching():
    at = tiny()
    for _ in range(2):
        at.button(key="fam_step").click().run()
    lab = at.session_state["fam_lab"]
    gen = lab.generation
    at.toggle(key="fam_look").set_value(True).run()
    at.selectbox(key="fam0_flow_objective").set_value("reverse_kl").run()
    assert at.session_state["fam_lab"] is lab and lab.cfgs[0].flow_objective == "forward_kl"   # pending
    assert lab.generation == gen
    assert any("Branch continues" in i.value for i in at.info)
    at.button(key="fam_branch").click().run()
    new = at.session_state["fam_lab"]
    assert new is lab and new.generation == gen and new.step == 2 and new.cfgs[0].flow_objective == "reverse_kl"
    assert not at.exception


def test_an_uploaded_picture_is_the_image_target():
    import io

    import numpy as np
    from PIL import Image

    img = np.full((32, 32), 255, dtype=np.uint8)
    img[8:24, 4:12] = 0                                                    # a dark bar on the left
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    at = tiny(dist="image")
    at.file_uploader(key="fam_picture_upload").set_value(("bar.png", buf.getvalue(), "image/png")).run()
    assert not at.exception
    lab = at.session_state["fam_lab"]
    gen = lab.generation
    pts = lab.frame()["real"]                                               # the views' target points
    assert lab.target.name == "image" and np.mean(pts[:, 0] < 0) > 0.9        # the mass sits where the bar is
    at.file_uploader(key="fam_picture_upload").set_value(("no.png", b"not an image", "image/png")).run()
    assert not at.exception and any("no.png" in e.value for e in at.error)
    assert at.session_state["fam_lab"] is lab and lab.generation == gen


def test_background_runs_start_one_process_per_model(monkeypatch, tmp_path):
    from playground.runs import launcher

    monkeypatch.setenv("PLAYGROUND_RUNS", str(tmp_path))
    started = []
    monkeypatch.setattr(launcher, "start", lambda cfg, name=None, **kw: started.append((cfg, name)))
    at = tiny()
    assert any("No runs yet" in c.value for c in at.caption)
    at.button(key="fam_launch").click().run()
    assert not at.exception
    lab = at.session_state["fam_lab"]
    assert [c for c, _ in started] == lab.cfgs
    assert [n.split("-")[:2] for _, n in started] == [["ring8", "flow"], ["ring8", "flow_matching"]]


def test_the_forward_vs_reverse_kl_preset():
    at = tiny()
    at.selectbox(key="fam_preset").set_value("forward_vs_reverse").run()
    assert not at.exception and not at.error
    lab = at.session_state["fam_lab"]
    assert [(c.model, c.flow_objective, c.dist) for c in lab.cfgs] == [
        ("flow", "forward_kl", "gaussians8_ffjord"), ("flow", "reverse_kl", "gaussians8_ffjord")]
    assert lab.cfgs[0].n_modes == 8 and at.query_params["m2.flow_objective"] in ("reverse_kl", ["reverse_kl"])


def test_an_ended_worker_is_replaced_and_a_full_server_says_so_keeping_the_settings(monkeypatch):
    from playground.toy.worker_limits import ENV_MAX_WORKERS

    at = tiny()
    own = at.session_state["fam_lab"]
    at.selectbox(key="fam0_flow_objective").set_value("reverse_kl").run()
    own.close()                                   # as after its idle time, or the end of a websocket
    FamiliesWorker(own.cfgs)                      # another tab takes the slot (closed by close_page_workers)
    monkeypatch.setenv(ENV_MAX_WORKERS, str(len(live_workers())))    # and no slot left for a new one
    at.run()
    assert not at.exception
    notice = " ".join(w.value for w in at.warning)
    assert "training slots" in notice and "families lab" in notice and "settings are kept" in notice
    monkeypatch.setenv(ENV_MAX_WORKERS, str(len(live_workers()) + 1))     # a slot frees up
    at.button(key="fam_worker_retry").click().run()
    assert not at.exception and not at.warning
    new = at.session_state["fam_lab"]
    assert new is not own and new.alive and new.step == 0 and new.cfgs[0].flow_objective == "reverse_kl"
    assert any("ended" in t.value for t in at.toast)
