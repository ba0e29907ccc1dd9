"""Image models — Train: launch GAN/VAE runs as background processes and watch them from their run directories.

The disk is the source of truth: the runs list is read from the runs folder on every poll, so a page
reload or an app restart finds every run again. A fragment polls the selected run every 1.5 s.
"""

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app.components.config_widgets import config_from_state, seed_state, widget
from playground.errors import PlaygroundError
from playground.images.config import MODEL_LOSS, PRESETS, RESOLUTIONS, ImageRunConfig
from playground.objectives import get_objective
from playground.pictures import png_bytes
from playground.runs.animation import grids_gif
from playground.runs import launcher, states
from playground.runs.root import runs_root
from playground.runs.rundir import RunDir, list_runs

P = "img_"
SS = st.session_state
ACTIVE = states.ACTIVE
LOSS_KEYS = ("d_loss", "g_loss", "gp", "loss", "rec", "kl")
SCORE_KEYS = ("fid", "kid", "precision", "recall")

seed_state(ImageRunConfig, PRESETS["dcgan_digits"].config(ImageRunConfig), P)
SS.setdefault("img_preset", "dcgan_digits")
SS.setdefault("img_nproc", 1)
SS.setdefault("img_runs_dir", str(runs_root()))
if "img_pending_select" in SS:            # a run launched during the previous script run
    SS["img_selected"] = SS.pop("img_pending_select")


def _on_preset() -> None:
    name = SS["img_preset"]
    if name in PRESETS:
        seed_state(ImageRunConfig, PRESETS[name].config(ImageRunConfig), P, force=True)


def _on_model() -> None:
    """A new architecture starts with its published objective (the user may then pick any other)."""
    SS[P + "loss"] = MODEL_LOSS.get(SS[P + "model"])


def _upscale_png(path: Path, target: int = 320) -> bytes:
    from PIL import Image

    im = Image.open(path)
    im.load()
    scale = max(1, target // max(im.width, 1))
    return png_bytes(np.asarray(im), scale=scale)


def _fmt_eta(s) -> str:
    if s is None:
        return "ETA —"
    s = int(s)
    return f"ETA {s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"ETA {s // 60}m{s % 60:02d}s"


def curves_figure(series: dict[str, list[dict]], keys: tuple[str, ...], title: str, log_y: bool = False) -> go.Figure:
    """One line per (run, key) present in the runs' metrics rows."""
    fig = go.Figure()
    for run_name, rows in series.items():
        for k in keys:
            pts = [(r["step"], r[k]) for r in rows if isinstance(r.get(k), (int, float))]
            if pts:
                x, y = zip(*pts)
                label = k if len(series) == 1 else f"{run_name} · {k}"
                fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers" if len(pts) < 30 else "lines", name=label))
    fig.update_layout(title=title, height=280, margin=dict(l=40, r=10, t=40, b=30), template="plotly_white",
                      legend=dict(orientation="h", y=-0.25), xaxis_title="step")
    if log_y:
        fig.update_yaxes(type="log")
    return fig


# ---------------------------------------------------------------- sidebar: a new run
with st.sidebar:
    st.header("New run")
    st.selectbox("Preset", list(PRESETS), key="img_preset", format_func=lambda k: PRESETS[k].title,
                 on_change=_on_preset, help="known-good starting points")
    st.caption(PRESETS[SS["img_preset"]].lesson)
    widget(ImageRunConfig, "dataset", P)
    if SS[P + "dataset"] in ("folder", "npz", "mnist", "fashion_mnist", "cifar10", "celeba"):
        widget(ImageRunConfig, "data_path", P, label="data folder / file")
    # A selectbox shows None as "no choice", so "the dataset's own" is 0 here and None in the config.
    SS["img_res_choice"] = SS.get(P + "resolution") or 0

    def _on_res() -> None:
        SS[P + "resolution"] = SS["img_res_choice"] or None

    st.selectbox("resolution", [0, *RESOLUTIONS], key="img_res_choice", on_change=_on_res,
                 format_func=lambda r: "dataset's own" if not r else f"{r}x{r}")
    widget(ImageRunConfig, "model", P, on_change=_on_model)
    model = SS[P + "model"]
    if model == "vae":
        SS[P + "loss"] = None                    # the VAE trains on its ELBO
    else:
        SS[P + "loss"] = SS.get(P + "loss") or MODEL_LOSS[model]
        widget(ImageRunConfig, "loss", P, label="objective (any, with any architecture)")
        st.caption(get_objective(SS[P + "loss"]).formula)
    c1, c2 = st.columns(2)
    widget(ImageRunConfig, "steps", P, c1, step=100)
    widget(ImageRunConfig, "batch_size", P, c2, step=16)
    with st.expander("Model and optimiser"):
        c1, c2, c3 = st.columns(3)
        if model != "vae":
            widget(ImageRunConfig, "g_width", P, c1, label="G width", step=8)
            widget(ImageRunConfig, "d_width", P, c2, label="D width", step=8)
        else:                            # the VAE lab's conv VAE: one width for encoder and decoder
            widget(ImageRunConfig, "d_width", P, c1, label="VAE width", step=8)
        widget(ImageRunConfig, "latent_dim", P, c3, label="z dim")
        if model != "vae":
            widget(ImageRunConfig, "extra_layers", P, label="extra 3x3 conv layers in G and D")
        widget(ImageRunConfig, "g_lr", P, label="G learning rate" if model != "vae" else "learning rate")
        if model != "vae":
            widget(ImageRunConfig, "d_lr", P, label="D learning rate")
            c1, c2 = st.columns(2)
            widget(ImageRunConfig, "beta1", P, c1, label="Adam β1", step=0.1)
            widget(ImageRunConfig, "beta2", P, c2, label="Adam β2", step=0.001, format="%.3f")
            widget(ImageRunConfig, "d_steps", P, label="D steps per G step")
            objective = get_objective(SS[P + "loss"])
            if objective.penalty == "gradient_penalty":
                widget(ImageRunConfig, "gp_weight", P, label="gradient penalty λ", step=1.0)
            if objective.clip:
                widget(ImageRunConfig, "clip", P, label="weight clipping c", format="%.3f", step=0.005)
        else:
            widget(ImageRunConfig, "kl_weight", P, label="KL weight β", step=0.1)
        widget(ImageRunConfig, "ema_decay", P, label="EMA decay of G", step=0.001, format="%.4f")
        widget(ImageRunConfig, "seed", P)
    with st.expander("Hardware"):
        widget(ImageRunConfig, "device", P)
        c1, c2 = st.columns(2)
        widget(ImageRunConfig, "amp", P, c1, label="mixed precision")
        widget(ImageRunConfig, "channels_last", P, c2, label="channels last")
        widget(ImageRunConfig, "threads", P, label="CPU threads (0 = default)")
        st.number_input("processes (torchrun, DDP)", 1, 16, key="img_nproc",
                        help="more than one starts the trainer under torchrun: gloo on CPU, NCCL on GPUs")
    with st.expander("Logging and scores"):
        widget(ImageRunConfig, "sample_every", P, step=50)
        widget(ImageRunConfig, "checkpoint_every", P, step=100)
        widget(ImageRunConfig, "eval_every", P, label="score every (0 = at the end)", step=100)
        widget(ImageRunConfig, "eval_samples", P, label="images per score", step=100)
        widget(ImageRunConfig, "features", P, label="score features")
        widget(ImageRunConfig, "log_every", P)
    st.text_input("runs folder", key="img_runs_dir", help="where run directories live (default: $PLAYGROUND_RUNS "
                  "or runs/)")
    st.text_input("run name (optional)", key="img_name")
    launch = st.button("Launch run", type="primary", key="img_launch", icon=":material/rocket_launch:",
                       width="stretch")

cfg, cfg_error = config_from_state(ImageRunConfig, P, ImageRunConfig())
if cfg_error:
    st.error(f"Invalid setting: {cfg_error}")
runs_dir = SS["img_runs_dir"] or str(runs_root())
st.title("Image models: train")
if launch and not cfg_error:
    try:
        path = launcher.start(cfg, SS.get("img_name") or None, nproc=int(SS["img_nproc"]), root=runs_dir)
        SS["img_pending_select"] = path.name
        SS["img_notice"] = f"Launched {path.name}"
        st.rerun()
    except (PlaygroundError, OSError) as e:
        st.error(f"Cannot launch: {e}")
if "img_notice" in SS:
    st.toast(SS.pop("img_notice"))

# ---------------------------------------------------------------- the runs on disk
runs = list_runs(runs_dir, kind="images")
names = [r["name"] for r in runs]
if not runs:
    st.info(f"No runs in `{runs_dir}` yet. Pick a preset in the sidebar and press **Launch run**.")
    st.stop()
if SS.get("img_selected") not in names:
    SS["img_selected"] = names[0]
any_active = any(r["state"] in ACTIVE for r in runs)

st.dataframe(
    [{"run": r["name"], "state": r["state"], "progress": f"{r['step']}/{r['total_steps']}", "model": r["model"],
      "objective": r["config"].get("loss") or "",
      "dataset": r["dataset"], "device": r.get("device") or "",
      "FID": round(r["fid"], 3) if r.get("fid") is not None else None} for r in runs],
    hide_index=True, width="stretch", key="img_runs_table")
c1, c2 = st.columns([1, 2])
c1.selectbox("Run", names, key="img_selected")
c2.multiselect("Overlay curves of", names, key="img_compare", help="compare losses and FID across runs")


@st.fragment(run_every=1.5 if any_active else None)
def run_card() -> None:
    name = SS["img_selected"]
    try:
        run = RunDir.open(Path(runs_dir) / name)
        st_ = run.effective_status()
        rows = run.read_metrics()
    except PlaygroundError as e:
        st.error(str(e))
        return
    state = st_.get("state", "?")
    step, total = int(st_.get("step") or 0), int(st_.get("total_steps") or 1)
    head = st.columns([3, 1, 1, 1])
    head[0].subheader(f"{name}")
    head[0].caption(f"state **{state}** · {st_.get('device') or 'device —'} · "
                    f"{st_.get('world_size') or 1} process(es)" + (f" · {st_['phase']}" if st_.get("phase") else ""))
    active = state in ACTIVE and not st_.get("process_gone")
    if head[1].button("Stop", key="img_stop", disabled=not active, icon=":material/stop:"):
        try:
            launcher.stop(run.path)
            st.toast(f"Stop requested for {name}")
        except PlaygroundError as e:
            st.error(str(e))
    if head[2].button("Resume", key="img_resume", disabled=active, icon=":material/play_arrow:",
                      help="from the latest checkpoint (from step 0 if the run stopped before writing one)"):
        try:
            more = total if state != "completed" else total * 2
            launcher.resume(run.path, steps=more if state == "completed" else None)
            st.rerun()
        except PlaygroundError as e:
            st.error(str(e))
    if head[3].button("Delete", key="img_delete", disabled=active, icon=":material/delete:"):
        try:
            launcher.delete(run.path)
            SS["img_notice"] = f"Deleted {name}"
            st.rerun()
        except PlaygroundError as e:
            st.error(str(e))
    if st_.get("error"):
        st.error(st_["error"])
    ips = st_.get("images_per_sec")
    st.progress(min(1.0, step / max(1, total)),
                text=f"step {step}/{total} · {_fmt_eta(st_.get('eta_s')) if active else state}"
                     + (f" · {ips:g} images/s" if ips else ""))
    if SS.get("img_was_active", {}).get(name) and not active:
        SS["img_was_active"][name] = False
        st.rerun()                       # the run just ended: stop polling (needs a full rerun)
    SS.setdefault("img_was_active", {})[name] = active

    left, right = st.columns([3, 2])
    series = {name: rows}
    for other in SS.get("img_compare") or []:
        if other != name and (Path(runs_dir) / other).is_dir():
            try:
                series[other] = RunDir.open(Path(runs_dir) / other).read_metrics()
            except PlaygroundError:
                pass
    with left:
        st.plotly_chart(curves_figure(series, LOSS_KEYS, "losses"), key="img_loss_chart")
        scored = [r for r in rows if "fid" in r]
        if scored or len(series) > 1:
            st.plotly_chart(curves_figure(series, ("fid",), "FID (lower is better)"), key="img_fid_chart")
            if scored:
                last = scored[-1]
                m = st.columns(4)
                m[0].metric("FID", f"{last['fid']:.3f}")
                m[1].metric("KID", f"{last['kid']:.4f}")
                m[2].metric("precision", f"{last['precision']:.3f}")
                m[3].metric("recall", f"{last['recall']:.3f}")
                acc = last.get("feature_accuracy")
                st.caption(f"Scores at step {last['step']} in the features of **{last.get('fid_features')}**"
                           + (f" — the feature classifier's test accuracy is {acc:.1%}" if acc is not None else "")
                           + ". Not comparable with published Inception FIDs.")
    with right:
        samples = run.samples()
        if samples:
            steps_with = [s for s, _ in samples]
            key = f"img_sample_idx_{name}"
            if len(samples) > 1:
                # follow the newest grid unless the user moved the slider back (set before the widget is drawn)
                if SS.get(key) not in steps_with or SS.get(key) == SS.get(key + "_latest"):
                    SS[key] = steps_with[-1]
                SS[key + "_latest"] = steps_with[-1]
                chosen = st.select_slider("sample grid at step", steps_with, key=key)
            else:
                chosen = steps_with[0]
            path = dict(samples)[chosen]
            try:
                st.image(_upscale_png(path), caption=f"fixed noise, EMA generator, step {chosen}")
                if len(samples) > 1:   # the same grids as one animation (engine: playground/runs/animation.py)
                    st.download_button("grids over training (GIF)", grids_gif(run), f"{name}-grids.gif",
                                       "image/gif", key=f"img_gif_{name}")
            except OSError:
                st.caption("(sample being written)")
        else:
            st.caption("No sample grid yet.")
        tail = run.log_tail(12)
        if tail:
            st.code("\n".join(tail), language=None)


run_card()
