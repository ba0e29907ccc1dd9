"""Image models — Sample: grids from a run's checkpoint, the truncation trick, latent interpolation, PNG download."""

from pathlib import Path

import streamlit as st

from playground.errors import PlaygroundError
from playground.images import sampling
from playground.runs.root import runs_root
from playground.runs.rundir import RunDir, list_runs

SS = st.session_state
PRETRAINED_RUNS = sampling.PRETRAINED_RUNS


@st.cache_resource(max_entries=8, show_spinner=False)
def _generator(path: str, checkpoint: str, ema: bool, mtime: float):
    return sampling.load_generator(path, checkpoint, use_ema=ema)


st.title("Image models: sample")
with st.sidebar:
    runs_dir = st.text_input("runs folder", value=str(runs_root()), key="smp_runs_dir")
choices: dict[str, str] = {}
for r in list_runs(runs_dir, kind="images"):
    if r["state"] != "queued":
        choices[f"{r['name']} ({r['model']} on {r['dataset']}, step {r['step']})"] = r["path"]
for r in list_runs(PRETRAINED_RUNS, kind="images"):
    choices[f"pretrained: {r['name']} ({r['model']} on {r['dataset']})"] = r["path"]
if not choices:
    st.info(f"No trained runs in `{runs_dir}` yet: train one on the **Train** page (or with "
            "`python -m playground images train ...`).")
    st.stop()

c1, c2, c3 = st.columns([3, 1, 1])
label = c1.selectbox("Run", list(choices), key="smp_run")
run_path = choices[label]
available = RunDir(run_path).checkpoints()
if not available:
    st.warning("This run has no checkpoint yet.")
    st.stop()
ckpt = c2.selectbox("Checkpoint", available, key="smp_ckpt")
use_ema = c3.toggle("EMA weights", value=True, key="smp_ema", help="sample with the moving average of G")
try:
    mtime = (Path(run_path) / "checkpoints" / f"{ckpt}.pt").stat().st_mtime
    gen = _generator(run_path, ckpt, use_ema, mtime)
except (PlaygroundError, OSError) as e:
    st.error(str(e))
    st.stop()
st.caption(f"{gen.cfg.model} on {gen.cfg.dataset}, {gen.net.resolution}px, step {gen.step}"
           + (", EMA generator" if gen.ema else ", raw generator"))
try:
    card = sampling.card_of(run_path)
except PlaygroundError:
    card = None
if card and card.get("metrics", {}).get("fid") is not None:
    m = card["metrics"]
    st.caption(f"Shipped model, card `{card['name']}.json`: FID {m['fid']:.2f} over {m['generated_images']} images "
               f"against {m['reference']}, where the dataset's test split scores {m['fid_test_vs_train']:.2f}; "
               f"precision {m['precision']:.2f}, recall {m['recall']:.2f} (test split: "
               f"{m['precision_test_vs_train']:.2f}, {m['recall_test_vs_train']:.2f}). Features: {m['fid_features']}.")
scale = sampling.auto_scale(gen.net.resolution, target=64)   # 8x8 digits shown at 64 px each

tab_grid, tab_interp = st.tabs(["Grid", "Interpolation"])
with tab_grid:
    c1, c2, c3 = st.columns(3)
    n = c1.select_slider("images", [16, 36, 64, 100], value=64, key="smp_n")
    seed = c2.number_input("seed", 0, 2**31 - 1, 0, key="smp_seed")
    trunc_on = c3.toggle("truncation trick", key="smp_trunc_on",
                         help="redraw noise coordinates beyond ±t: less variety, higher fidelity")
    trunc = st.slider("truncation t", 0.1, 3.0, 1.0, 0.1, key="smp_trunc", disabled=not trunc_on)
    try:
        images = sampling.grid(gen, int(n), int(seed), trunc if trunc_on else None)
        png = sampling.grid_png(images, scale=scale)
        st.image(png, caption=f"seed {seed}" + (f", truncation {trunc:g}" if trunc_on else ""))
        st.download_button("Download PNG", png, file_name=f"{Path(run_path).name}-seed{seed}.png",
                           mime="image/png", key="smp_download", icon=":material/download:")
    except PlaygroundError as e:
        st.error(str(e))

with tab_interp:
    c1, c2, c3, c4 = st.columns(4)
    seed_a = c1.number_input("from seed", 0, 2**31 - 1, 0, key="smp_seed_a")
    seed_b = c2.number_input("to seed", 0, 2**31 - 1, 1, key="smp_seed_b")
    steps = c3.slider("steps", 3, 16, 10, key="smp_steps")
    mode = c4.radio("path", ["spherical", "linear", "both"], key="smp_mode", horizontal=True,
                    help="spherical (slerp) keeps the noise norm typical of a Gaussian; linear cuts through the "
                         "low-norm middle")
    for m in (["spherical", "linear"] if mode == "both" else [mode]):
        strip = sampling.interpolation(gen, int(seed_a), int(seed_b), int(steps), m)
        png = sampling.grid_png(strip, nrow=int(steps), scale=scale)
        st.image(png, caption=f"{m} interpolation, seed {seed_a} → {seed_b}")
        st.download_button(f"Download {m} PNG", png, file_name=f"{Path(run_path).name}-{m}-{seed_a}-{seed_b}.png",
                           mime="image/png", key=f"smp_download_{m}")
