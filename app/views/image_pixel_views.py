"""Sample page helpers (not a page) for PixelCNN runs: the pixel-by-pixel sampler as an animation that can be
paused, stepped and restarted, and completion of a test image with a region hidden.

The sampler's state (the iterator over pixels and the images so far) lives in the session; a fragment that
reruns on a timer while playing advances it by a few pixels per frame, within a time slice, and redraws."""

from __future__ import annotations

import threading
import time

import numpy as np
import streamlit as st
import torch

from app.views import image_model_views as MV
from playground.errors import PlaygroundError
from playground.images import model_views as V
from playground.images import sampling

SS = st.session_state
FRAME_S, SLICE_S = 1 / V.PIXEL_FPS, 0.12    # the fragment's period, and the most time a frame spends sampling
PLAYER = "smp_pix_player"
TEST_IMAGES = 200                      # test images offered for completion


def _player(key: MV.ModelKey, n: int, seed: int, label: int | None) -> dict:
    """The session's sampler for these settings (a fresh, paused one when they change)."""
    sig = (key, n, seed, label)
    p = SS.get(PLAYER)
    if p is None or p["sig"] != sig:
        gen = MV.get(key)
        total = gen.resolution ** 2
        p = {"sig": sig, "it": None, "done": 0, "total": total, "playing": False, "lock": threading.Lock(),
             "images": np.full((n, 1, gen.resolution, gen.resolution), 0.5, dtype=np.float32)}
        SS[PLAYER] = p
    return p


def _advance(key: MV.ModelKey, p: dict, pixels: int, budget_s: float | None) -> None:
    """Draw up to `pixels` more pixels (stopping early after `budget_s` seconds); the end pauses the player."""
    if not p["lock"].acquire(blocking=False):    # a frame is still being drawn by another run
        return
    try:
        torch.set_num_threads(1)                  # per thread (a fragment run is a new one)
        if p["it"] is None:
            gen = MV.get(key)
            n, seed, label = p["sig"][1:]
            p["it"] = V.pixel_frames(gen, n, seed, every=1, label=label)
        t0 = time.perf_counter()
        for _ in range(pixels):
            try:
                p["done"], p["images"] = next(p["it"])
            except StopIteration:
                p["done"] = p["total"]
                break
            if p["done"] >= p["total"] or (budget_s is not None and time.perf_counter() - t0 > budget_s):
                break
        if p["done"] >= p["total"]:
            p["playing"] = False
    finally:
        p["lock"].release()


def _toggle(p: dict) -> None:
    if p["done"] >= p["total"]:          # play again from the start
        p.update(it=None, done=0, images=np.full_like(p["images"], 0.5))
    p["playing"] = not p["playing"]


def _restart(p: dict) -> None:
    p.update(it=None, done=0, images=np.full_like(p["images"], 0.5), playing=False)


def pixel_sampler(key: MV.ModelKey, scale: int) -> None:
    """Controls outside the fragment (a click reruns the page, which starts or stops the timer); the picture
    and the progress inside it."""
    gen = MV.get(key)
    size = gen.resolution
    scale = max(scale, V.PIXEL_TILE_PX // size)
    c1, c2, c3, c4 = st.columns([1, 1, 2, 1])
    n = c1.select_slider("images", [1, 4, 9, 16, 25], value=V.PIXEL_IMAGES, key=MV.W(key, "smp_px_n"))
    seed = c2.number_input("seed", 0, 2**31 - 1, 0, key=MV.W(key, "smp_px_seed"))
    half = V.pixels_per_frame(size)
    speed = c3.select_slider("pixels per frame", sorted({1, 2, 4, half, size, 2 * size}), value=half,
                             key=MV.W(key, "smp_px_speed"), help=f"{size} pixels make a row; {V.PIXEL_FPS} frames "
                             "a second")
    label = MV.class_choice(gen, "class", MV.W(key, "smp_px_class"), c4)
    p = _player(key, int(n), int(seed), label)
    b1 = b2 = b3 = st.container(horizontal=True)
    finished = p["done"] >= p["total"]
    b1.button("Pause" if p["playing"] else ("Play again" if finished else "Play"), key=MV.W(key, "smp_px_play"),
              on_click=_toggle, args=(p,), type="primary", icon=":material/pause:" if p["playing"] else
              ":material/play_arrow:")
    if b2.button("Step", key=MV.W(key, "smp_px_step"), disabled=p["playing"] or finished,
                 help=f"draw the next {speed} pixel(s)"):
        _advance(key, p, int(speed), None)
    b3.button("Restart", key=MV.W(key, "smp_px_restart"), on_click=_restart, args=(p,), disabled=p["done"] == 0)

    @st.fragment(run_every=FRAME_S if p["playing"] else None)
    def frame() -> None:
        was_playing = p["playing"]
        if was_playing:
            _advance(key, p, int(speed), SLICE_S)
        done, total = p["done"], p["total"]
        row, col = divmod(min(done, total - 1), size)
        st.progress(done / total, text=f"pixel {done} of {total}" + (
            f" — next: row {row + 1}, column {col + 1}" if done < total else " — done")
            + (" (playing)" if p["playing"] else " (paused)" if 0 < done < total else ""))
        MV.show(V.undecided_in_colour(p["images"]), scale, "each pixel is a coin flip with the probability the "
                "network gives it from the pixels above and to its left (blue: not drawn yet)",
                nrow=int(np.ceil(np.sqrt(len(p["images"])))))
        if was_playing and not p["playing"]:
            st.rerun(scope="app")                   # the end: stop the timer, relabel the button

    frame()


@st.cache_resource(max_entries=4, show_spinner="Loading the test split…")
def _test_split(key: MV.ModelKey):
    return V.held_out_images(MV.get(key), TEST_IMAGES)


@st.cache_data(max_entries=16, show_spinner="Completing…")
def _complete(key: MV.ModelKey, index: int, region: str, first_row: int | None, n: int, seed: int,
              label: int | None) -> np.ndarray:
    images, _ = _test_split(key)
    known = V.hidden_region(MV.get(key).resolution, region, first_row)
    return V.completion(MV.get(key), images[index], known, n, seed, label)


def completion(key: MV.ModelKey, scale: int) -> None:
    gen = MV.get(key)
    size = gen.resolution
    try:
        images, labels = _test_split(key)
    except PlaygroundError as e:
        st.error(str(e))
        return
    c1, c2, c3, c4, c5 = st.columns([1, 2, 1, 1, 1])
    index = c1.number_input(f"test image (of {len(images)})", 0, len(images) - 1, 0, key=MV.W(key, "smp_cp_index"))
    region = c2.radio("hide", V.REGIONS, key=MV.W(key, "smp_cp_region"), horizontal=True,
                      help="the upper rows come first in the raster order, so hiding the lower part gives exact "
                           "draws from p(hidden | shown); for the other regions the shown pixels after the hole "
                           "are kept but the model cannot condition on them")
    first_row = c3.slider("first hidden row", 1, size - 1, size // 2, key=MV.W(key, "smp_cp_row")) \
        if region == "rows from" else None
    n = c4.select_slider("completions", [4, 8, 16], value=V.COMPLETIONS, key=MV.W(key, "smp_cp_n"))
    seed = c5.number_input("seed", 0, 2**31 - 1, 0, key=MV.W(key, "smp_cp_seed"))
    true = None if labels is None else int(labels[int(index)])
    label = MV.class_choice(gen, "complete as class", MV.W(key, "smp_cp_class"), st, default=true, balanced=False)
    known = V.hidden_region(size, region, first_row)
    try:
        done = _complete(key, int(index), region, first_row, int(n), int(seed), label)
    except PlaygroundError as e:
        st.error(str(e))
        return
    big = max(scale, V.PIXEL_TILE_PX // size)
    a, b, c = st.columns([1, 1, 4])
    with a:
        MV.show(images[int(index)][None].numpy(), big, "test image, binarised" + (
            "" if true is None else f" (class {true})"))
    with b:
        MV.show(V.undecided_in_colour(V.masked(images[int(index)], known)), big, "what the model is shown")
    with c:
        MV.show(done, big, f"{n} completions (seed {seed})", nrow=4, max_width=520)


@st.cache_data(max_entries=8, show_spinner="Sampling pixel by pixel…")
def _grid(key: MV.ModelKey, n: int, seed: int, label: int | None) -> np.ndarray:
    return sampling.grid(MV.get(key), n, seed, label=label)


def grid(key: MV.ModelKey, scale: int, stem: str) -> None:
    gen = MV.get(key)
    c1, c2, c3 = st.columns(3)
    n = c1.select_slider("images", [4, 9, 16, 36, 64], value=16, key=MV.W(key, "smp_pg_n"),
                         help=f"each image is drawn one pixel at a time, {gen.resolution ** 2} steps")
    seed = c2.number_input("seed", 0, 2**31 - 1, 0, key=MV.W(key, "smp_pg_seed"))
    label = MV.class_choice(gen, "class", MV.W(key, "smp_pg_class"), c3)
    try:
        images = _grid(key, int(n), int(seed), label)
    except PlaygroundError as e:
        st.error(str(e))
        return
    MV.show(images, scale, f"{n} samples, seed {seed}" + ("" if label is None else f", class {label}"),
            download=f"{stem}-seed{seed}.png", key=MV.W(key, "smp_pg_download"))
