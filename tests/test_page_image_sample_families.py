"""The Sample page's model-specific sections through AppTest, on tiny runs of each family trained by the real
trainer on the bundled 8x8 digits (labelled): cgan's class x noise grid, pixelcnn's pixel-by-pixel sampler and
completion, the denoisers' steps and sampler choice and trajectory strip."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.views.image_model_views import W
from playground.images.config import ImageRunConfig
from playground.images.train import train

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = str(ROOT / "app/views/image_sample.py")
SMALL = {"cgan": {"g_width": 8, "d_width": 8, "latent_dim": 4},
         "pixelcnn": {"pixelcnn_width": 8, "pixelcnn_blocks": 1},
         "diffusion": {"unet_width": 8, "unet_mults": (1, 2), "timesteps": 100, "sample_steps": 10},
         "flow_matching": {"unet_width": 8, "unet_mults": (1, 2), "sample_steps": 5}}


def train_family_runs(root: Path, steps: int = 20) -> Path:
    """One tiny run of each new family (no scores: the views need only the checkpoints)."""
    for model, small in SMALL.items():
        cfg = ImageRunConfig(dataset="digits", model=model, steps=steps, batch_size=16, log_every=5,
                             sample_every=steps, checkpoint_every=steps, eval_every=0, final_eval=False,
                             device="cpu", **small)
        train(cfg, root / model)
    return root


@pytest.fixture(scope="session")
def family_runs(tmp_path_factory):
    return train_family_runs(tmp_path_factory.mktemp("family-runs"))


def K(runs: Path, model: str, name: str) -> str:
    """The key of a model view's widget on the page for the run `model` in `runs` (each run has its own)."""
    return W((str(runs / model),), name)


def open_run(runs: Path, model: str, **state) -> AppTest:
    at = AppTest.from_file(SAMPLE, default_timeout=60)
    at.session_state["smp_runs_dir"] = str(runs)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    label = next(o for o in at.selectbox(key="smp_run").options if o.startswith(f"{model} ({model} on digits"))
    at.selectbox(key="smp_run").set_value(label).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def test_cgan_run_shows_the_class_noise_grid_and_class_interpolation(family_runs):
    at = open_run(family_runs, "cgan")
    assert [t.label for t in at.tabs] == ["Class × noise", "Class interpolation", "Grid", "Interpolation"]
    assert any("conditional on 10 classes" in c.value for c in at.caption)
    assert any("rows: classes 0 to 9" in c for c in _image_captions(at))
    at.slider(key=K(family_runs, "cgan", "smp_cn_cols")).set_value(5).run()
    assert any("columns: 5 noise vectors" in c for c in _image_captions(at))
    at.selectbox(key=K(family_runs, "cgan", "smp_ci_b")).set_value(7).run()
    assert any("class 0 → class 7" in c for c in _image_captions(at))
    at.selectbox(key=K(family_runs, "cgan", "smp_class")).set_value(3).run()              # the plain grid, one class
    assert any("class 3" in c and c.startswith("seed 0") for c in _image_captions(at))
    assert not at.exception and not at.error


def _image_captions(at) -> list[str]:
    out = []
    for el in at.get("image"):
        out += [i.caption for i in el.proto.imgs]
    return out


def _progress(at) -> str:
    return at.get("progress")[0].proto.text


def test_pixelcnn_sampler_steps_plays_to_the_end_and_restarts(family_runs):
    at = open_run(family_runs, "pixelcnn")
    assert [t.label for t in at.tabs] == ["Pixel by pixel", "Completion", "Grid"]
    assert _progress(at).startswith("pixel 0 of 64")
    at.select_slider(key=K(family_runs, "pixelcnn", "smp_px_speed")).set_value(8).run()
    at.button(key=K(family_runs, "pixelcnn", "smp_px_step")).click().run()
    assert _progress(at).startswith("pixel 8 of 64") and "(paused)" in _progress(at)
    at.button(key=K(family_runs, "pixelcnn", "smp_px_play")).click().run()                   # each run of the fragment draws a frame
    assert at.button(key=K(family_runs, "pixelcnn", "smp_px_play")).label == "Pause" and "(playing)" in _progress(at)
    assert _progress(at).startswith("pixel 16 of 64")
    for _ in range(10):
        at.run()
    assert _progress(at).startswith("pixel 64 of 64 — done")
    assert at.button(key=K(family_runs, "pixelcnn", "smp_px_play")).label == "Play again" and at.button(key=K(family_runs, "pixelcnn", "smp_px_step")).disabled
    at.button(key=K(family_runs, "pixelcnn", "smp_px_restart")).click().run()
    assert _progress(at).startswith("pixel 0 of 64") and at.button(key=K(family_runs, "pixelcnn", "smp_px_play")).label == "Play"
    at.number_input(key=K(family_runs, "pixelcnn", "smp_px_seed")).set_value(3).run()         # new settings: a fresh, paused sampler
    assert _progress(at).startswith("pixel 0 of 64")
    assert not at.exception and not at.error


def test_pixelcnn_completion_and_grid_tabs(family_runs):
    at = open_run(family_runs, "pixelcnn", smp_view_pixelcnn="Completion")
    caps = _image_captions(at)
    assert any(c.startswith("test image, binarised") for c in caps)
    assert any(c == "8 completions (seed 0)" for c in caps)
    assert not at.get("progress")                                  # the sampler tab is not run
    at.radio(key=K(family_runs, "pixelcnn", "smp_cp_region")).set_value("rows from").run()
    at.slider(key=K(family_runs, "pixelcnn", "smp_cp_row")).set_value(6).run()
    at.radio(key=K(family_runs, "pixelcnn", "smp_cp_region")).set_value("centre square").run()
    assert not at.exception and not at.error
    at = open_run(family_runs, "pixelcnn", smp_view_pixelcnn="Grid")
    assert any(c == "16 samples, seed 0" for c in _image_captions(at))


@pytest.mark.parametrize("model", ["diffusion", "flow_matching"])
def test_denoiser_samples_steps_method_and_trajectory(family_runs, model):
    at = open_run(family_runs, model)
    assert [t.label for t in at.tabs] == ["Samples", "Trajectory"]
    own, other = ("ddim", "ddpm") if model == "diffusion" else ("midpoint", "euler")
    steps = 10 if model == "diffusion" else 5
    assert at.radio(key=K(family_runs, model, "smp_dn_method")).value == own
    assert at.select_slider(key=K(family_runs, model, "smp_dn_steps")).value == steps
    assert any(c == f"16 samples, seed 0, {steps} {own} steps" for c in _image_captions(at))
    at.radio(key=K(family_runs, model, "smp_dn_method")).set_value(other).run()
    at.select_slider(key=K(family_runs, model, "smp_dn_steps")).set_value(2).run()
    assert any(c == f"16 samples, seed 0, 2 {other} steps" for c in _image_captions(at))
    at = open_run(family_runs, model, smp_view_denoiser="Trajectory")
    want = "0, 1, 2, 3, 4, 6, 7, 8, 9, 10 of 10" if model == "diffusion" else "0, 1, 2, 3, 4, 5 of 5"
    assert any(c.startswith("one sample's way from noise") and f"the state after {want} steps; below, the model's guess" in c
               for c in _image_captions(at)), _image_captions(at)
    at.slider(key=K(family_runs, model, "smp_tr_states")).set_value(3).run()
    assert any(f"the state after 0, {steps // 2}, {steps} of {steps} steps;" in c for c in _image_captions(at))
    assert not at.exception and not at.error


def test_switching_runs_resets_the_views_to_the_new_runs_defaults(family_runs):
    at = open_run(family_runs, "diffusion")
    at.select_slider(key=K(family_runs, "diffusion", "smp_dn_steps")).set_value(2).run()
    at.radio(key=K(family_runs, "diffusion", "smp_dn_method")).set_value("ddpm").run()
    label = next(o for o in at.selectbox(key="smp_run").options if o.startswith("flow_matching"))
    at.selectbox(key="smp_run").set_value(label).run()
    assert not at.exception and not at.error
    assert at.select_slider(key=K(family_runs, "flow_matching", "smp_dn_steps")).value == 5
    assert at.radio(key=K(family_runs, "flow_matching", "smp_dn_method")).value == "midpoint"
    label = next(o for o in at.selectbox(key="smp_run").options if o.startswith("diffusion"))
    at.selectbox(key="smp_run").set_value(label).run()          # back: the diffusion run's own settings again
    assert at.select_slider(key=K(family_runs, "diffusion", "smp_dn_steps")).value == 2
    assert any(c == "16 samples, seed 0, 2 ddpm steps" for c in _image_captions(at))
