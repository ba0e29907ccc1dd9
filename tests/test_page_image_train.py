"""The image Train page driven through AppTest, on run directories made by the real trainer."""

import math
import os
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from playground.data import ImageDataset
from playground.images.config import ImageRunConfig
from playground.images.train import train
from playground.runs import launcher
from playground.runs.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
TRAIN = str(ROOT / "app/views/image_train.py")
SAMPLE = str(ROOT / "app/views/image_sample.py")


def make_run(runs: Path, name: str, steps: int = 6, classes: int | None = None, **kw) -> Path:
    g = torch.Generator().manual_seed(0)
    data = ImageDataset(name="tiny", images=torch.rand(64, 1, 8, 8, generator=g),
                        labels=torch.arange(64) % classes if classes else None, num_classes=classes)
    cfg = ImageRunConfig(**{"steps": steps, "batch_size": 8, "g_width": 8, "d_width": 8, "latent_dim": 4, "log_every": 1,
                            "sample_every": 2, "checkpoint_every": 3, "eval_every": 3, "eval_samples": 32,
                            "features": "random", "device": "cpu", **kw})
    train(cfg, runs / name, dataset=data)
    return runs / name


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    make_run(root, "alpha")
    make_run(root, "beta", model="vae", ema_decay=0.0)         # as the VAE presets: no EMA
    (root / "not-a-run").mkdir()
    return root


def page(path, runs_dir, key):
    at = AppTest.from_file(path, default_timeout=60)
    at.session_state[key] = str(runs_dir)
    at.run()
    assert not at.exception, at.exception
    return at


def test_train_page_with_no_runs_explains_what_to_do(tmp_path):
    at = page(TRAIN, tmp_path / "empty", "img_runs_dir")
    assert any("No runs" in i.value for i in at.info)
    assert at.button(key="img_launch") is not None


def test_train_page_shows_a_finished_run(runs):
    at = page(TRAIN, runs, "img_runs_dir")
    assert at.selectbox(key="img_selected").options == ["beta", "alpha"] or \
        set(at.selectbox(key="img_selected").options) == {"alpha", "beta"}
    at.selectbox(key="img_selected").set_value("alpha").run()
    assert not at.exception and not at.error
    assert any("completed" in c.value for c in at.caption)
    charts = at.get("plotly_chart")
    assert len(charts) == 2                                  # losses + FID
    labels = [m.label for m in at.metric]
    assert labels == ["FID", "KID", "precision", "recall"]
    assert any("random-cnn" in c.value for c in at.caption)  # every score says which features it used
    assert at.select_slider(key="img_sample_idx_alpha").value == 6
    assert len(at.get("image")) == 1
    caption = lambda: at.get("image")[0].proto.imgs[0].caption
    assert caption().startswith("fixed seed, EMA weights, step 6")
    at.select_slider(key="img_sample_idx_alpha").set_value(2).run()
    assert at.select_slider(key="img_sample_idx_alpha").value == 2
    assert at.button(key="img_stop").disabled and not at.button(key="img_resume").disabled
    at.multiselect(key="img_compare").set_value(["beta"]).run()
    assert not at.exception
    at.selectbox(key="img_selected").set_value("beta").run()
    assert "raw weights (no EMA)" in caption()                      # the VAE samples with its own weights


def test_stop_button_requests_a_graceful_stop(tmp_path):
    path = make_run(tmp_path, "live", steps=2)
    RunDir(path).write_status(state="running", pid=os.getpid())      # alive: this process
    at = page(TRAIN, tmp_path, "img_runs_dir")
    assert not at.button(key="img_stop").disabled and at.button(key="img_delete").disabled
    at.button(key="img_stop").click().run()
    assert RunDir(path).stop_requested()


def test_delete_button_removes_the_run(tmp_path):
    path = make_run(tmp_path, "gone", steps=2)
    make_run(tmp_path, "kept", steps=2)
    at = page(TRAIN, tmp_path, "img_runs_dir")
    at.selectbox(key="img_selected").set_value("gone").run()
    at.button(key="img_delete").click().run()
    assert not path.exists() and (tmp_path / "kept").exists()
    assert not at.exception


@pytest.mark.slow
def test_launch_from_the_page_runs_a_real_training_process(tmp_path):
    at = AppTest.from_file(TRAIN, default_timeout=60)
    at.session_state["img_runs_dir"] = str(tmp_path)
    for k, v in {"steps": 20, "batch_size": 16, "g_width": 16, "d_width": 16, "latent_dim": 8, "sample_every": 10,
                 "checkpoint_every": 10, "eval_every": 0, "final_eval": False, "features": "random", "threads": 1,
                 "log_every": 5}.items():
        at.session_state["img_" + k] = v
    at.session_state["img_name"] = "from-page"
    at.run()
    at.button(key="img_launch").click().run()
    assert not at.exception and not at.error
    path = tmp_path / "from-page"
    assert RunDir.open(path).read_status()["state"] in ("queued", "running", "completed")
    assert at.selectbox(key="img_selected").value == "from-page"
    st = launcher.wait(path, timeout=120)
    assert st["state"] == "completed", (st, (path / "process.out").read_text()[-2000:])
    at.run()
    assert any("completed" in c.value for c in at.caption)
    assert [s for s, _ in RunDir(path).samples()] == [10, 20]


def test_model_choice_shows_its_own_settings(tmp_path):
    at = page(TRAIN, tmp_path, "img_runs_dir")
    labels = {n.label for n in at.number_input}
    assert {"G width", "D width", "extra 3x3 conv layers in G and D"} <= labels and "VAE width" not in labels
    at.selectbox(key="img_model").set_value("vae").run()
    assert not at.exception
    labels = {n.label for n in at.number_input}
    assert "VAE width" in labels and not labels & {"G width", "D width", "extra 3x3 conv layers in G and D"}


@pytest.mark.parametrize("model,own,conditional", [
    ("cgan", {"G width", "D width"}, None),
    ("pixelcnn", {"channels", "residual blocks"}, False),
    ("diffusion", {"U-Net width", "noise levels T", "sampling steps (grids and scores)"}, True),
    ("flow_matching", {"U-Net width", "sampling steps (grids and scores)"}, True)])
def test_every_family_has_its_form_and_launches_its_config(tmp_path, monkeypatch, model, own, conditional):
    at = page(TRAIN, tmp_path, "img_runs_dir")
    at.selectbox(key="img_dataset").set_value("mnist5k").run()
    at.selectbox(key="img_model").set_value(model).run()
    assert not at.exception and not at.error
    labels = {n.label for n in at.number_input}
    assert own <= labels
    assert ("img_loss" in [s.key for s in at.selectbox]) == (model == "cgan")   # only GANs have an objective
    if model != "cgan":
        assert "G width" not in labels and "D width" not in labels
    if conditional is not None:
        at.checkbox(key="img_conditional").set_value(conditional).run()
    if model in ("diffusion", "flow_matching"):
        at.selectbox(key="img_unet_choice").set_value("1,2").run()
        assert at.number_input(key="img_sample_steps").value == (50 if model == "diffusion" else 25)
    started = []
    monkeypatch.setattr(launcher, "start", lambda cfg, name=None, **kw: started.append(cfg) or tmp_path / "x")
    at.button(key="img_launch").click().run()
    assert not at.exception and not at.error
    (cfg,) = started
    assert cfg.model == model and cfg.dataset == "mnist5k" and cfg.loss == ("hinge" if model == "cgan" else None)
    assert cfg.is_conditional == (model == "cgan" or bool(conditional))
    if model in ("diffusion", "flow_matching"):
        assert cfg.unet_mults == (1, 2)
    at.selectbox(key="img_model").set_value("dcgan").run()                 # back to an unconditional GAN
    assert not at.exception and not at.error and at.selectbox(key="img_loss").value == "nonsaturating"


def test_objective_selector_is_independent_of_the_architecture(tmp_path, monkeypatch):
    at = page(TRAIN, tmp_path, "img_runs_dir")
    assert at.selectbox(key="img_loss").value == "nonsaturating"          # the DCGAN preset's pairing
    assert set(at.selectbox(key="img_loss").options) == {"nonsaturating", "minimax", "least squares", "hinge",
                                                          "wgan", "wgan gp"}
    at.selectbox(key="img_model").set_value("sngan").run()
    assert at.selectbox(key="img_loss").value == "hinge"                   # a new model starts with its own
    at.selectbox(key="img_loss").set_value("least_squares").run()          # ...and any other may be chosen
    assert not at.exception and not at.error
    started = []
    monkeypatch.setattr(launcher, "start", lambda cfg, name=None, **kw: started.append(cfg) or tmp_path / "x")
    at.button(key="img_launch").click().run()
    assert started[0].model == "sngan" and started[0].loss == "least_squares"
    at.selectbox(key="img_loss").set_value("wgan").run()
    assert "weight clipping c" in {n.label for n in at.number_input}       # what the objective needs, shown
    at.selectbox(key="img_model").set_value("vae").run()
    assert not at.exception and not at.error
    assert "img_loss" not in [s.key for s in at.selectbox]                 # a VAE has no adversarial objective


def test_augmentation_is_a_gan_setting_that_reaches_the_config(tmp_path, monkeypatch):
    at = page(TRAIN, tmp_path, "img_runs_dir")
    at.selectbox(key="img_model").set_value("sngan").run()
    at.selectbox(key="img_augment").set_value("translation_cutout").run()
    started = []
    monkeypatch.setattr(launcher, "start", lambda cfg, name=None, **kw: started.append(cfg) or tmp_path / "x")
    at.button(key="img_launch").click().run()
    assert not at.exception and not at.error and started[0].augment == "translation_cutout"
    at.selectbox(key="img_model").set_value("diffusion").run()            # no D: no augmentation, and no error
    assert "img_augment" not in [s.key for s in at.selectbox]
    at.button(key="img_launch").click().run()
    assert not at.exception and not at.error and started[1].augment == "none"


def test_resume_is_offered_for_a_run_killed_before_its_first_checkpoint(tmp_path, monkeypatch):
    import subprocess
    import sys

    from playground.configs import to_dict
    from playground.runs.liveness import this_host

    run = RunDir.create(tmp_path / "early", to_dict(ImageRunConfig(steps=3)), "images")   # config, no checkpoint
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    run.write_status(state="running", pid=gone.pid, host=this_host())                     # its process died
    run.release()
    at = page(TRAIN, tmp_path, "img_runs_dir")
    assert not at.button(key="img_resume").disabled
    resumed = []
    monkeypatch.setattr(launcher, "resume", lambda path, steps=None, **kw: resumed.append(path))
    at.button(key="img_resume").click().run()
    assert resumed == [run.path] and not at.exception


def test_likelihood_table_sets_pixelcnn_beside_the_binarised_vaes_bounds(tmp_path):
    make_run(tmp_path, "pcnn", steps=2, model="pixelcnn", pixelcnn_width=8, pixelcnn_blocks=1, eval_every=0,
             eval_samples=16)
    make_run(tmp_path, "bvae", steps=2, model="vae", binarize=True, eval_every=0, eval_samples=16)
    make_run(tmp_path, "cpcnn", steps=2, classes=3, model="pixelcnn", conditional=True, pixelcnn_width=8, pixelcnn_blocks=1,
             eval_every=0, eval_samples=16)
    make_run(tmp_path, "gan", steps=2, eval_every=0, eval_samples=16)
    at = page(TRAIN, tmp_path, "img_runs_dir")
    assert not at.exception and not at.error
    (rows,) = [d.value for d in at.dataframe if "number" in d.value.columns]
    assert set(rows["run"]) == {"pcnn", "bvae", "cpcnn"}                   # the GAN has no likelihood
    assert set(rows["number"]) == {"exact -log p(x)", "-ELBO (a bound)", "-IWAE K=64 (a tighter bound)",
                                   "exact -log p(x | y), given the label",
                                   "exact -log p(x), its mixture over the labels"}
    cond = RunDir.open(tmp_path / "cpcnn").read_status()
    mine = rows[rows["run"] == "cpcnn"].set_index("number")["nats"]
    assert mine["exact -log p(x | y), given the label"] == round(cond["test_nll_nats"], 2)
    assert mine["exact -log p(x), its mixture over the labels"] == round(cond["test_marginal_nll_nats"], 2)
    assert set(rows[rows["run"] == "pcnn"]["number"]) == {"exact -log p(x)"}
    pcnn = RunDir.open(tmp_path / "pcnn").read_status()
    exact = rows[rows["run"] == "pcnn"].iloc[0]
    assert exact["nats"] == round(pcnn["test_nll_nats"], 2)
    assert exact["bits/dim"] == pytest.approx(pcnn["test_nll_nats"] / (64 * math.log(2)), abs=1e-4)
    vae = rows[rows["run"] == "bvae"].set_index("number")["nats"]
    assert vae["-IWAE K=64 (a tighter bound)"] <= vae["-ELBO (a bound)"] + 1.0
