"""The VAE lab page through AppTest: sliders decode, pending codes load, uploads never crash, runs are found."""

import io
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
    app.query_params["model"] = "digits-2d"      # these tests pin the 8x8 digits model; the default is below
    app.run()
    assert not app.exception, app.exception
    return app


def _images(at):
    return at.get("image")


def _live(at) -> dict | None:
    """The data of the in-browser decoder component (program, class, slider keys), or None if not mounted."""
    import json

    els = at.get("bidi_component")
    return json.loads(els[0].proto.json) if els else None


def _decoded_by_browser(at, z, y=None):
    """What the page's browser decoder will draw for z: its program, run by the reference interpreter."""
    from playground.vae.export import run_program

    live = _live(at)
    return run_program(live["program"], z, live["y"] if y is None else y)


def test_layout_sliders_and_decoded_image_changes(at):
    from playground.vae.latent import decode
    from playground.vae.pretrained import load_pretrained

    assert at.selectbox(key="vae_model").value == "pretrained: digits-2d"
    assert at.slider(key="vae_z0").value == 0.0 and at.slider(key="vae_z1").value == 0.0
    assert at.radio(key="vae_view").options[:3] == ["Manifold", "Encode", "Interpolate"]
    live = _live(at)
    assert live["keys"] == ["vae_z0", "vae_z1"] and live["y"] == 0
    model, _, _ = load_pretrained("digits-2d")
    at.slider(key="vae_z0").set_value(2.5).run()
    assert not at.exception and at.slider(key="vae_z0").value == 2.5
    z = [at.slider(key=f"vae_z{i}").value for i in range(2)]
    # The browser draws what the model decodes, and the slider move changed it.
    assert np.abs(_decoded_by_browser(at, z) - decode(model, np.float32(z)).numpy()).max() < 1e-5
    assert np.abs(_decoded_by_browser(at, z) - _decoded_by_browser(at, [0.0, 0.0])).max() > 0.05
    at.button(key="vae_reset").click().run()
    at.run()
    assert at.slider(key="vae_z0").value == 0.0
    at.button(key="vae_random").click().run()
    at.run()
    assert any(at.slider(key=f"vae_z{i}").value != 0.0 for i in range(2))
    assert not at.exception


def test_server_decoding_fallback_sends_the_image(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_RUNS", str(tmp_path))
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.query_params["decode"] = "server"
    app.run()
    assert not app.exception and _live(app) is None
    before = _images(app)[0].proto.imgs[0].url
    assert before.startswith("data:image/png;base64,")
    app.slider(key="vae_z0").set_value(2.5).run()
    assert not app.exception
    after = _images(app)[0].proto.imgs[0].url
    assert before != after and "z = [2.50, 0.00]" in _images(app)[0].proto.imgs[0].caption


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
    scatter = next(s for s in specs if s["data"][0]["type"] == "scattergl")
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
    assert _live(at)["y"] == 7 and _live(at)["program"]["classes"] == 10   # the class reaches the browser
    if "pretrained: sprites-vae" in at.selectbox(key="vae_model").options:
        at.selectbox(key="vae_model").set_value("pretrained: sprites-vae").run()
        assert not at.exception
        assert at.slider(key="vae_z7").value == 0.0


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def _posterior_table(at):
    """The Encode view's posterior table: {'mean': [...], 'std': [...]} over z0, z1, ..."""
    df = at.dataframe[0].value
    return {row: df.loc[row].to_numpy(dtype=float) for row in ("mean", "std")}


def _captions(at):
    return [img.caption for el in _images(at) for img in el.proto.imgs]


def _upload_digit():
    """A test-set digit drawn large (64x64, light strokes on dark, as the model was trained), as PNG bytes,
    and its 8x8 pixels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    small = (d.images[-1] / 16.0 * 255).astype(np.uint8)          # the last digit: in the test split
    big = np.asarray(Image.fromarray(small).resize((64, 64), Image.Resampling.NEAREST))
    return _png(big), small


def _slider_state(at):
    return [at.slider(key=f"vae_z{i}").value for i in range(2)]


def test_uploaded_image_is_encoded_and_reconstructed(at):
    import torch

    from playground.data.files import open_image
    from playground.vae.checkpoint import load_checkpoint
    from playground.vae.latent import encode

    at.radio(key="vae_view").set_value("Encode").run()
    test_image_post = _posterior_table(at)
    png, _ = _upload_digit()
    at.file_uploader(key="vae_upload").set_value(("my-digit.png", png, "image/png")).run()
    assert not at.exception and not at.error
    caps = _captions(at)
    assert "upload my-digit.png" in caps and "reconstruction (posterior mean)" in caps
    # The table is the model's posterior of exactly that upload (resized to the model's 8x8).
    model, _ = load_checkpoint(str(ROOT / "pretrained/vae/digits-2d.pt"))
    x = open_image(png, 8, channels=1)
    mu, sd = encode(model, torch.from_numpy(x)[None])
    post = _posterior_table(at)
    assert np.allclose(post["mean"], mu[0], atol=1e-3) and np.allclose(post["std"], sd[0], atol=1e-3)
    assert not np.allclose(post["mean"], test_image_post["mean"], atol=1e-2)   # not the default test image
    assert at.checkbox(key="vae_invert").value is False          # light strokes on dark: no inversion proposed
    # Its code goes into the sliders.
    at.button(key="vae_enc_load").click().run()
    at.run()
    assert _slider_state(at) == pytest.approx(np.clip(np.round(mu[0], 2), -3, 3), abs=1e-6)


def test_inverted_upload_is_proposed_for_inversion(at):
    at.radio(key="vae_view").set_value("Encode").run()
    _, small = _upload_digit()
    paper = 255 - np.asarray(Image.fromarray(small).resize((48, 48), Image.Resampling.NEAREST))
    at.file_uploader(key="vae_upload").set_value(("scan.png", _png(paper), "image/png")).run()
    assert not at.exception and not at.error
    assert at.checkbox(key="vae_invert").value is True           # dark strokes on light paper: inverted
    inverted = _posterior_table(at)["mean"]
    at.checkbox(key="vae_invert").uncheck().run()
    assert not np.allclose(_posterior_table(at)["mean"], inverted, atol=1e-3)


def test_the_encode_view_is_vae_encode(at, tmp_path, capsys):
    """`vae encode` prints the Encode view's table, for a test image and for an upload the page inverts."""
    import json

    from playground.cli import main

    def cli(*argv):
        assert main(["vae", "encode", "--checkpoint", str(ROOT / "pretrained/vae/digits-2d.pt"), *argv, "--json"]) == 0
        return json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    at.radio(key="vae_view").set_value("Encode").run()
    at.number_input(key="vae_enc_idx").set_value(9).run()
    out = cli("--index", "9", "--out", str(tmp_path / "enc.png"))
    post = _posterior_table(at)
    assert np.allclose(post["mean"], out["mean"], atol=5e-4) and np.allclose(post["std"], out["std"], atol=5e-4)
    assert Image.open(tmp_path / "enc.png").size == (2 * 64 + 3, 64 + 2)     # image | reconstruction, 8x upscaled
    _, small = _upload_digit()
    path = tmp_path / "scan.png"
    path.write_bytes(_png(255 - np.asarray(Image.fromarray(small).resize((48, 48), Image.Resampling.NEAREST))))
    at.file_uploader(key="vae_upload").set_value(("scan.png", path.read_bytes(), "image/png")).run()
    assert at.checkbox(key="vae_invert").value is True
    out = cli("--image", str(path))                                  # --invert auto, as the page
    assert np.allclose(_posterior_table(at)["mean"], out["mean"], atol=5e-4)


def _bad_uploads():
    good, _ = _upload_digit()
    noise = (np.random.default_rng(0).random((900, 900, 3)) * 255).astype(np.uint8)   # incompressible
    buf = io.BytesIO()
    Image.new("1", (7000, 7000)).save(buf, "PNG")                  # 49 megapixels in about 20 KB
    return [
        ("notes.png", b"these are my notes, not a picture\n" * 20, "not a readable image"),
        ("huge.png", _png(noise), "limit is 2000000"),
        ("bomb.png", buf.getvalue(), "7000x7000 pixels"),
        ("truncated.png", good[: len(good) // 2], "not a readable image"),
        ("flipped.png", good[:60] + bytes([good[60] ^ 0xFF]) + good[61:], "not a readable image"),
    ]


@pytest.mark.parametrize("case", range(5), ids=["not-an-image", "too-many-bytes", "too-many-pixels",
                                                 "truncated", "corrupted-data"])
def test_bad_upload_shows_an_error_and_keeps_state(at, case):
    name, data, expected = _bad_uploads()[case]
    at.slider(key="vae_z0").set_value(1.5).run()
    at.radio(key="vae_view").set_value("Encode").run()
    at.number_input(key="vae_enc_idx").set_value(7).run()
    before = _posterior_table(at)
    at.file_uploader(key="vae_upload").set_value((name, data, "image/png")).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and name in errors[0] and expected in errors[0], errors
    # The page keeps working on what it had: the chosen test image, the sliders, the view, the model.
    assert "test image #7" in _captions(at) and "reconstruction (posterior mean)" in _captions(at)
    assert np.allclose(_posterior_table(at)["mean"], before["mean"])
    assert at.slider(key="vae_z0").value == 1.5 and at.radio(key="vae_view").value == "Encode"
    assert at.selectbox(key="vae_model").value == "pretrained: digits-2d"
    # ...and a good upload afterwards replaces the error.
    png, _ = _upload_digit()
    at.file_uploader(key="vae_upload").set_value(("ok.png", png, "image/png")).run()
    assert not at.exception and not at.error
    assert "upload ok.png" in _captions(at)


def test_background_run_is_found_from_disk(at, tmp_path):
    """A run directory written by the training process (as after a reload) appears in the model list, and so
    does one in the folder the page used before the one run root (runs/vae/)."""
    from playground.vae import VAEConfig, train

    cfg = VAEConfig(latent_dim=2, epochs=1, hidden=16, iwae_k=2)
    train(cfg, out=tmp_path / "mine", final_eval=True)
    train(cfg, out=tmp_path / "vae" / "older", final_eval=False)
    at.run()
    assert {"run: mine", "run: older"} <= set(at.selectbox(key="vae_model").options)
    at.selectbox(key="vae_model").set_value("run: mine").run()
    at.radio(key="vae_view").set_value("Training").run()
    assert not at.exception
    texts = " ".join(str(p.proto.spec) for p in at.get("plotly_chart"))
    assert "ELBO terms" in texts
    at.radio(key="vae_view").set_value("β comparison").run()
    assert not at.exception
    assert any("mine" in p.proto.text and "completed" in p.proto.text for p in at.get("progress"))


def test_training_form_is_generated_from_the_config_with_its_bounds(at):
    """Every VAEConfig field has a widget with the config's own bounds (beta up to 100, latents up to 64)."""
    import dataclasses

    from playground.vae import VAEConfig

    at.radio(key="vae_view").set_value("β comparison").run()
    for f in dataclasses.fields(VAEConfig):
        assert at.session_state["vae_t_" + f.name] is not None, f.name
    beta, lat = at.number_input(key="vae_t_kl_weight"), at.number_input(key="vae_t_latent_dim")
    assert (beta.min, beta.max) == (0.0, 100.0) and (lat.min, lat.max) == (2, 64)
    assert at.selectbox(key="vae_t_dataset").value == "sprites" and lat.value == 8
    at.selectbox(key="vae_t_dataset").set_value("digits").run()     # dataset-dependent suggestions
    assert at.number_input(key="vae_t_latent_dim").value == 2 and at.number_input(key="vae_t_train_size").value == 1497
    # A config file fills the form; a bad one is refused with its reason and changes nothing.
    at.file_uploader(key="vae_t_upload").set_value(("c.json", b'{"beta": 7.5, "latent": 12}', "application/json"))
    at.run()
    assert not at.exception and at.number_input(key="vae_t_kl_weight").value == 7.5
    assert at.number_input(key="vae_t_latent_dim").value == 12
    at.file_uploader(key="vae_t_upload").set_value(("d.json", b'{"latent": 65}', "application/json")).run()
    assert any("d.json" in e.value and "latent" in e.value and "64" in e.value for e in at.error)
    assert at.number_input(key="vae_t_latent_dim").value == 12 and not at.exception


def test_start_training_runs_a_background_process_that_writes_the_run(at, tmp_path):
    from playground.runs import launcher
    from playground.runs.rundir import list_runs

    at.radio(key="vae_view").set_value("β comparison").run()
    at.selectbox(key="vae_t_dataset").set_value("digits").run()
    at.number_input(key="vae_t_epochs").set_value(1)
    at.number_input(key="vae_t_train_size").set_value(200)
    at.number_input(key="vae_t_latent_dim").set_value(2).run()
    at.button(key="vae_t_start").click().run()
    assert not at.exception and not at.error
    made = list_runs(tmp_path, kind="vae")
    assert len(made) == 1 and made[0]["name"].startswith("digits-b4-z2")
    assert made[0]["config"]["epochs"] == 1 and made[0]["config"]["train_size"] == 200
    status = launcher.wait(made[0]["path"], timeout=120)
    assert status["state"] == "completed", status
    assert status["result"]["test_iwae"] >= status["result"]["test_elbo"]
    at.run()
    assert f"run: {made[0]['name']}" in at.selectbox(key="vae_model").options


def test_training_the_pair_runs_beta_1_and_4_and_compares_them(at, tmp_path):
    from playground.runs import launcher
    from playground.runs.rundir import list_runs

    at.radio(key="vae_view").set_value("β comparison").run()
    at.selectbox(key="vae_t_dataset").set_value("digits").run()
    at.number_input(key="vae_t_epochs").set_value(1)
    at.number_input(key="vae_t_train_size").set_value(200)
    at.number_input(key="vae_t_hidden").set_value(32).run()
    at.button(key="vae_t_pair").click().run()
    assert not at.exception and not at.error
    made = sorted(list_runs(tmp_path, kind="vae"), key=lambda r: r["config"]["kl_weight"])
    assert [r["config"]["kl_weight"] for r in made] == [1.0, 4.0]
    same = [{k: v for k, v in r["config"].items() if k != "kl_weight"} for r in made]
    assert same[0] == same[1] and same[0]["hidden"] == 32 and same[0]["epochs"] == 1
    for r in made:
        assert launcher.wait(r["path"], timeout=120)["state"] == "completed"
    at.run()
    assert at.multiselect(key="vae_cmp").value == [f"run: {r['name']}" for r in made]
    assert any("β = 4" in m.value for m in at.markdown) and not at.exception


def test_a_run_can_be_stopped_and_resumed_from_the_page(at, tmp_path):
    import time

    from playground.runs import launcher
    from playground.runs.rundir import RunDir, list_runs

    at.radio(key="vae_view").set_value("β comparison").run()
    at.selectbox(key="vae_t_dataset").set_value("digits").run()
    at.number_input(key="vae_t_epochs").set_value(500).run()      # long enough to still be going
    at.button(key="vae_t_start").click().run()
    (row,) = list_runs(tmp_path, kind="vae")
    run = RunDir(row["path"])
    deadline = time.time() + 120
    while not run.metrics_path.exists() and time.time() < deadline:   # training, past its first epoch
        time.sleep(0.3)
    at.run()
    at.button(key=f"vae_runs_stop_{row['name']}").click().run()
    assert not at.exception and not at.error
    assert launcher.wait(row["path"], timeout=120)["state"] == "stopped"
    stopped_at = run.read_status().get("epoch")
    at.run()
    assert any(row["name"] in p.proto.text and "stopped" in p.proto.text for p in at.get("progress"))
    at.button(key=f"vae_runs_resume_{row['name']}").click().run()
    assert not at.exception and not at.error
    assert run.is_active()
    while (run.read_status().get("epoch") or 0) <= stopped_at and time.time() < deadline + 60:
        time.sleep(0.3)
    assert run.read_status().get("epoch") > stopped_at            # it went on from where it stopped
    launcher.stop(row["path"])
    assert launcher.wait(row["path"], timeout=120)["state"] == "stopped"
    epochs = [r["epoch"] for r in run.read_metrics()]
    assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) > stopped_at   # one history, no restart


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
    assert _live(app)["program"]["classes"] == 10 and len(app.get("image")) == 1   # the class-swap table
    for view in ("Interpolate", "Encode", "β comparison", "Training", "Manifold"):
        app.radio(key="vae_view").set_value(view).run()
        assert not app.exception, view


def test_conv_gaussian_model_is_offered_and_shows_its_decoder_sigma(at):
    import torch

    from playground.vae.latent import decode, decode_std
    from playground.vae.pretrained import load_pretrained

    name = "pretrained: digits-conv-gauss"
    assert name in at.selectbox(key="vae_model").options
    at.selectbox(key="vae_model").set_value(name).run()
    assert not at.exception
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "conv" in sidebar and "gaussian decoder" in sidebar
    assert at.slider(key="vae_z7").value == 0.0                     # 8 latents, 8 sliders
    live = _live(at)
    assert [op["op"] for op in live["program"]["ops"]].count("conv3x3") >= 2 and len(live["keys"]) == 8
    at.slider(key="vae_z3").set_value(-2.0).run()
    assert not at.exception
    z = np.zeros(8, np.float32)
    z[3] = -2.0
    assert np.abs(_decoded_by_browser(at, z) - decode(load_pretrained("digits-conv-gauss")[0], z).numpy()).max() < 1e-5
    at.radio(key="vae_view").set_value("Encode").run()
    assert not at.exception
    sigma_caps = [c for c in _captions(at) if c.startswith("decoder σ per pixel")]
    assert len(sigma_caps) == 1
    # The caption's scale is the largest sigma the decoder gives for this image's posterior mean.
    model, _, _ = load_pretrained("digits-conv-gauss")
    mu = torch.tensor(_posterior_table(at)["mean"], dtype=torch.float32)[None]
    top = float(decode_std(model, mu).max())
    assert f"white = {top:.2f}" in sigma_caps[0]
    assert 0.03 <= top < 1.0 and decode(model, mu).shape == (1, 1, 8, 8)
    for view in ("Manifold", "Interpolate", "β comparison", "Training"):
        at.radio(key="vae_view").set_value(view).run()
        assert not at.exception, view


def test_the_default_model_is_the_mnist5k_manifold(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_RUNS", str(tmp_path))
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    assert app.selectbox(key="vae_model").value == "pretrained: mnist5k-2d"
    assert app.selectbox(key="vae_model").options[0] == "pretrained: mnist5k-2d"
