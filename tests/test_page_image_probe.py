"""The score probe page through AppTest: score curves, memorisation check and latent arithmetic on small inputs
with the shipped digits DCGAN; bad input shows st.error and keeps the page."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PROBE = str(Path(__file__).resolve().parents[1] / "app" / "views" / "image_probe.py")
pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def at(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_RUNS", str(tmp_path / "no-runs"))
    a = AppTest.from_file(PROBE, default_timeout=240)
    a.run()
    assert not a.exception, a.exception
    return a


def test_page_loads_with_the_shipped_run(at):
    assert "probe the scores" in at.title[0].value
    assert any("digits-dcgan" in o for o in at.selectbox(key="pr_run").options)
    assert not at.error


def test_score_curves_compute_and_plot(at):
    at.multiselect(key="pr_kinds").set_value(["gaussian_noise", "repeat_one"])
    at.text_input(key="pr_strengths").set_value("0, 0.5, 1")
    at.number_input(key="pr_n_test").set_value(60)
    at.button(key="pr_go").click().run()
    assert not at.exception and not at.error
    spec = at.get("plotly_chart")[0].proto.spec
    assert "FID in classifier:mnist5k" in spec and "repeating one image" in spec
    curves = at.session_state["pr_curves"]
    assert [len(c["fid"]) for c in curves] == [3, 3] and curves[0]["fid"][2] > curves[0]["fid"][0]


def test_bad_strengths_show_an_error_and_keep_the_curves(at):
    at.text_input(key="pr_strengths").set_value("0, 1")
    at.number_input(key="pr_n_test").set_value(40)
    at.button(key="pr_go").click().run()
    first = at.session_state["pr_curves"]
    at.text_input(key="pr_strengths").set_value("0, lots")
    at.button(key="pr_go").click().run()
    assert any("strengths must be numbers" in e.value for e in at.error)
    assert at.session_state["pr_curves"] == first and not at.exception
    at.text_input(key="pr_strengths").set_value("0, 2")
    at.button(key="pr_go").click().run()
    assert any("between 0 and 1" in e.value for e in at.error)


def test_memorisation_section_shows_neighbours_and_histogram(at):
    at.number_input(key="pr_nsamples").set_value(8)
    at.number_input(key="pr_k").set_value(2)
    at.button(key="pr_mem_go").click().run()
    assert not at.exception and not at.error
    assert at.radio(key="pr_space").options[0] == "pixels" and len(at.radio(key="pr_space").options) == 2
    assert any("samples" in m.value and "test images" in m.value for m in at.markdown)
    assert any("Distance to the nearest training image" in c.proto.spec for c in at.get("plotly_chart"))


def test_latent_arithmetic_from_picked_groups(at):
    assert any("Pick at least one sample into group A" in i.value for i in at.info)
    n_images = len(at.get("image"))
    at.multiselect(key="pr_ar_A").set_value([0, 1])
    at.multiselect(key="pr_ar_B").set_value([2])
    at.multiselect(key="pr_ar_C").set_value([3]).run()
    assert not at.exception and not at.error
    assert len(at.get("image")) >= n_images + 4           # means of A, B, C and the result strip
    spec = [c.proto.spec for c in at.get("plotly_chart")][-1]
    assert '"AB"' not in spec and '"A"' in spec and '"C"' in spec


def test_a_run_without_noise_gets_the_memorisation_check_and_a_note_instead_of_arithmetic(tmp_path, monkeypatch):
    from playground.data import load_dataset
    from playground.images.config import ImageRunConfig
    from playground.images.train import train

    runs = tmp_path / "runs"
    cfg = ImageRunConfig(dataset="digits", model="flow_matching", steps=3, batch_size=8, unet_width=8,
                         unet_mults=(1, 2), sample_steps=4, sample_every=3, eval_every=0, final_eval=False,
                         device="cpu", threads=1)
    train(cfg, runs / "fm", dataset=load_dataset("digits", "train"))
    monkeypatch.setenv("PLAYGROUND_RUNS", str(runs))
    a = AppTest.from_file(PROBE, default_timeout=240)
    a.run()
    label = next(o for o in a.selectbox(key="pr_run").options if o.startswith("fm "))
    a.selectbox(key="pr_run").set_value(label).run()
    assert not a.exception and not a.error
    assert any("Latent arithmetic needs a noise vector" in i.value for i in a.info)
    a.number_input(key="pr_nsamples").set_value(8)
    a.button(key="pr_mem_go").click().run()
    assert not a.exception and not a.error
    assert a.session_state["pr_mem"][1] == 8
    assert any("Median nearest distance" in m.value for m in a.markdown)   # the check ran on the model's samples


def test_the_cli_prints_the_pages_curves_and_memorisation(at, capsys):
    """`images probe` and `images memorise` compute what the page shows, with the page's defaults."""
    import json

    from playground.cli import main
    from playground.images import probe

    at.selectbox(key="pr_dataset").set_value("digits")         # small: the 8x8 digits
    at.multiselect(key="pr_kinds").set_value(["blur"])
    at.text_input(key="pr_strengths").set_value("0, 1")
    at.number_input(key="pr_n_test").set_value(40)
    at.button(key="pr_go").click().run()
    page = at.session_state["pr_curves"][0]
    assert main(["images", "probe", "--dataset", "digits", "--kinds", "blur", "--strengths", "0,1", "--n-test",
                 "40", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["curves"][0]
    assert cli["fid"] == pytest.approx(page["fid"], rel=1e-9) and cli["is"] == pytest.approx(page["is"], rel=1e-9)
    assert at.number_input(key="pr_nsamples").value == probe.DEFAULT_SAMPLES
    digits = next(o for o in at.selectbox(key="pr_run").options if "digits-dcgan" in o)     # small: 8x8
    at.selectbox(key="pr_run").set_value(digits)
    at.number_input(key="pr_nsamples").set_value(8)
    at.button(key="pr_mem_go").click().run()
    run = at.session_state["pr_mem"][0]
    assert main(["images", "memorise", "--run", run, "--n", "8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["pixels"]["summary"]["ratio"] == pytest.approx(
        float(next(m.value for m in at.markdown if "ratio" in m.value).split("(ratio ")[1].split(")")[0]), abs=5e-3)
    assert main(["images", "probe", "--kinds", "melt"]) == 2 and "is not one of" in capsys.readouterr().err


def test_a_link_sets_up_the_experiment_and_the_url_follows_the_widgets(tmp_path, monkeypatch):
    """ProbeConfig is the page's URL and `images probe`'s flags: a link opens the same experiment, with bounds
    the CLI shares, and bad values are reported and skipped."""
    monkeypatch.setenv("PLAYGROUND_RUNS", str(tmp_path / "no-runs"))
    a = AppTest.from_file(PROBE, default_timeout=240)
    a.query_params.update({"dataset": "digits", "kinds": "swirl,blur", "n_test": "5"})
    a.run()
    assert not a.exception
    assert a.selectbox(key="pr_dataset").value == "digits" and a.multiselect(key="pr_kinds").value == ["swirl", "blur"]
    assert a.number_input(key="pr_n_test").value == 300 and any("n_test" in w.value for w in a.warning)
    a.number_input(key="pr_n_test").set_value(60).run()
    assert dict(a.query_params) == {"dataset": "digits", "kinds": "swirl,blur", "n_test": "60"}
