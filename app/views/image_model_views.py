"""Sample page helpers (not a page): the loaded-model cache, and the class-conditional GAN's and the denoisers'
sections. Heavy draws are cached by (run, checkpoint, weights, file time) and their settings."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import streamlit as st

from playground.errors import PlaygroundError
from playground.images import model_views as V
from playground.images import sampling
from playground.pictures import grid_image, png_bytes

ModelKey = tuple[str, str, bool, float]      # (run path, checkpoint, EMA weights, checkpoint file's mtime)
ALL_CLASSES = "all (balanced)"
STEP_CHOICES = (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000)


@st.cache_resource(max_entries=8, show_spinner=False)
def model(path: str, checkpoint: str, ema: bool, mtime: float) -> sampling.LoadedModel:
    return sampling.load_model(path, checkpoint, use_ema=ema)


def run_tag(run_path: str) -> str:
    """A short name of a run folder for widget keys."""
    return hashlib.sha1(str(Path(run_path).resolve()).encode()).hexdigest()[:10]


def W(key: ModelKey, name: str) -> str:
    """The key of a view's widget for this run: each run has its own (their choices depend on the run: classes,
    steps, image size; and a widget keeps its shown value across reruns by its key alone)."""
    return f"{name}@{run_tag(key[0])}"


def get(key: ModelKey) -> sampling.LoadedModel:
    return model(*key)


def show(images: np.ndarray, scale: int, caption: str, nrow: int | None = None, download: str | None = None,
         key: str | None = None, max_width: int = 1000, row_labels: list[str] | None = None) -> None:
    """A grid of images in [0, 1] at `scale` (less where it would be wider than `max_width` pixels), labels
    left of its rows if given, with a PNG download button when `download` names the file."""
    png = _png(images, nrow, scale, row_labels)
    while scale > 1 and png_width(png) > max_width:
        scale -= 1
        png = _png(images, nrow, scale, row_labels)
    st.image(png, caption=caption, width=png_width(png))   # its own size: pixel art is not smoothed
    if download:
        st.download_button("Download PNG", png, file_name=download, mime="image/png", key=key,
                           icon=":material/download:")


def _png(images: np.ndarray, nrow: int | None, scale: int, row_labels: list[str] | None) -> bytes:
    if not row_labels:
        return sampling.grid_png(images, nrow=nrow, scale=scale)
    picture = grid_image(images, nrow=nrow).repeat(scale, axis=0).repeat(scale, axis=1)
    return png_bytes(V.with_row_labels(picture, row_labels))


def png_width(png: bytes) -> int:
    """A PNG's width in pixels, from its header (bytes 16-20 of the IHDR chunk)."""
    return int.from_bytes(png[16:20], "big")


def class_choice(gen, label: str, key: str, column=st, default: int | None = None, balanced: bool = True):
    """A class selectbox for a conditional run (None: every class equally often), or None for others."""
    if not gen.num_classes:
        return None
    options = ([ALL_CLASSES] if balanced else []) + list(range(gen.num_classes))
    index = options.index(default) if default in options else 0
    pick = column.selectbox(label, options, index=index, key=key)
    return None if pick == ALL_CLASSES else int(pick)


# ------------------------------------------------------------------ class-conditional GAN
def cgan_class_noise(key: ModelKey, scale: int, stem: str) -> None:
    gen = get(key)
    c1, c2, c3 = st.columns(3)
    cols = c1.slider("noise vectors (columns)", 2, 12, V.GRID_COLUMNS, key=W(key, "smp_cn_cols"))
    seed = c2.number_input("seed", 0, 2**31 - 1, 0, key=W(key, "smp_cn_seed"))
    trunc = c3.slider("truncation t (0 = off)", 0.0, 3.0, 0.0, 0.1, key=W(key, "smp_cn_trunc"),
                      help="redraw noise coordinates beyond ±t: less variety, higher fidelity")
    try:
        grid = V.class_noise_grid(gen, int(cols), int(seed), trunc or None)
    except PlaygroundError as e:
        st.error(str(e))
        return
    show(grid, scale, f"rows: classes 0 to {gen.num_classes - 1} (labelled on the left); columns: {cols} noise vectors "
         f"(seed {seed}), each held fixed down its column", nrow=int(cols), download=f"{stem}-classes-seed{seed}.png",
         row_labels=[str(y) for y in range(gen.num_classes)],
         key=W(key, "smp_cn_download"))
    st.caption("Down a column only the class changes: what stays (slant, thickness, style) is what the noise "
               "carries. Along a row only the noise changes: the variety within one class.")


def cgan_class_interpolation(key: ModelKey, scale: int, stem: str) -> None:
    gen = get(key)
    c1, c2, c3, c4, c5 = st.columns(5)
    a = c1.selectbox("from class", range(gen.num_classes), index=0, key=W(key, "smp_ci_a"))
    b = c2.selectbox("to class", range(gen.num_classes), index=min(1, gen.num_classes - 1), key=W(key, "smp_ci_b"))
    steps = c3.slider("steps", 2, 16, V.INTERP_STEPS, key=W(key, "smp_ci_steps"))
    rows = c4.slider("noise vectors (rows)", 1, 8, V.INTERP_ROWS, key=W(key, "smp_ci_rows"))
    seed = c5.number_input("seed", 0, 2**31 - 1, 0, key=W(key, "smp_ci_seed"))
    try:
        strip = V.class_interpolation(gen, int(a), int(b), int(steps), int(seed), int(rows))
    except PlaygroundError as e:
        st.error(str(e))
        return
    show(strip, scale, f"class {a} → class {b}: each row keeps one noise vector (seed {seed}) while the class "
         "weights move from one-hot(a) to one-hot(b)", nrow=int(steps), download=f"{stem}-class-{a}-{b}.png",
         key=W(key, "smp_ci_download"))


# ------------------------------------------------------------------ diffusion and flow matching
@st.cache_data(max_entries=16, show_spinner="Sampling…")
def _samples(key: ModelKey, n: int, seed: int, steps: int, method: str, label: int | None) -> np.ndarray:
    return V.denoiser_samples(get(key), n, seed, steps, method, label)


@st.cache_data(max_entries=16, show_spinner=False)
def _strip(key: ModelKey, seed: int, steps: int, method: str, states: int, label: int | None):
    return V.denoising_strip(get(key), seed, steps, method, states, label)


METHOD_HELP = {"ddim": "DDIM: deterministic, the same start noise always gives the same image",
               "ddpm": "DDPM: fresh noise at every step (needs more steps)",
               "euler": "Euler: one velocity per step", "midpoint": "midpoint: two velocities per step, second order"}


def denoiser_controls(key: ModelKey) -> tuple[int, str, int | None]:
    """The sampling steps, the sampler (diffusion) or ODE solver (flow matching), and the class."""
    gen = get(key)
    choices, own = V.methods(gen)
    options = sorted({s for s in STEP_CHOICES if s <= V.max_steps(gen)} | {int(gen.cfg.sample_steps)})
    c1, c2, c3 = st.columns([3, 2, 1])
    steps = c1.select_slider("sampling steps", options, value=int(gen.cfg.sample_steps), key=W(key, "smp_dn_steps"),
                             help="network evaluations along the way from noise to image (the run's own: "
                                  f"{gen.cfg.sample_steps}); midpoint costs two per step")
    method = c2.radio("sampler" if gen.cfg.model == "diffusion" else "ODE solver", choices,
                      index=choices.index(own), key=W(key, "smp_dn_method"), horizontal=True,
                      format_func=lambda m: m.upper() if gen.cfg.model == "diffusion" else m,
                      help="; ".join(METHOD_HELP[m] for m in choices) + f". The run's own: {own}.")
    label = class_choice(gen, "class", W(key, "smp_dn_class"), c3)
    return int(steps), str(method), label


def denoiser_samples(key: ModelKey, scale: int, stem: str, steps: int, method: str, label: int | None) -> None:
    c1, c2 = st.columns(2)
    n = c1.select_slider("images", [4, 9, 16, 36, 64], value=16, key=W(key, "smp_dn_n"))
    seed = c2.number_input("seed", 0, 2**31 - 1, 0, key=W(key, "smp_dn_seed"))
    try:
        images = _samples(key, int(n), int(seed), steps, method, label)
    except PlaygroundError as e:
        st.error(str(e))
        return
    show(images, scale, f"{n} samples, seed {seed}, {steps} {method} steps"
         + ("" if label is None else f", class {label}"), download=f"{stem}-{method}{steps}-seed{seed}.png",
         key=W(key, "smp_dn_download"))


def denoiser_trajectory(key: ModelKey, scale: int, stem: str, steps: int, method: str, label: int | None) -> None:
    c1, c2 = st.columns(2)
    seed = c1.number_input("seed", 0, 2**31 - 1, 0, key=W(key, "smp_tr_seed"))
    states = c2.slider("states shown", 2, 16, V.STRIP_STATES, key=W(key, "smp_tr_states"))
    try:
        strip, picks = _strip(key, int(seed), steps, method, int(states), label)
    except PlaygroundError as e:
        st.error(str(e))
        return
    show(strip, max(scale, 3), f"one sample's way from noise (left) to image (right), seed {seed}, {method}: top, "
         f"the state after {', '.join(map(str, picks))} of {steps} steps; below, the model's guess of the finished "
         "image from that state", nrow=len(picks),
         download=f"{stem}-trajectory-{method}{steps}-seed{seed}.png", key=W(key, "smp_tr_download"))
    st.caption("The first state is the seed's Gaussian noise (clipped to the pixel range for display), the last "
               "the sample. The guesses (diffusion: the clean image implied by the predicted noise; flow matching: "
               "the end of the straight line along the velocity) settle long before the state stops looking like "
               "noise. Fewer steps take bigger jumps"
               + ("; DDPM adds fresh noise at each one." if method == "ddpm" else "."))


def download_name(run_path: str) -> str:
    return Path(run_path).name
