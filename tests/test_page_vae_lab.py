"""The VAE lab page through AppTest: sliders decode, pending codes load, uploads never crash, runs are found."""

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "app/views/vae_lab.py")
HAVE = (ROOT / "pretrained/vae/digits-2d.pt").is_file()
pytestmark = pytest.mark.skipif(not HAVE, reason="pretrained VAEs missing: run make pretrained")


@pytest.fixture
def at(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_RUNS", str(tmp_path))
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    return app


def _images(at):
    return at.get("image")


def test_layout_sliders_and_decoded_image_changes(at):
    assert at.selectbox(key="vae_model").value == "pretrained: digits-2d"
    assert at.slider(key="vae_z0").value == 0.0 and at.slider(key="vae_z1").value == 0.0
    assert at.radio(key="vae_view").options[:3] == ["Manifold", "Encode", "Interpolate"]
    before = _images(at)[0].proto.imgs[0].url
    at.slider(key="vae_z0").set_value(2.5).run()
    assert not at.exception
    after = _images(at)[0].proto.imgs[0].url
    assert at.slider(key="vae_z0").value == 2.5
    assert before != after
    at.button(key="vae_reset").click().run()
    at.run()
    assert at.slider(key="vae_z0").value == 0.0
    at.button(key="vae_random").click().run()
    at.run()
    assert any(at.slider(key=f"vae_z{i}").value != 0.0 for i in range(2))
    assert not at.exception


def test_encode_loads_code_into_sliders(at):
    at.radio(key="vae_view").set_value("Encode").run()
    at.number_input(key="vae_enc_idx").set_value(5).run()
    at.button(key="vae_enc_load").click().run()
    at.run()
    assert not at.exception
    z = [at.slider(key=f"vae_z{i}").value for i in range(2)]
    assert any(abs(v) > 0.01 for v in z)


def test_scatter_is_selectable_and_kl_plot_present(at):
    charts = at.get("plotly_chart")
    at.radio(key="vae_view").set_value("Training").run()
    charts = list(charts) + list(at.get("plotly_chart"))
    import json

    specs = [json.loads(c.proto.spec) for c in charts]
    scatter = [s for s in specs if s["data"][0]["type"] == "scattergl"][0]
    x = scatter["data"][0]["x"]
    if isinstance(x, dict):  # plotly 7 sends typed arrays as base64
        import base64

        x = np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"])
    assert len(x) == 300
    assert any(s["data"][0]["type"] == "bar" for s in specs)  # KL per dim


def test_models_switch_conditional_and_sprites(at):
    at.selectbox(key="vae_model").set_value("pretrained: digits-cvae").run()
    assert not at.exception
    assert at.selectbox(key="vae_class") is not None
    at.selectbox(key="vae_class").set_value(7).run()
    assert not at.exception
    if "pretrained: sprites-vae" in at.selectbox(key="vae_model").options:
        at.selectbox(key="vae_model").set_value("pretrained: sprites-vae").run()
        assert not at.exception
        assert at.slider(key="vae_z7").value == 0.0


def test_upload_error_is_shown_not_raised(at):
    # AppTest cannot drive st.file_uploader; the page's upload path is the engine's open_image, tested here.
    from playground.data.files import open_image
    from playground.errors import PlaygroundError

    with pytest.raises(PlaygroundError):
        open_image(b"definitely not an image", 8, 1)
    buf = io.BytesIO()
    Image.new("L", (40, 30), 200).save(buf, "PNG")
    arr = open_image(buf.getvalue(), 8, 1)
    assert arr.shape == (1, 8, 8) and np.allclose(arr, 200 / 255, atol=1e-3)


def test_background_run_is_found_from_disk(at, tmp_path):
    """A run directory written by the training process (as after a reload) appears in the model list."""
    from playground.vae import VAEConfig, train

    train(VAEConfig(latent=2, epochs=1, hidden=16, iwae_k=2), out=tmp_path / "vae" / "mine", final_eval=True)
    at.run()
    assert "run: mine" in at.selectbox(key="vae_model").options
    at.selectbox(key="vae_model").set_value("run: mine").run()
    at.radio(key="vae_view").set_value("Training").run()
    assert not at.exception
    texts = " ".join(str(p.proto.spec) for p in at.get("plotly_chart"))
    assert "ELBO terms" in texts
    at.radio(key="vae_view").set_value("β comparison").run()
    assert not at.exception
    assert any("mine" in p.proto.text and "done" in p.proto.text for p in at.get("progress"))


def test_start_training_runs_a_background_process_that_writes_the_run(at, tmp_path):
    import time

    from playground.vae import runs

    at.radio(key="vae_view").set_value("β comparison").run()
    at.selectbox(key="vae_t_ds").set_value("digits").run()
    at.number_input(key="vae_t_ep").set_value(1)
    at.number_input(key="vae_t_size").set_value(200)
    at.number_input(key="vae_t_lat").set_value(2).run()
    at.button(key="vae_t_start").click().run()
    assert not at.exception
    made = runs.list_runs(tmp_path / "vae")
    assert len(made) == 1 and made[0].name.startswith("digits-b4")
    deadline = time.time() + 90
    while (runs.read_status(made[0]) or {}).get("state") not in ("done", "failed") and time.time() < deadline:
        time.sleep(0.5)
    status = runs.read_status(made[0])
    assert status["state"] == "done", status
    assert status["result"]["test_iwae"] >= status["result"]["test_elbo"]
    at.run()
    assert f"run: {made[0].name}" in at.selectbox(key="vae_model").options


def test_model_comes_from_and_goes_to_the_url(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_RUNS", str(tmp_path))
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.query_params["model"] = "digits-cvae"
    app.run()
    assert not app.exception
    assert app.selectbox(key="vae_model").value == "pretrained: digits-cvae"
    app.selectbox(key="vae_model").set_value("pretrained: digits-16d").run()
    assert app.query_params["model"] in ("digits-16d", ["digits-16d"])
    app.radio(key="vae_view").set_value("Class swap").run()
    assert not app.exception
    app.selectbox(key="vae_model").set_value("pretrained: digits-cvae").run()
    assert not app.exception
    assert len(app.get("image")) >= 2  # decoded image and the class-swap table
    for view in ("Interpolate", "Encode", "β comparison", "Training", "Manifold"):
        app.radio(key="vae_view").set_value(view).run()
        assert not app.exception, view
