"""Image models — Sample: grids from a run's checkpoint and each model family's own views.

GAN and VAE runs: grid, truncation trick, latent interpolation; a class-conditional GAN also its class x noise
grid and class interpolation. PixelCNN runs: the pixel-by-pixel sampler (play, pause, step) and completion of a
test image. Diffusion and flow matching: samples at a chosen number of steps and sampler, and one trajectory.
The views' computations are in playground.images.model_views; the sections in image_*_views.py beside this."""

from pathlib import Path

import streamlit as st

from app.views import image_model_views as MV
from app.views import image_pixel_views as PV
from playground.errors import PlaygroundError
from playground.images import sampling
from playground.images.pretrained import card_summary
from playground.runs.root import runs_root
from playground.runs.rundir import RunDir, list_runs

SS = st.session_state

st.title("Image models: sample")
with st.sidebar:
    runs_dir = st.text_input("runs folder", value=str(runs_root()), key="smp_runs_dir")
choices: dict[str, str] = {}
for r in list_runs(runs_dir, kind="images"):
    if r["state"] != "queued":
        choices[f"{r['name']} ({r['model']} on {r['dataset']}, step {r['step']})"] = r["path"]
for r in sampling.pretrained_runs():
    choices[f"pretrained: {r['name']} ({r['model']} on {r['dataset']})"] = r["path"]
if not choices:
    st.info(f"No trained runs in `{runs_dir}` yet: train one on the **Train** page (or with "
            "`python -m playground images train ...`).")
    st.stop()

by_name = {Path(path).name: lab for lab, path in choices.items()}      # the name a link carries: ?run=NAME
if "smp_run" not in SS and st.query_params.get("run") in by_name:
    SS["smp_run"] = by_name[st.query_params["run"]]
c1, c2, c3 = st.columns([3, 1, 1])
label = c1.selectbox("Run", list(choices), key="smp_run")
run_path = choices[label]
if st.query_params.get("run") != Path(run_path).name:
    st.query_params["run"] = Path(run_path).name
available = RunDir(run_path).checkpoints()
if not available:
    st.warning("This run has no checkpoint yet.")
    st.stop()
ckpt = c2.selectbox("Checkpoint", available, key="smp_ckpt")
use_ema = c3.toggle("EMA weights", value=True, key="smp_ema", help="sample with the moving average of G")
try:
    mtime = (Path(run_path) / "checkpoints" / f"{ckpt}.pt").stat().st_mtime
    key = (run_path, ckpt, bool(use_ema), mtime)
    gen = MV.get(key)
except (PlaygroundError, OSError) as e:
    st.error(str(e))
    st.stop()
weights = "generator" if gen.has_latent else "weights"
st.caption(f"{gen.cfg.model} on {gen.cfg.dataset}, {gen.resolution}px, step {gen.step}"
           + (f", EMA {weights}" if gen.ema else f", raw {weights}")
           + (f", conditional on {gen.num_classes} classes" if gen.num_classes else ""))
try:
    card = sampling.card_of(run_path)
except PlaygroundError:
    card = None
if card and card.get("metrics", {}).get("fid") is not None:
    st.caption(f"Shipped model, card `{card['name']}.json`: {card_summary(card)}")
scale = sampling.auto_scale(gen.resolution, target=64)   # 8x8 digits shown at 64 px each
stem = Path(run_path).name

if gen.family == "pixelcnn":
    tabs = st.tabs(["Pixel by pixel", "Completion", "Grid"], key="smp_view_pixelcnn", on_change="rerun")
    if tabs[0].open:
        with tabs[0]:
            PV.pixel_sampler(key, scale)
    if tabs[1].open:
        with tabs[1]:
            PV.completion(key, scale)
    if tabs[2].open:
        with tabs[2]:
            PV.grid(key, scale, stem)
    st.stop()
if gen.family == "denoiser":
    steps, method, label = MV.denoiser_controls(key)
    tabs = st.tabs(["Samples", "Trajectory"], key="smp_view_denoiser", on_change="rerun")
    if tabs[0].open:
        with tabs[0]:
            MV.denoiser_samples(key, scale, stem, steps, method, label)
    if tabs[1].open:
        with tabs[1]:
            MV.denoiser_trajectory(key, scale, stem, steps, method, label)
    st.stop()

names = ["Grid", "Interpolation"]
if gen.num_classes:
    names = ["Class × noise", "Class interpolation", *names]
tabs = st.tabs(names)
if gen.num_classes:
    with tabs[0]:
        MV.cgan_class_noise(key, scale, stem)
    with tabs[1]:
        MV.cgan_class_interpolation(key, scale, stem)
tab_grid, tab_interp = tabs[-2:]
with tab_grid:
    c1, c2, c3, c4 = st.columns(4) if gen.num_classes else (*st.columns(3), None)
    n = c1.select_slider("images", [16, 36, 64, 100], value=64, key="smp_n")
    seed = c2.number_input("seed", 0, 2**31 - 1, 0, key="smp_seed")
    trunc_on = c3.toggle("truncation trick", key="smp_trunc_on",
                         help="redraw noise coordinates beyond ±t: less variety, higher fidelity")
    label = MV.class_choice(gen, "class", MV.W(key, "smp_class"), c4) if c4 else None
    trunc = st.slider("truncation t", 0.1, 3.0, 1.0, 0.1, key="smp_trunc", disabled=not trunc_on)
    try:
        images = sampling.grid(gen, int(n), int(seed), trunc if trunc_on else None, label=label)
        png = sampling.grid_png(images, scale=scale)
        st.image(png, caption=f"seed {seed}" + (f", truncation {trunc:g}" if trunc_on else "")
                 + ("" if not gen.num_classes else ", each class equally often" if label is None
                    else f", class {label}"))
        st.download_button("Download PNG", png, file_name=f"{Path(run_path).name}-seed{seed}.png",
                           mime="image/png", key="smp_download", icon=":material/download:")
    except PlaygroundError as e:
        st.error(str(e))

with tab_interp:
    c1, c2, c3, c4 = st.columns(4)
    seed_a = c1.number_input("from seed", 0, 2**31 - 1, 0, key="smp_seed_a")
    seed_b = c2.number_input("to seed", 0, 2**31 - 1, 1, key="smp_seed_b")
    steps = c3.slider("steps", 3, 16, sampling.INTERPOLATION_STEPS, key="smp_steps")
    mode = c4.radio("path", ["spherical", "linear", "both"], key="smp_mode", horizontal=True,
                    help="spherical (slerp) keeps the noise norm typical of a Gaussian; linear cuts through the "
                         "low-norm middle")
    for m in (["spherical", "linear"] if mode == "both" else [mode]):
        strip = sampling.interpolation(gen, int(seed_a), int(seed_b), int(steps), m)
        png = sampling.grid_png(strip, nrow=int(steps), scale=scale)
        st.image(png, caption=f"{m} interpolation, seed {seed_a} → {seed_b}"
                 + (", class 0 throughout" if gen.num_classes else ""))
        st.download_button(f"Download {m} PNG", png, file_name=f"{Path(run_path).name}-{m}-{seed_a}-{seed_b}.png",
                           mime="image/png", key=f"smp_download_{m}")
