"""The VAE inference page through AppTest: its numbers are the engine's, every view draws, uploads are bounded
and never crash, the optimisation runs from its button, and the sweep is computed once and cached."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from playground.vae import aggregate, compare, posterior

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "app/views/vae_inference.py")
DIGITS_2D = ROOT / "pretrained/vae/digits-2d.pt"
pytestmark = pytest.mark.skipif(not DIGITS_2D.is_file(), reason="pretrained VAEs missing: run make pretrained")


@pytest.fixture(scope="module")
def engine():
    from playground.data import load_dataset
    from playground.vae.checkpoint import load_checkpoint

    model, _ = load_checkpoint(DIGITS_2D)
    return model, load_dataset("digits", split="test")


@pytest.fixture
def at(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_RUNS", str(tmp_path))
    monkeypatch.setattr(compare, "AE_MAX_STEPS", 24)        # tiny trainings only, in page tests
    monkeypatch.setattr(compare, "SWEEP_STEPS", 12)
    monkeypatch.setattr(compare, "SWEEP_SIZES", (2, 3))
    app = AppTest.from_file(PAGE, default_timeout=90)
    app.query_params["model"] = "digits-2d"      # these tests pin the 8x8 digits model; the default is mnist5k-2d
    app.run()
    assert not app.exception, app.exception
    return app


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _captions(at):
    return [img.caption for el in at.get("image") for img in el.proto.imgs]


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def test_posterior_numbers_are_the_engines(at, engine):
    model, test = engine
    assert at.selectbox(key="vi_model").value == "pretrained: digits-2d"
    # 2-latent models only, the real 28x28 digits first
    assert at.selectbox(key="vi_model").options == ["pretrained: mnist5k-2d", "pretrained: digits-2d"]
    for idx in (0, 1, 11):          # a neighbour (1, which the look-ahead may have begun) and a jump (11)
        if idx:
            at.number_input(key="vi_index").set_value(idx).run()
            assert not at.exception
        x, y = posterior.test_image(model, test, idx)
        _, rep = posterior.inspect(model, x, y, n=100, samples=20000, scan=64)
        got = _metrics(at)
        assert got["log p(x) (quadrature)"] == f"{rep['log_px']:.3f}"
        assert got["ELBO of the encoder"] == f"{rep['elbo']:.3f}"
        assert got["gap KL(q ‖ p(z|x))"] == f"{rep['gap']:.3f}"
        assert got["IWAE, K = 5000"] == f"{rep['iwae'][-1]['value']:.3f}"
        assert f"test image #{idx}" in _captions(at)
    figures = _live(at)["figures"]
    assert figures["heat"]["data"][0]["type"] == "heatmap"
    assert figures["iwae"]["layout"]["xaxis"]["type"] == "log"
    assert _live(at)["columns"] == [["heat"], ["iwae"]]
    at.select_slider(key="vi_grid").set_value(150).run()
    at.toggle(key="vi_log").set_value(True).run()
    assert not at.exception
    assert _live(at)["figures"]["heat"]["data"][0]["colorbar"]["title"]["text"] == "log p(z|x)"


def _live(at) -> dict:
    """The arguments of the page's live figure (figures, columns, ...)."""
    return json.loads(at.get("component_instance")[0].proto.json_args)


def test_upload_is_inspected_and_bad_uploads_keep_the_page(at, engine):
    model, test = engine
    digit = (test.images[5, 0].numpy() * 255).astype(np.uint8)
    png = _png(np.asarray(Image.fromarray(digit).resize((40, 40), Image.Resampling.NEAREST)))
    at.file_uploader(key="vi_upload").set_value(("mine.png", png, "image/png")).run()
    assert not at.exception and not at.error
    assert "upload mine.png" in _captions(at)
    from playground.vae.latent import image_input

    x = image_input(model, png, 2_000_000)
    _, rep = posterior.inspect(model, x, None, n=100, samples=20000, scan=64)
    assert _metrics(at)["log p(x) (quadrature)"] == f"{rep['log_px']:.3f}"
    for name, data in (("notes.png", b"not a picture at all" * 10), ("cut.png", png[: len(png) // 2])):
        at.file_uploader(key="vi_upload").set_value((name, data, "image/png")).run()
        assert not at.exception
        errors = [e.value for e in at.error]
        assert len(errors) == 1 and name in errors[0] and "not a readable image" in errors[0]
        assert "test image #0" in _captions(at) and "log p(x) (quadrature)" in _metrics(at)


def test_amortisation_runs_from_its_button(at):
    at.radio(key="vi_view").set_value("amortisation").run()
    assert not at.exception and at.info                            # before: the encoder and the best Gaussian
    table = at.table[0].value
    assert np.isnan(table.loc["ELBO, optimised q", "nats"])
    at.number_input(key="vi_am_steps").set_value(100).run()
    at.button(key="vi_am_go").click().run()
    assert not at.exception and not at.info
    table = at.table[0].value["nats"]
    assert table["ELBO, encoder"] < table["ELBO, optimised q"] <= table["log p(x)"]
    assert table["ELBO, optimised q"] <= table["ELBO, best Gaussian"] + 1e-3
    at.run()                                                        # the result stays for this image
    assert not np.isnan(at.table[0].value.loc["ELBO, optimised q", "nats"])
    at.number_input(key="vi_index").set_value(3).run()              # a new image: back to the start
    assert np.isnan(at.table[0].value.loc["ELBO, optimised q", "nats"])


def test_compare_view_and_the_cached_sweep(at, tmp_path):
    at.radio(key="vi_view").set_value("compare").run()
    assert not at.exception
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    for name in ("PCA: encoded test set", "autoencoder: encoded test set", "VAE: encoded test set"):
        assert any(name in t for t in titles), name
    assert sum("off the data" in c for c in _captions(at)) == 3
    assert list((tmp_path / compare.CACHE).glob("ae-*.pt"))         # the autoencoder is kept on disk
    at.button(key="vi_sweep").click().run()
    assert not at.exception
    assert any("reconstruction error vs latent size" in c.proto.spec for c in at.get("plotly_chart"))
    assert list((tmp_path / compare.CACHE).glob("sweep-*.json"))
    at.run()                                                        # read back from the cache, no button needed
    assert "vi_sweep" not in [b.key for b in at.button]
    assert any("reconstruction error vs latent size" in c.proto.spec for c in at.get("plotly_chart"))


@pytest.mark.parametrize("view,expect", [("gradients", "gradient variance vs samples"),
                                         ("aggregate", "aggregate posterior q(z)"),
                                         ("outlier", "ELBO of the test images")])
def test_other_views_draw(at, view, expect):
    at.radio(key="vi_view").set_value(view).run()
    assert not at.exception and not at.error
    assert any(expect in c.proto.spec for c in at.get("plotly_chart"))
    if view == "outlier":
        pct = float(_metrics(at)["test images with a lower ELBO"].rstrip("%"))
        assert 0 <= pct <= 100
        noise = (np.random.default_rng(0).random((16, 16)) * 255).astype(np.uint8)
        at.file_uploader(key="vi_upload").set_value(("noise.png", _png(noise), "image/png")).run()
        assert _metrics(at)["test images with a lower ELBO"] == "0.0%"   # noise is unlike every digit


def test_page_is_in_the_navigation():
    text = (ROOT / "app/streamlit_app.py").read_text()
    assert 'url_path="vae_inference"' in text and "vae_inference.py" in text


def test_aggregate_posterior_is_built_from_the_training_codes(at, engine):
    """q(z) mixes the codes of the images the decoder learned from (the test split's fewer codes left gaps)."""
    from playground.vae.latent import encode
    from playground.vae.train import load_data

    model, _ = engine
    train = load_data(model.cfg)[0]
    mu, std = encode(model, train.images, train.labels if model.num_classes else None)
    agg = aggregate.aggregate_posterior(mu, std, n=100)
    at.radio(key="vi_view").set_value("aggregate").run()
    assert _metrics(at)["KL(q(z) ‖ p(z))"] == f"{agg['kl']:.3f} nats"
    assert any(f"N = {len(train):,} training images" in c.value for c in at.caption)


def test_the_cli_with_its_defaults_prints_the_pages_numbers(at, capsys):
    """`python -m playground vae posterior` with no settings is the page with its defaults (grid, scan, samples)."""
    from playground.cli import main

    at.number_input(key="vi_index").set_value(4).run()
    page = _metrics(at)
    assert main(["vae", "posterior", "--checkpoint", str(DIGITS_2D), "--index", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert page["log p(x) (quadrature)"] == f"{out['log_px']:.3f}" and page["ELBO of the encoder"] == f"{out['elbo']:.3f}"
    last = out["iwae"][-1]
    assert page[f"IWAE, K = {last['k']}"] == f"{last['value']:.3f}"


def test_the_other_views_numbers_are_the_clis(at, capsys):
    """`vae amortise`, `vae aggregate` and `vae outlier` print what the page's views show for the same image."""
    from playground.cli import main

    def cli(*argv):
        assert main(["vae", *argv, "--checkpoint", str(DIGITS_2D), "--json"]) == 0
        return json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    at.number_input(key="vi_index").set_value(4).run()
    at.radio(key="vi_view").set_value("outlier").run()
    out = cli("outlier", "--index", "4")
    assert _metrics(at)["ELBO of test image #4"] == f"{out['elbo']:.2f}"
    assert _metrics(at)["test images with a lower ELBO"] == f"{out['percentile']:.1f}%"
    at.radio(key="vi_view").set_value("aggregate").run()
    agg = cli("aggregate")
    assert _metrics(at)["KL(q(z) ‖ p(z))"] == f"{agg['kl_aggregate_prior']:.3f} nats"
    assert _metrics(at)["prior draws where q(z) has no mass"] == f"{agg['hole_fraction']:.1%}"
    at.radio(key="vi_view").set_value("amortisation").run()
    table = at.table[0].value
    am = cli("amortise", "--index", "4", "--steps", "50")
    assert table.loc["ELBO, best Gaussian", "nats"] == pytest.approx(round(am["elbo_best_gaussian"], 4), abs=1e-4)
    assert table.loc["ELBO, encoder", "nats"] == pytest.approx(round(am["elbo_encoder"], 4), abs=1e-4)
    assert table.loc["log p(x)", "nats"] == pytest.approx(round(am["log_px"], 4), abs=1e-4)


def test_the_gradient_view_is_vae_gradients(at, capsys):
    from playground.cli import main

    at.number_input(key="vi_index").set_value(4).run()
    at.radio(key="vi_view").set_value("gradients").run()
    table = at.table[0].value
    assert main(["vae", "gradients", "--checkpoint", str(DIGITS_2D), "--index", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert table.loc["reparameterised", "mean"] == pytest.approx(round(out["reparam"]["mean"][0], 4), abs=1e-4)
    assert table.loc["score function", "mean"] == pytest.approx(round(out["score"]["mean"][0], 4), abs=1e-4)
    assert table.loc["reparameterised", "exact"] == pytest.approx(round(out["exact"][0], 4), abs=1e-4)


def test_the_compare_view_is_vae_compare(at, capsys, tmp_path):
    """`vae compare` prints the three panels' numbers and the sweep the page shows, from the same caches."""
    from playground.cli import main

    at.radio(key="vi_view").set_value("compare").run()
    at.button(key="vi_sweep").click().run()
    assert not at.exception
    grid = tmp_path / "three.png"
    assert main(["vae", "compare", "--checkpoint", str(DIGITS_2D), "--sweep", "--out", str(grid), "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    shown = [c for c in _captions(at) if "off the data" in c]
    assert shown == [f"decoded over the dotted box: {out[k]['off_data']:.0%} of it off the data (reconstruction "
                     f"MSE {out[k]['reconstruction_mse']:.4f})" for k in compare.KINDS]
    assert out["grid"] == compare.GRID_N
    from playground.vae.checkpoint import load_checkpoint
    from playground.vae.train import load_data

    cfg = load_checkpoint(DIGITS_2D)[0].cfg
    rows = compare.read_sweep(cfg, compare.SWEEP_SIZES, None, len(load_data(cfg)[0]))     # the page's cache
    assert out["sweep"] == rows and [r["latent"] for r in rows] == [2, 3]
    w, h = Image.open(grid).size                                    # three 12 x 12 grids of 8x8 digits, side by side
    assert h == 12 * 9 + 1 and w == 3 * (12 * 9 + 1) + 2 * 8


def test_a_link_opens_its_image_and_view_and_the_url_follows_the_page(tmp_path, monkeypatch):
    """The URL holds the model, image, view and grid (InspectorConfig): a shared link opens the same inspection,
    a bad value in it is reported and skipped, and the URL follows the widgets."""
    monkeypatch.setenv("PLAYGROUND_RUNS", str(tmp_path))
    app = AppTest.from_file(PAGE, default_timeout=90)
    app.query_params.update({"model": "digits-2d", "index": "12", "view": "outlier", "grid": "140", "log": "melt"})
    app.run()
    assert not app.exception
    assert app.number_input(key="vi_index").value == 12 and app.radio(key="vi_view").value == "outlier"
    assert "ELBO of test image #12" in _metrics(app)
    assert any("log" in w.value for w in app.warning)                 # reported, the rest of the link kept
    app.radio(key="vi_view").set_value("posterior").run()
    assert app.select_slider(key="vi_grid").value == 150               # the page's nearest grid
    app.number_input(key="vi_index").set_value(3).run()
    assert dict(app.query_params) == {"model": "digits-2d", "index": "3", "grid": "150"}


def test_leaving_and_coming_back_keeps_the_inspection(tmp_path, monkeypatch):
    """Another page in between (Streamlit drops the widgets' state) and another view in between (the grid's
    widget is not drawn) lose nothing: the page comes back on the same image, view and grid."""
    monkeypatch.setenv("PLAYGROUND_RUNS", str(tmp_path))
    app = AppTest.from_file(str(ROOT / "app/streamlit_app.py"), default_timeout=90)
    app.run()
    app.switch_page("views/vae_inference.py")
    app.query_params["model"] = "digits-2d"
    app.run()
    assert not app.exception
    app.select_slider(key="vi_grid").set_value(150).run()
    app.number_input(key="vi_index").set_value(8).run()
    app.radio(key="vi_view").set_value("outlier").run()
    app.radio(key="vi_view").set_value("posterior").run()
    assert app.select_slider(key="vi_grid").value == 150 and app.query_params["grid"] == "150"
    app.switch_page("views/home.py").run()
    assert not app.exception
    app.switch_page("views/vae_inference.py").run()
    assert not app.exception
    assert app.number_input(key="vi_index").value == 8 and app.select_slider(key="vi_grid").value == 150
    assert app.selectbox(key="vi_model").value == "pretrained: digits-2d"


def test_a_link_to_what_is_not_there_says_so(tmp_path, monkeypatch, engine):
    monkeypatch.setenv("PLAYGROUND_RUNS", str(tmp_path))
    app = AppTest.from_file(PAGE, default_timeout=90)
    app.query_params.update({"model": "digits-2d", "index": "5000"})
    app.run()
    assert not app.exception and app.number_input(key="vi_index").value == len(engine[1]) - 1   # its last
    assert any("test image 5000" in w.value for w in app.warning)
    app = AppTest.from_file(PAGE, default_timeout=90)
    app.query_params.update({"model": "no-such-model"})
    app.run()
    assert not app.exception and any("no-such-model" in w.value for w in app.warning)
