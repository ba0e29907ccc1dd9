"""VAE latent lab: slide latent variables, walk the latent space, encode images, see what beta does."""

import base64
import dataclasses
import os
import time

import numpy as np
import streamlit as st
import torch

from app.components.run_panel import config_form, launch, run_list
from app.components.vae_decoder import vae_decoder
from playground.errors import PlaygroundError
from playground.runs.rundir import RunDir
from playground.vae import latent, plots
from playground.vae.config import PRESETS, VAEConfig
from playground.vae.inspector import MAX_UPLOAD, test_pick, upload_pick
from playground.vae.sources import OpenedModel, find, model_sources, open_model, short_name

SS = st.session_state
SPAN = 3.0                    # sliders and traversals cover +-3 prior standard deviations
MAX_SLIDERS = 16
T = "vae_t_"                  # widget-key prefix of the training form's VAEConfig fields
FORM_BASE = PRESETS["sprites_bvae"]            # `vae train --preset sprites_bvae` starts from the same
FORM_MAIN = ("dataset", "kl_weight", "latent_dim", "epochs", "train_size")
DATASET_SUGGESTS = {"sprites": {"latent_dim": 8, "train_size": 3000}, "digits": {"latent_dim": 2, "train_size": 1497}}

torch.set_num_threads(1)   # this script run's thread (the slider fragment sets it again for its own runs)


# ---------------------------------------------------------------- the model, kept per file version
@st.cache_resource(max_entries=8, show_spinner=False)
def _open(path: str, sha: str | None, mtime: float) -> OpenedModel:
    return open_model(path, sha)


def _open_source(label: str) -> OpenedModel:
    src = sources[label]
    return _open(src["path"], src["sha"] or None, os.path.getmtime(src["path"]))


def _img(images: torch.Tensor, nrow: int, size_px: int = 160, caption: str | None = None) -> None:
    st.image(plots.picture(images, nrow, size_px), caption=caption)


def _y_of(i: int) -> int | None:
    return int(test.labels[i]) if model.num_classes else None


def _to_sliders(z, notice: str | None = None) -> None:
    """Load a code into the sliders (on the next run, before they are drawn), saying where it came from."""
    SS["vae_pending_z"], SS["vae_notice"] = list(z), notice
    st.rerun()


if "vae_pending_z" in SS:             # a scatter point, an encoded image or a reset: load into the sliders
    for i, v in enumerate(SS.pop("vae_pending_z")[:MAX_SLIDERS]):
        SS[f"vae_z{i}"] = float(np.clip(round(float(v), 2), -SPAN, SPAN))

st.title("VAE latent lab")
st.caption("Move latent variables and watch the decoder; walk the 2D manifold; encode, interpolate, swap classes; "
           "compare a VAE with a β-VAE.")

sources = model_sources()
if not sources:
    st.error("No VAE models found: run `make pretrained`.")
    st.stop()
if "vae_model" not in SS:  # a shared link names its model: ?model=digits-cvae
    SS["vae_model"] = find(sources, st.query_params.get("model"))
if SS.get("vae_model") not in sources:
    SS["vae_model"] = next(iter(sources))
with st.sidebar:
    st.subheader("Model")
    choice = st.selectbox("VAE", list(sources), key="vae_model", help="Shipped models, then models trained here")
if st.query_params.get("model") != short_name(choice):
    st.query_params["model"] = short_name(choice)
try:
    opened = _open_source(choice)
except PlaygroundError as e:
    st.error(str(e))
    st.stop()
model, test, mu_test, metrics, D = opened.model, opened.test, opened.mu, opened.metrics, opened.model.latent
if SS.get("vae_loaded") != (choice, os.path.getmtime(sources[choice]["path"])):   # a new model (or version)
    SS["vae_loaded"] = (choice, os.path.getmtime(sources[choice]["path"]))            # starts at z = 0
    for i in range(MAX_SLIDERS):
        SS[f"vae_z{i}"] = 0.0
with st.sidebar:
    st.caption(sources[choice]["title"])
    st.write(plots.model_summary(model.cfg, D, bool(model.num_classes)))
    if metrics:
        st.json({k: metrics[k] for k in plots.SIDEBAR_METRICS if k in metrics}, expanded=False)
    y_sel = None
    if model.num_classes:
        names = test.class_names or [str(i) for i in range(model.num_classes)]
        y_sel = st.selectbox("Class (conditional decoder)", list(range(model.num_classes)),
                             format_func=lambda i: names[i], key="vae_class")

# ---------------------------------------------------------------- sliders: one per latent dimension
# The decoded image is drawn by the browser (components/vae_decoder runs the decoder program whenever a slider
# moves, before its value has reached the server); a slider move reruns only the fragment holding the sliders.
# `?decode=server`, or a decoder the exporter does not know, decodes here and sends a native-resolution PNG.
shown = min(D, MAX_SLIDERS)
in_browser = opened.program is not None and st.query_params.get("decode") != "server"
with st.container(border=True, key="vae_explore"):
    b1, b2, _ = st.columns([1, 1, 3])
    if b1.button("Reset to 0", key="vae_reset"):
        _to_sliders([0.0] * D)
    if b2.button("Random sample", key="vae_random"):
        SS["vae_sample_seed"] = SS.get("vae_sample_seed", 0) + 1
        _to_sliders(np.random.default_rng(SS["vae_sample_seed"]).standard_normal(D))

    @st.fragment
    def explore() -> None:
        # A fragment run is a new thread and OpenMP's thread count is per thread (5 ms per decode, not 0.6).
        torch.set_num_threads(1)
        image, sliders = (st.container(), st.container()) if in_browser else st.columns([2, 3])
        cols = sliders.columns(2) if shown > 4 else [sliders]
        for i in range(shown):
            cols[i % len(cols)].slider(f"z{i}", -SPAN, SPAN, step=0.05, key=f"vae_z{i}",
                                       help="prior standard deviations")
        if D > MAX_SLIDERS:
            sliders.caption(f"Showing the first {MAX_SLIDERS} of {D} dimensions; the rest stay at 0.")
        if not in_browser:
            z = np.zeros(D, dtype=np.float32)
            z[:shown] = [SS[f"vae_z{i}"] for i in range(shown)]
            png = base64.b64encode(latent.decoded_png(model, z, y_sel, opened.program)).decode()
            image.image("data:image/png;base64," + png, width=256,
                        caption="decoded mean image, z = [" + ", ".join(f"{v:.2f}" for v in z[:shown]) + "]")

    if in_browser:      # the decoder outside the fragment: a slider move reruns only the sliders
        c1, c2 = st.columns([2, 3])
        with c1:
            vae_decoder(opened.program, y_sel, [f"vae_z{i}" for i in range(shown)], key="vae_live")
        with c2:
            explore()
    else:
        explore()
st.html("<style>.st-key-vae_explore img { image-rendering: pixelated; }</style>")   # crisp upscaling
if SS.get("vae_notice"):
    st.info(SS.pop("vae_notice"))


# ---------------------------------------------------------------- the views below the sliders (one drawn at a time:
# tabs would draw all of them on every run, which slowed each slider update by about 70 ms in a browser)
def view_manifold() -> None:
    c1, c2 = st.columns(2)
    with c1:
        d1, d2, d3 = st.columns(3)
        dx = d1.selectbox("x dimension", list(range(D)), index=0, key="vae_gx")
        dy = d2.selectbox("y dimension", list(range(D)), index=min(1, D - 1), key="vae_gy")
        n = d3.slider("grid", 5, 20, latent.MANIFOLD_N, key="vae_gn")
        if dx == dy:
            st.warning("Pick two different dimensions.")
        else:
            st.image(plots.manifold_picture(latent.grid_2d(model, (dx, dy), n=n, y=y_sel)[0], n),
                     caption=plots.manifold_caption(dx, dy))
    with c2:
        fig = plots.encoded_scatter(mu_test, test.labels.numpy() if test.labels is not None else None,
                                    dx, dy if dy != dx else (dx + 1) % D)
        event = st.plotly_chart(fig, key="vae_scatter", on_select="rerun", selection_mode="points")
        pts = (event or {}).get("selection", {}).get("points", [])
        if pts:
            idx = int(pts[0].get("customdata", pts[0].get("point_index", 0)))
            if SS.get("vae_scatter_loaded") != idx:
                SS["vae_scatter_loaded"] = idx
                _to_sliders(mu_test[idx], f"Loaded test image #{idx}'s code into the sliders.")


def view_encode() -> None:
    c1, c2 = st.columns([1, 2])
    idx = c1.number_input("test image #", 0, len(test) - 1, 0, key="vae_enc_idx")
    up = c1.file_uploader("...or upload an image", type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
                          key="vae_upload", max_upload_size=MAX_UPLOAD // 1_000_000)
    pick = test_pick(model, test, idx)
    if up is not None:
        try:
            data = up.getvalue()
            seen = upload_pick(model, data, up.name, label=y_sel or 0)       # inverted if it looks inverted
            inv = c1.checkbox("invert (dark strokes on light paper)", key="vae_invert", value=seen.inverted)
            pick = seen if inv == seen.inverted else upload_pick(model, data, up.name, inv, label=y_sel or 0)
        except PlaygroundError as e:
            c1.error(f"Cannot use {up.name}: {e}")
    x, y_enc, where = pick.x, pick.y, pick.where
    mu, sd = latent.encode(model, x, y_enc)
    with c2:
        sigma = latent.decode_std(model, mu, y_enc)
        cols = st.columns(3 if sigma is not None else 2)
        with cols[0]:
            _img(x, 1, caption=where)
        with cols[1]:
            _img(latent.decode(model, mu, y_enc), 1, caption="reconstruction (posterior mean)")
        if sigma is not None:   # a Gaussian decoder: where is it unsure of the pixel?
            top = float(sigma.max())
            with cols[2]:
                _img(sigma / top, 1, caption=f"decoder σ per pixel (white = {top:.2f}, black = 0)")
        st.dataframe(plots.posterior_table(mu[0], sd[0]))
        if st.button("Edit this code with the sliders", key="vae_enc_load"):
            _to_sliders(mu[0], f"Loaded the code of {where} into the sliders.")


def view_interpolate() -> None:
    c = st.columns(3)
    ia = c[0].number_input("from test image #", 0, len(test) - 1, 0, key="vae_ia")
    ib = c[1].number_input("to test image #", 0, len(test) - 1, min(1, len(test) - 1), key="vae_ib")
    steps = c[2].slider("steps", 3, 16, latent.INTERP_STEPS, key="vae_isteps")
    for method in ("linear", "spherical"):
        strip = latent.interpolate(model, mu_test[ia], mu_test[ib], steps, method, _y_of(ia), _y_of(ib))
        _img(strip, nrow=steps, size_px=64, caption=f"{method} interpolation of the posterior means")
    st.caption("Both paths join the two images' posterior means. In many latent dimensions the prior's mass sits "
               "on a thin shell and spherical interpolation stays near it (exactly so only when the two codes have "
               "the same norm) while the linear path cuts through the low-norm middle; in 2 dimensions there is no "
               "such shell and the two paths differ little."
               + (" The class switches from the first image's to the second's halfway." if model.num_classes
                  else ""))


def view_class_swap() -> None:
    if not model.num_classes:
        st.info("Class swaps need a conditional model: choose `pretrained: digits-cvae`.")
        return
    picks = st.multiselect("test images", list(range(min(len(test), 200))), default=list(latent.SWAP_IMAGES),
                           key="vae_swap_idx", max_selections=8)
    if picks:
        ix = torch.tensor(picks)
        _img(latent.class_swap(model, test.images[ix], test.labels[ix]), nrow=model.num_classes, size_px=48,
             caption="each row: one image's code z (its style) decoded as every class")


def _on_dataset() -> None:
    for k, v in DATASET_SUGGESTS.get(SS[T + "dataset"], {}).items():
        SS[T + k] = v


def training_form() -> None:
    st.markdown("**Train a VAE in the background** (its own process; the run lives on disk and survives reloads)")
    cfg, err = config_form(VAEConfig, T, FORM_BASE, FORM_MAIN, file_name="vae_config.json",
                           on_change={"dataset": _on_dataset})
    c1, c2, _ = st.columns([1, 2, 3])
    pair = c2.button("Train the pair β = 1 and β = 4", key="vae_t_pair", disabled=bool(err),
                     help="the same settings twice, as a VAE and as a β-VAE, to compare below")
    if c1.button("Start training", key="vae_t_start", disabled=bool(err)) or pair:
        cfgs = [dataclasses.replace(cfg, kl_weight=b) for b in (1.0, 4.0)] if pair else [cfg]
        stamp = time.strftime("%H%M%S")
        names = [f"{c.dataset}-b{c.kl_weight:g}-z{c.latent_dim}-{stamp}" for c in cfgs]
        launch(cfgs, names)
        if pair:                          # compared below as soon as both have a checkpoint
            SS["vae_pair"] = [f"run: {n}" for n in names]


def view_compare() -> None:
    training_form()
    run_list("vae", key="vae_runs", done="epoch", total="epochs")
    st.markdown("**Compare two models side by side** (traversals of every dimension from z = 0, and metrics)")
    defaults = [o for o in ("pretrained: sprites-vae", "pretrained: sprites-bvae") if o in sources]
    if all(o in sources for o in SS.get("vae_pair", [None])):
        SS["vae_cmp"] = SS.pop("vae_pair")
    picked = st.multiselect("models", list(sources), default=defaults, max_selections=2, key="vae_cmp")
    kls = {}
    for col, name in zip(st.columns(max(1, len(picked))), picked):
        with col:
            try:
                other = _open_source(name)
            except PlaygroundError as e:
                st.error(str(e))
                continue
            met = other.metrics
            st.markdown(f"**{name}** — β = {other.model.cfg.kl_weight:g}")
            _img(latent.traversal_rows(other.model, dims=10, steps=9, span=SPAN), nrow=9, size_px=40,
                 caption="rows: z0, z1, ... from -3 to 3")
            st.table(plots.metrics_table(met))
            if met.get("kl_per_dim"):
                kls[short_name(name)] = met["kl_per_dim"]
    if kls:
        st.plotly_chart(plots.kl_comparison(kls), key="vae_cmp_kl")


def view_training() -> None:
    run_dir = sources[choice].get("run")
    rows = RunDir(run_dir).read_metrics() if run_dir else (sources[choice].get("card") or {}).get("history", [])
    c1, c2 = st.columns(2)
    if rows:
        c1.plotly_chart(plots.elbo_curves(rows), key="vae_curves")
    else:
        c1.caption("Training curves are shown for runs trained on this page (their metrics.jsonl). "
                   f"This model's card: `{(sources[choice].get('card') or {}).get('command', '')}`")
    kl = metrics.get("kl_per_dim") or (rows[-1].get("kl_per_dim", []) if rows else [])
    if kl:
        c2.plotly_chart(plots.kl_bars(kl), key="vae_kl")


VIEWS = {"Manifold": view_manifold, "Encode": view_encode, "Interpolate": view_interpolate,
         "Class swap": view_class_swap, "β comparison": view_compare, "Training": view_training}
view = st.radio("View", list(VIEWS), horizontal=True, key="vae_view", label_visibility="collapsed")
VIEWS[view]()
