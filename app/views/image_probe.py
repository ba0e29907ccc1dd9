"""Image models — probe the scores: what FID and IS see (disturbed test images), a memorisation check (samples
beside their nearest training images), and DCGAN latent arithmetic on a generator's noise."""

import streamlit as st
import torch

from app.components.config_widgets import seed_from_url, sync_url, widget
from playground.errors import PlaygroundError
from playground.images import arithmetic as AR
from playground.images import probe as P
from playground.images import sampling
from playground.images.disturb import DISTURBANCES, TITLES
from playground.images.probe_plots import distance_histogram_figure, pick_grid_figure, score_curve_figure
from playground.pictures import grid_image
from playground.runs.root import runs_root
from playground.runs.rundir import list_runs

SS = st.session_state
DATASETS = {"mnist5k": "mnist5k (28×28 MNIST)", "digits": "digits (8×8, sklearn)"}     # ProbeConfig's choices
GROUPS = ("A", "B", "C")


@st.cache_resource(max_entries=4, show_spinner="loading the dataset and its classifier…")
def _data(dataset: str, resolution: int | None = None, channels: int | None = None):
    return P.probe_data(dataset, resolution, channels)


@st.cache_data(max_entries=32, show_spinner=False)
def _curve(dataset: str, kind: str, strengths: tuple, n_test: int, seed: int) -> dict:
    return P.curve(_data(dataset), kind, strengths, n_test, seed)


@st.cache_resource(max_entries=4, show_spinner=False)
def _generator(path: str):
    return sampling.load_model(path)


@st.cache_data(max_entries=8, show_spinner="finding nearest training images…")
def _memorisation(path: str, n: int, seed: int, k: int):
    gen = _generator(path)
    return P.memorisation(gen, _data(gen.cfg.dataset, gen.resolution, gen.channels), n, seed, k)


st.title("Image models: probe the scores")
st.caption("Scores here are computed in the features (FID) and the softmax (IS) of the dataset's own small "
           "classifier, not Inception-v3: compare them only with scores in the same features.")

# ---------------------------------------------------------------- what the scores see
st.header("What the scores see")
st.markdown("Disturb the real **test** images more and more, and score them against the **training** images: "
            "a good score worsens steadily with every kind of damage, including the ones a model makes "
            "(dropping classes, repeating one image).")
for problem in seed_from_url(P.ProbeConfig, "pr_", "pr_seeded"):      # once a session: a shared link's experiment
    st.warning(f"Ignored in the link: {problem}")
c1, c2, c3 = st.columns([1.2, 2, 1.3])
dataset = c1.selectbox("dataset", list(DATASETS), format_func=DATASETS.get, key="pr_dataset")
kinds = c2.multiselect("disturbances", list(DISTURBANCES), format_func=TITLES.get, key="pr_kinds")
strengths_text = c3.text_input("strengths (0 to 1)", key="pr_strengths")
c4, c5, _ = st.columns([1, 1, 2])
n_test = widget(P.ProbeConfig, "n_test", "pr_", c4, label="test images", step=50)
seed = widget(P.ProbeConfig, "seed", "pr_", c5)
sync_url(P.ProbeConfig(dataset=dataset, kinds=tuple(kinds), strengths=strengths_text, n_test=int(n_test),
                       seed=int(seed)))
if st.button("Compute score curves", type="primary", key="pr_go"):
    try:
        strengths = P.parse_strengths(strengths_text)
        if not kinds:
            raise PlaygroundError("choose at least one disturbance")
        bar = st.progress(0.0, text="scoring…")
        curves = []
        for i, kind in enumerate(kinds):
            bar.progress(i / len(kinds), text=f"scoring {TITLES[kind]} at {len(strengths)} strengths…")
            curves.append(_curve(dataset, kind, strengths, int(n_test), int(seed)))
        bar.empty()
        SS["pr_curves"] = curves
    except PlaygroundError as e:
        st.error(str(e))
if SS.get("pr_curves"):
    curves = SS["pr_curves"]
    st.plotly_chart(score_curve_figure(curves), key="pr_curve_chart")
    st.caption(f"FID features: {curves[0]['fid_features']}; IS: {curves[0].get('is_features', '')}. "
               "Strength 0 is the test split itself: its FID is the floor a perfect model would reach.")

# ---------------------------------------------------------------- memorisation
st.header("Memorisation check")
st.markdown("Is the model copying its training set? Each sample is shown beside its nearest training images; "
            "if samples sit much closer to the training set than unseen test images do, it memorises.")
choices: dict[str, str] = {}
for rows, tag in ((sampling.pretrained_runs(), "pretrained: "), (list_runs(runs_root(), kind="images"), "")):
    for r in rows:
        if r["state"] != "queued":
            choices[f"{tag}{r['name']} ({r['model']} on {r['dataset']})"] = r["path"]
if not choices:
    st.info("No image runs to probe: train one on the **Train** page.")
    st.stop()
m1, m2, m3, m4 = st.columns([3, 1, 1, 1])
run_label = m1.selectbox("run", list(choices), key="pr_run")
n_samples = m2.number_input("samples", 4, 512, P.DEFAULT_SAMPLES, step=4, key="pr_nsamples")
k_near = m3.number_input("neighbours shown", 1, 8, P.DEFAULT_NEIGHBOURS, key="pr_k")
mseed = m4.number_input("sample seed", 0, 10_000, 0, key="pr_mseed")
if st.button("Find nearest training images", key="pr_mem_go"):
    SS["pr_mem"] = (choices[run_label], int(n_samples), int(mseed), int(k_near))
if SS.get("pr_mem"):
    try:
        samples, train_imgs, mem = _memorisation(*SS["pr_mem"])
    except PlaygroundError as e:
        st.error(str(e))
    else:
        spaces = list(mem)
        space = st.radio("nearest in", spaces, horizontal=True, key="pr_space")
        res = mem[space]
        s = res["summary"]
        st.markdown(f"Median nearest distance: samples **{s['sample_median']:.3g}**, test images "
                    f"**{s['test_median']:.3g}** (ratio {s['ratio']:.2f}); "
                    f"{100 * s['share_below_test_q05']:.0f}% of samples are closer than the closest 5% of test "
                    "images (about 5% for a model that does not copy).")
        left, right = st.columns([1, 1.3])
        rows = []
        show = min(8, len(samples))
        for i in range(show):
            rows.append(samples[i:i + 1])
            rows.append(train_imgs[res["neighbours"][i]])
        pic = grid_image(torch.cat(rows), nrow=1 + res["neighbours"].shape[1], pad=2,
                         upscale=max(1, 48 // samples.shape[-1]))
        left.image(pic, caption=f"first column: a sample; then its nearest training images in {space}")
        right.plotly_chart(distance_histogram_figure(res["sample_d"].numpy(), res["test_d"].numpy(), space),
                           key="pr_hist")

# ---------------------------------------------------------------- latent arithmetic
st.header("Latent arithmetic")
st.markdown("DCGAN's vector arithmetic: pick samples into groups by clicking them, the page averages each "
            "group's noise vectors and decodes **A − B + C** (the first picture is the result itself, the "
            "others add a little noise to it).")
a1, a2, a3 = st.columns([1, 1, 2])
grid_n = a1.number_input("samples in the grid", 8, 64, 32, step=8, key="pr_ar_n")
ar_seed = a2.number_input("grid seed", 0, 10_000, 0, key="pr_ar_seed")
target = a3.radio("a click puts the sample into group", GROUPS, horizontal=True, key="pr_ar_target")
try:
    gen = _generator(choices[run_label])
except PlaygroundError as e:
    st.error(str(e))
    st.stop()
if not gen.has_latent:
    st.info(f"Latent arithmetic needs a noise vector behind each sample (a GAN or VAE run); {run_label} draws "
            "without one. Choose a GAN or VAE run above.")
    st.stop()
z = AR.sample_noise(int(grid_n), gen.latent_dim, seed=int(ar_seed))
imgs = gen.images(z).numpy()
for g in GROUPS:                                   # drop picks the (smaller) grid no longer has
    SS[f"pr_ar_{g}"] = [i for i in SS.get(f"pr_ar_{g}", []) if i < len(z)]
event = SS.get("pr_ar_grid")
points = tuple(p.get("point_index") for p in (event or {}).get("selection", {}).get("points", [])
               if p.get("curve_number", 1) == 1)
if points and points != SS.get("pr_ar_last"):
    SS["pr_ar_last"] = points
    for i in points:
        if i is not None and i < len(z) and i not in SS[f"pr_ar_{target}"]:
            SS[f"pr_ar_{target}"] = SS[f"pr_ar_{target}"] + [int(i)]
chart_slot = st.container()
g_cols = st.columns(3)
for col, g in zip(g_cols, GROUPS):
    col.multiselect(f"group {g}", list(range(len(z))), key=f"pr_ar_{g}")
picked = {g: SS[f"pr_ar_{g}"] for g in GROUPS}
with chart_slot:
    st.plotly_chart(pick_grid_figure(imgs, nrow=8, picked=picked, cell=56), key="pr_ar_grid", on_select="rerun",
                    width="content", theme=None,
                    selection_mode="points", config={"displayModeBar": False})
if not picked["A"]:
    st.info("Pick at least one sample into group A (B and C are optional).")
else:
    signs = {g: s for g, s in zip(GROUPS, (1, -1, 1)) if picked[g]}
    label = None
    if gen.cfg.is_conditional:          # one class for every decoded result: only the noise changes
        label = st.selectbox("decode the means and the result as class", [None, *range(gen.num_classes)],
                             format_func=lambda c: "the first sample in A's" if c is None else str(c),
                             key="pr_ar_class")
    try:
        out = AR.arithmetic(gen, z, picked, signs, n=8, seed=int(ar_seed), label=label)
    except PlaygroundError as e:
        st.error(str(e))
    else:
        expr = " ".join(f"{'−' if s < 0 else '+'} {g}" for g, s in signs.items()).lstrip("+ ")
        scale = max(1, 48 // imgs.shape[-1])
        cols = st.columns(len(out["means"]) + 1)
        for col, (g, im) in zip(cols, out["means"].items()):
            col.image(grid_image(im[None], upscale=scale), caption=f"mean of {g} ({len(picked[g])})")
        cols[-1].image(grid_image(out["images"], nrow=8, upscale=scale), caption=f"{expr} and nearby"
                       + ("" if out["label"] is None else f" (class {out['label']})"))
