"""VAE latent lab: slide latent variables, walk the latent space, encode images, see what beta does."""

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from playground.errors import PlaygroundError
from playground.vae import runs
from playground.vae.checkpoint import load_checkpoint
from playground.vae.latent import (
    class_swap, decode, decode_std, encode, grid_2d, interpolate, to_grid, to_png, traverse)
from playground.vae.pretrained import ROOT as PRETRAINED, cards

SS = st.session_state
ROOT = Path(__file__).resolve().parents[2]
RUNS = Path(os.environ.get("PLAYGROUND_RUNS", ROOT / "runs")) / "vae"
SPAN = 3.0
MAX_UPLOAD = 2_000_000
MAX_SLIDERS = 16

torch.set_num_threads(1)   # this script run's thread (the slider fragment sets it again for its own runs)


# ---------------------------------------------------------------- cached engine objects
@st.cache_resource(max_entries=8, show_spinner=False)
def _load(path: str, sha: str | None, mtime: float):
    model, ckpt = load_checkpoint(path, sha256=sha)
    return model, ckpt


@st.cache_resource(max_entries=4, show_spinner=False)
def _test_set(cfg_json: str):
    from playground.configs import from_json
    from playground.data import load_dataset
    from playground.vae.config import VAEConfig

    cfg = from_json(VAEConfig, cfg_json)
    return load_dataset(cfg.dataset, **cfg.data_kwargs("test"))


@st.cache_data(max_entries=16, show_spinner=False)
def _encoded(key: str, _model, _images, _labels):
    mu, std = encode(_model, _images, _labels if _model.num_classes else None)
    return mu, std


@st.cache_resource(max_entries=8, show_spinner=False)
def _program(key: str, _model) -> dict | None:
    """The decoder as a program for the browser (None: not exportable, decode on the server)."""
    from playground.vae.export import decoder_program

    try:
        return decoder_program(_model)
    except PlaygroundError:
        return None


LIVE_JS = r"""
// Runs the decoder program (playground/vae/export.py; this is a port of its run_program) in the browser
// whenever one of the page's latent sliders changes, and draws the mean image on a canvas.
const f32 = (b64) => { const s = atob(b64), u = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i); return new Float32Array(u.buffer); };
const nearest = (out, inp) => { const scale = Math.fround(inp / out), ix = new Int32Array(out);
  for (let i = 0; i < out; i++) ix[i] = Math.min(Math.floor(Math.fround(i * scale)), inp - 1); return ix; };
function run(prog, W, z, y) {
  let h = new Float32Array(z.length + prog.classes); h.set(z);
  if (prog.classes) h[z.length + y] = 1;
  let shape = [h.length];
  for (const op of prog.ops) {
    if (op.op === "linear") {
      const w = W[op.w], b = W[op.w + "b"], o = new Float32Array(op.out);
      for (let i = 0; i < op.out; i++) { let acc = b[i]; const r = i * op.in;
        for (let j = 0; j < op.in; j++) acc += w[r + j] * h[j]; o[i] = acc; }
      h = o; shape = [op.out];
    } else if (op.op === "silu") { for (let i = 0; i < h.length; i++) h[i] = h[i] / (1 + Math.exp(-h[i]));
    } else if (op.op === "sigmoid") { for (let i = 0; i < h.length; i++) h[i] = 1 / (1 + Math.exp(-h[i]));
    } else if (op.op === "reshape") { shape = op.shape.slice();
    } else if (op.op === "upsample") {
      const [c, hh, ww] = shape, s = op.size, iy = nearest(s, hh), ix = nearest(s, ww), o = new Float32Array(c * s * s);
      for (let k = 0; k < c; k++) for (let y_ = 0; y_ < s; y_++) for (let x = 0; x < s; x++)
        o[(k * s + y_) * s + x] = h[(k * hh + iy[y_]) * ww + ix[x]];
      h = o; shape = [c, s, s];
    } else if (op.op === "conv3x3") {
      const [, hh, ww] = shape, w = W[op.w], b = W[op.w + "b"], o = new Float32Array(op.out * hh * ww);
      for (let co = 0; co < op.out; co++) for (let y_ = 0; y_ < hh; y_++) for (let x = 0; x < ww; x++) {
        let acc = b[co];
        for (let ci = 0; ci < op.in; ci++) for (let dy = -1; dy <= 1; dy++) { const yy = y_ + dy;
          if (yy < 0 || yy >= hh) continue;
          for (let dx = -1; dx <= 1; dx++) { const xx = x + dx; if (xx < 0 || xx >= ww) continue;
            acc += w[((co * op.in + ci) * 3 + dy + 1) * 3 + dx + 1] * h[(ci * hh + yy) * ww + xx]; } }
        o[(co * hh + y_) * ww + x] = acc; }
      h = o; shape = [op.out, hh, ww];
    } else if (op.op === "channels") { const [, hh, ww] = shape; h = h.slice(0, op.n * hh * ww); shape = [op.n, hh, ww];
    } else { throw new Error("unknown decoder operation " + op.op); }
  }
  return h;
}
export default function (component) {
  const { data, parentElement } = component;
  if (parentElement.__vaeLive) parentElement.__vaeLive.disconnect();
  let root = parentElement.querySelector(".vae-live");
  if (!root) {
    root = document.createElement("div"); root.className = "vae-live";
    root.innerHTML = '<canvas class="vae-live-canvas"></canvas><div class="vae-live-caption"></div>';
    parentElement.appendChild(root);
  }
  const canvas = root.querySelector("canvas"), caption = root.querySelector(".vae-live-caption");
  const prog = data.program, [C, H, Wd] = prog.shape, W = {};
  for (const [k, v] of Object.entries(prog.weights)) W[k] = f32(v);
  canvas.width = Wd; canvas.height = H;
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(Wd, H);
  let last = null;
  const read = () => data.keys.map((k) => {
    // The slider's own text (Streamlit's value, e.g. 0.03 from an encoded image), not the range input's
    // value, which the browser snaps to the 0.05 step.
    const el = document.querySelector(".st-key-" + k + " input[type=range]");
    const v = el ? parseFloat(el.getAttribute("aria-valuetext") ?? el.value) : NaN;
    return Number.isFinite(v) ? v : 0;
  });
  const draw = () => {
    const zs = read(), key = zs.join(",");
    if (key === last) return;
    last = key;
    const z = new Float32Array(prog.latent); z.set(zs.slice(0, prog.latent));
    const x = run(prog, W, z, data.y), n = H * Wd;
    for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++)
      img.data[4 * p + c] = Math.floor(Math.min(1, Math.max(0, x[(C === 3 ? c : 0) * n + p])) * 255 + 0.5);
    for (let p = 0; p < n; p++) img.data[4 * p + 3] = 255;
    ctx.putImageData(img, 0, 0);
    canvas.dataset.z = key;
    canvas.dataset.draws = String(Number(canvas.dataset.draws || 0) + 1);
    caption.textContent = "decoded mean image (in your browser), z = [" + zs.map((v) => v.toFixed(2)).join(", ") + "]";
  };
  draw();
  const obs = new MutationObserver(draw);   // a slider's value, or sliders redrawn by a rerun
  obs.observe(document.body, { subtree: true, childList: true, attributes: true,
                               attributeFilter: ["value", "aria-valuetext"] });
  parentElement.__vaeLive = obs;
  return () => { obs.disconnect(); parentElement.__vaeLive = null; };
}
"""
LIVE_CSS = """
.vae-live-canvas { width: 256px; max-width: 100%; image-rendering: pixelated; display: block; border-radius: 4px; }
.vae-live-caption { font-size: 0.875rem; color: rgba(49, 51, 63, 0.6); margin-top: 0.4rem; }
"""


@st.cache_resource(show_spinner=False)
def _live_decoder():
    """Registered once per server process (registering again on every run would replace it each time)."""
    return st.components.v2.component("vae_live_decoder", js=LIVE_JS, css=LIVE_CSS, isolate_styles=False)


def _sources() -> dict[str, dict]:
    """label -> {path, sha, title}: shipped models, then runs trained on this page that have a checkpoint."""
    out = {}
    for name, card in cards().items():
        out[f"pretrained: {name}"] = {"path": str(PRETRAINED / card["weights"]), "sha": card["sha256"],
                                      "title": card["title"], "card": card}
    for run in runs.list_runs(RUNS):
        ck = run / runs.CHECKPOINT
        if ck.is_file():
            st_ = runs.read_status(run) or {}
            out[f"run: {run.name}"] = {"path": str(ck), "sha": "", "title": f"{run.name} ({st_.get('state', '?')})",
                                       "run": str(run)}
    return out


def _img(images: torch.Tensor, nrow: int, size_px: int = 160, caption: str | None = None, padding: int = 1) -> None:
    """Show images as one picture, nearest-upscaled so each pixel stays crisp."""
    res = images.shape[-1]
    up = max(1, size_px // res)
    st.image(to_grid(images, nrow=nrow, upscale=up, padding=padding), caption=caption)


# ---------------------------------------------------------------- pending state from the previous run
if "vae_pending_z" in SS:             # a scatter point, an encoded image or a reset: load into the sliders
    z = SS.pop("vae_pending_z")
    for i, v in enumerate(z[:MAX_SLIDERS]):
        SS[f"vae_z{i}"] = float(np.clip(round(float(v), 2), -SPAN, SPAN))
if "vae_pending_model" in SS:
    SS["vae_model"] = SS.pop("vae_pending_model")

st.title("VAE latent lab")
st.caption("Move latent variables and watch the decoder; walk the 2D manifold; encode, interpolate, swap classes; "
           "compare a VAE with a β-VAE.")

sources = _sources()
if not sources:
    st.error("No VAE models found: run `make pretrained` (or train one below).")
labels_ = list(sources)
if "vae_model" not in SS:  # a shared link names its model: ?model=digits-cvae
    wanted = st.query_params.get("model")
    for lab in labels_:
        if wanted and lab.split(": ", 1)[-1] == wanted:
            SS["vae_model"] = lab
if SS.get("vae_model") not in labels_ and labels_:
    SS["vae_model"] = labels_[0]

with st.sidebar:
    st.subheader("Model")
    choice = st.selectbox("VAE", labels_, key="vae_model", help="Shipped models, then models trained on this page")
if choice and st.query_params.get("model") != choice.split(": ", 1)[-1]:
    st.query_params["model"] = choice.split(": ", 1)[-1]

model = ckpt = test = None
if choice:
    src = sources[choice]
    try:
        model, ckpt = _load(src["path"], src["sha"] or None, os.path.getmtime(src["path"]))
        test = _test_set(json.dumps(ckpt["config"]))
    except PlaygroundError as e:
        st.error(str(e))
        model = None

if model is not None:
    cfg = model.cfg
    D = model.latent
    mkey = f"{choice}:{os.path.getmtime(sources[choice]['path'])}"
    if SS.get("vae_loaded") != mkey:         # a new model: zero code, class 0
        SS["vae_loaded"] = mkey
        for i in range(MAX_SLIDERS):
            SS[f"vae_z{i}"] = 0.0
    metrics = ckpt.get("metrics") or {}
    with st.sidebar:
        st.caption(sources[choice]["title"])
        st.write(f"{cfg.dataset}, {cfg.arch}, {D} latents, β = {cfg.beta:g}, {cfg.decoder} decoder"
                 + (", conditional" if model.num_classes else ""))
        if metrics:
            shown = {k: metrics[k] for k in ("test_elbo", "test_recon", "test_kl", "test_iwae", "active_units", "mig")
                     if k in metrics}
            st.json(shown, expanded=False)
        y_sel = None
        if model.num_classes:
            class_names = test.class_names or [str(i) for i in range(model.num_classes)]
            y_sel = st.selectbox("Class (conditional decoder)", list(range(model.num_classes)),
                                 format_func=lambda i: class_names[i], key="vae_class")
    mu_test, std_test = _encoded(mkey, model, test.images, test.labels)

    # The sliders stay on top; one view below is drawn at a time (tabs would draw all of them on every run,
    # and re-rendering hidden tabs slowed each slider update by about 70 ms in a browser).

    # ------------------------------------------------------------ sliders: one per latent dimension
    # The decoded image is drawn by the browser: the page sends the decoder once per model as a small
    # program with its weights (playground.vae.export), and a few lines of JavaScript run it whenever a slider
    # moves, before the slider's value has even reached the server. A slider move still reruns the fragment
    # below (so the session keeps the code), but that rerun holds only the sliders. `?decode=server`, or a
    # decoder the exporter does not know, falls back to decoding here and sending a native-resolution PNG.
    shown = min(D, MAX_SLIDERS)
    program = None if st.query_params.get("decode") == "server" else _program(mkey, model)
    with st.container(border=True, key="vae_explore"):
        b1, b2, _ = st.columns([1, 1, 3])
        if b1.button("Reset to 0", key="vae_reset"):
            SS["vae_pending_z"] = [0.0] * D
            st.rerun()
        if b2.button("Random sample", key="vae_random"):
            SS["vae_sample_seed"] = SS.get("vae_sample_seed", 0) + 1
            rng = np.random.default_rng(SS["vae_sample_seed"])
            SS["vae_pending_z"] = list(np.clip(rng.standard_normal(D), -SPAN, SPAN))
            st.rerun()

        def sliders() -> None:
            cols = st.columns(2) if shown > 4 else [st.container()]
            for i in range(shown):
                cols[i % len(cols)].slider(f"z{i}", -SPAN, SPAN, step=0.05, key=f"vae_z{i}",
                                           help="prior standard deviations")
            if D > MAX_SLIDERS:
                st.caption(f"Showing the first {MAX_SLIDERS} of {D} dimensions; the rest stay at 0.")

        @st.fragment
        def explore_live() -> None:
            sliders()

        @st.fragment
        def explore_server() -> None:
            # Every script or fragment run is a new thread, and OpenMP's thread count is per thread: without
            # this a decode in a fresh thread used two threads and took 5 ms instead of 0.6 ms on 2 cores.
            torch.set_num_threads(1)
            c1, c2 = st.columns([2, 3])
            with c2:
                sliders()
            z = np.zeros(D, dtype=np.float32)
            for i in range(shown):
                z[i] = SS[f"vae_z{i}"]
            png = to_png(decode(model, z, y_sel)[0])
            c1.image("data:image/png;base64," + base64.b64encode(png).decode(), width=256,
                     caption="decoded mean image, z = [" + ", ".join(f"{v:.2f}" for v in z[:shown]) + "]")

        if program is not None:
            c1, c2 = st.columns([2, 3])
            with c1:
                # The data changes only with the model or the class, so Streamlit's message cache sends the
                # weights to a browser once; the slider values are read from the page itself.
                _live_decoder()(data={"program": program, "y": int(y_sel or 0),
                                      "keys": [f"vae_z{i}" for i in range(shown)]}, key="vae_live")
            with c2:
                explore_live()
        else:
            explore_server()
    # Nearest-neighbour upscaling of the small decoded image, in the browser.
    st.html("<style>.st-key-vae_explore img { image-rendering: pixelated; }</style>")

    VIEWS = ["Manifold", "Encode", "Interpolate", "Class swap", "β comparison", "Training"]
    view = st.radio("View", VIEWS, horizontal=True, key="vae_view", label_visibility="collapsed")

    # ------------------------------------------------------------ manifold and encoded test set
    if view == "Manifold":
        c1, c2 = st.columns(2)
        with c1:
            d1, d2, d3 = st.columns(3)
            dx = d1.selectbox("x dimension", list(range(D)), index=0, key="vae_gx")
            dy = d2.selectbox("y dimension", list(range(D)), index=min(1, D - 1), key="vae_gy")
            n = d3.slider("grid", 5, 20, 12, key="vae_gn")
            if dx == dy:
                st.warning("Pick two different dimensions.")
            else:
                grid, _ = grid_2d(model, (dx, dy), n=n, y=y_sel)
                _img(grid, nrow=n, size_px=32 if n > 12 else 40,
                     caption=f"decoded through the prior's 5%..95% quantiles of z{dx} (→) and z{dy} (↑); others 0")
        with c2:
            import plotly.graph_objects as go

            lab = test.labels.numpy() if test.labels is not None else np.zeros(len(mu_test), int)
            fig = go.Figure(go.Scattergl(
                x=mu_test[:, dx], y=mu_test[:, dy if dy != dx else (dx + 1) % D], mode="markers",
                marker={"color": lab, "colorscale": "Turbo", "size": 6, "showscale": True,
                        "colorbar": {"title": "label"}},
                customdata=np.arange(len(mu_test)), text=[str(v) for v in lab],
                hovertemplate="test #%{customdata}, label %{text}<extra></extra>"))
            fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 30, "b": 10}, template="plotly_white",
                              title="encoded test set (posterior means): click a point", dragmode="pan",
                              xaxis_title=f"z{dx}", yaxis_title=f"z{dy}")
            event = st.plotly_chart(fig, key="vae_scatter", on_select="rerun", selection_mode="points")
            pts = (event or {}).get("selection", {}).get("points", []) if event else []
            if pts:
                idx = int(pts[0].get("customdata", pts[0].get("point_index", 0)))
                if SS.get("vae_scatter_loaded") != idx:
                    SS["vae_scatter_loaded"] = idx
                    SS["vae_pending_z"] = list(mu_test[idx])
                    SS["vae_notice"] = f"Loaded test image #{idx}'s code into the sliders."
                    st.rerun()
        if SS.get("vae_notice"):
            st.info(SS.pop("vae_notice"))

    # ------------------------------------------------------------ encode a test image or an upload
    if view == "Encode":
        c1, c2 = st.columns([1, 2])
        with c1:
            idx = st.number_input("test image #", 0, len(test) - 1, 0, key="vae_enc_idx")
            up = st.file_uploader("...or upload an image", type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
                                  key="vae_upload", max_upload_size=2)
        x, y_enc, where = test.images[idx:idx + 1], None, f"test image #{idx}"
        if model.num_classes:
            y_enc = int(test.labels[idx]) if test.labels is not None else 0
        if up is not None:
            try:
                from playground.data.base import resize_images, to_channels
                from playground.data.files import open_image
                from playground.userfiles import read_bounded

                arr = open_image(read_bounded(up, MAX_UPLOAD, "the upload"), model.shape[1],
                                 channels=model.shape[0])
                x = torch.from_numpy(arr)[None]
                if st.checkbox("invert (dark strokes on light paper)", key="vae_invert",
                               value=float(x.mean()) > 0.5):
                    x = 1.0 - x
                where = f"upload {up.name}"
                if model.num_classes:
                    y_enc = y_sel or 0
            except PlaygroundError as e:
                st.error(f"Cannot use {up.name}: {e}")
        mu, sd = encode(model, x, y_enc)
        with c2:
            sigma = decode_std(model, mu, y_enc)
            cols = st.columns(3 if sigma is not None else 2)
            with cols[0]:
                _img(x, 1, 160, caption=where)
            with cols[1]:
                _img(decode(model, mu, y_enc), 1, 160, caption="reconstruction (posterior mean)")
            if sigma is not None:   # a Gaussian decoder: where is it unsure of the pixel?
                top = float(sigma.max())
                with cols[2]:
                    _img(sigma / top, 1, 160, caption=f"decoder σ per pixel (white = {top:.2f}, black = 0)")
            import pandas as pd

            st.dataframe(pd.DataFrame({"mean": mu[0], "std": sd[0]}, index=[f"z{i}" for i in range(D)]).T.round(3))
            if st.button("Edit this code with the sliders", key="vae_enc_load"):
                SS["vae_pending_z"] = list(mu[0])
                SS["vae_notice_enc"] = "Loaded into the sliders (first tab)."
                st.rerun()
            if SS.get("vae_notice_enc"):
                st.success(SS.pop("vae_notice_enc"))

    # ------------------------------------------------------------ interpolation
    if view == "Interpolate":
        c = st.columns(3)
        ia = c[0].number_input("from test image #", 0, len(test) - 1, 0, key="vae_ia")
        ib = c[1].number_input("to test image #", 0, len(test) - 1, min(1, len(test) - 1), key="vae_ib")
        steps = c[2].slider("steps", 3, 16, 9, key="vae_isteps")
        ya = int(test.labels[ia]) if model.num_classes else None
        yb = int(test.labels[ib]) if model.num_classes else None
        for method in ("linear", "spherical"):
            strip = interpolate(model, mu_test[ia], mu_test[ib], steps=steps, method=method, y0=ya, y1=yb)
            _img(strip, nrow=steps, size_px=64, caption=f"{method} interpolation of the posterior means")
        st.caption("Spherical interpolation keeps codes near the shell where a high-dimensional Gaussian puts its "
                   "mass; the linear path cuts through the low-norm middle.")

    # ------------------------------------------------------------ class swap
    if view == "Class swap":
        if not model.num_classes:
            st.info("Class swaps need a conditional model: choose `pretrained: digits-cvae`.")
        else:
            picks = st.multiselect("test images", list(range(min(len(test), 200))), default=[0, 1, 2, 3],
                                   key="vae_swap_idx", max_selections=8)
            if picks:
                ix = torch.tensor(picks)
                out = class_swap(model, test.images[ix], test.labels[ix])
                _img(out, nrow=model.num_classes, size_px=48,
                     caption="each row: one image's code z (its style) decoded as every class")

    # ------------------------------------------------------------ beta comparison and background training
    if view == "β comparison":
        st.markdown("**Train a VAE in the background** (its own process; the run lives on disk and survives reloads)")
        c = st.columns(5)
        t_ds = c[0].selectbox("dataset", ["sprites", "digits"], key="vae_t_ds")
        t_beta = c[1].number_input("β", 0.0, 20.0, 4.0, step=0.5, key="vae_t_beta")
        t_lat = c[2].number_input("latents", 2, 32, 8 if t_ds == "sprites" else 2, key="vae_t_lat")
        t_ep = c[3].number_input("epochs", 1, 200, 20, key="vae_t_ep")
        t_size = c[4].number_input("train images", 200, 20000, 3000 if t_ds == "sprites" else 1497, key="vae_t_size")
        if st.button("Start training", key="vae_t_start"):
            name = f"{t_ds}-b{t_beta:g}-z{t_lat}-{time.strftime('%H%M%S')}"
            run = RUNS / name
            run.mkdir(parents=True, exist_ok=True)
            argv = [sys.executable, "-m", "playground", "vae", "train", "--dataset", t_ds, "--beta", str(t_beta),
                    "--latent", str(t_lat), "--epochs", str(t_ep), "--train-size", str(t_size), "--iwae-k", "16",
                    "--out", str(run), "--threads", "1", "--json", "--quiet"]
            with open(run / "stdout.txt", "w") as f:
                proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, start_new_session=True,
                                        cwd=str(ROOT))
            runs.write_status(run, state="starting", pid=proc.pid, epoch=0, epochs=int(t_ep))
            SS["vae_watch"] = str(run)

        all_runs = runs.list_runs(RUNS)
        any_active = any((runs.read_status(r) or {}).get("state") in ("starting", "loading", "running", "evaluating")
                         for r in all_runs[:10])

        # Polls the disk every second only while a run is active: an idle timer would delay the sliders.
        @st.fragment(run_every=1.0 if any_active else None)
        def progress_panel() -> None:
            active = []
            for run in all_runs[:10]:
                s = runs.read_status(run) or {}
                state = s.get("state", "?")
                if state in ("starting", "loading", "running", "evaluating") and not runs.pid_alive(s.get("pid")):
                    state = "died"
                if state in ("starting", "loading", "running", "evaluating"):
                    active.append(run)
                frac = min(1.0, s.get("epoch", 0) / max(1, s.get("epochs", 1)))
                cols = st.columns([3, 1])
                cols[0].progress(frac, text=f"{run.name}: {state}, epoch {s.get('epoch', 0)}/{s.get('epochs', '?')}"
                                 + (f" — {s['message']}" if s.get("message") else ""))
                if state in ("running", "loading", "starting") and cols[1].button("Stop", key=f"vae_stop_{run.name}"):
                    runs.request_stop(run)
            if not all_runs:
                st.caption("No runs yet.")
            was = SS.get("vae_active_runs", [])
            now = [r.name for r in active]
            SS["vae_active_runs"] = now
            if set(was) - set(now):      # a run finished: refresh the model list
                st.rerun(scope="app")

        progress_panel()

        st.markdown("**Compare two models side by side** (traversals of every dimension from z = 0, and metrics)")
        options = list(sources)
        defaults = [o for o in ("pretrained: sprites-vae", "pretrained: sprites-bvae") if o in options]
        cmp_ = st.multiselect("models", options, default=defaults, max_selections=2, key="vae_cmp")
        cols = st.columns(max(1, len(cmp_)))
        for col, name in zip(cols, cmp_):
            with col:
                try:
                    m2, ck2 = _load(sources[name]["path"], sources[name]["sha"] or None,
                                    os.path.getmtime(sources[name]["path"]))
                except PlaygroundError as e:
                    st.error(str(e))
                    continue
                met = ck2.get("metrics") or {}
                st.markdown(f"**{name}** — β = {m2.cfg.beta:g}")
                rows = torch.cat([traverse(m2, np.zeros(m2.latent), d, np.linspace(-SPAN, SPAN, 9), 0 if m2.num_classes else None)
                                  for d in range(min(m2.latent, 10))])
                _img(rows, nrow=9, size_px=40, caption="rows: z0, z1, ... from -3 to 3")
                metric_names = {"test_recon": "reconstruction E[log p(x|z)]", "test_kl": "KL", "test_elbo": "ELBO",
                                "test_iwae": f"IWAE (K={met.get('iwae_k')})", "active_units": "active units",
                                "mig": "MIG"}
                st.table({"metric": [metric_names[k] for k in metric_names if k in met],
                          "value": [f"{met[k]:.3f}" if isinstance(met[k], float) else str(met[k])
                                    for k in metric_names if k in met]})

    # ------------------------------------------------------------ training curves and KL per dimension
    if view == "Training":
        import plotly.graph_objects as go

        run_dir = sources[choice].get("run")
        rows = runs.read_metrics(run_dir) if run_dir else (sources[choice].get("card") or {}).get("history", [])
        c1, c2 = st.columns(2)
        with c1:
            if rows:
                ep = [r["epoch"] for r in rows]
                fig = go.Figure()
                for key, name in (("test_elbo", "test ELBO"), ("test_recon", "reconstruction E[log p(x|z)]"),
                                  ("test_kl", "KL(q(z|x) || p(z))")):
                    fig.add_scatter(x=ep, y=[r[key] for r in rows], name=name, mode="lines")
                fig.update_layout(height=360, template="plotly_white", xaxis_title="epoch", yaxis_title="nats",
                                  title="ELBO terms during training", margin={"t": 40})
                st.plotly_chart(fig, key="vae_curves")
            else:
                st.caption("Training curves are shown for runs trained on this page (their metrics.jsonl). "
                           f"This model's card: `{(sources[choice].get('card') or {}).get('command', '')}`")
        with c2:
            kl = np.asarray(metrics.get("kl_per_dim") or (rows[-1].get("kl_per_dim", []) if rows else []))
            if kl.size:
                fig = go.Figure(go.Bar(x=[f"z{i}" for i in range(len(kl))], y=kl,
                                       marker_color=["#1f77b4" if v > 0.01 else "#bbbbbb" for v in kl]))
                fig.update_layout(height=360, template="plotly_white", yaxis_title="nats",
                                  title=f"KL per dimension (active: {(kl > 0.01).sum()} of {len(kl)})",
                                  margin={"t": 40})
                st.plotly_chart(fig, key="vae_kl")
