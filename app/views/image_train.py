"""Image models — Train: launch runs of any image model in the background, watch them from their run folders.

The disk is the source of truth: the runs list is read from the runs folder on every poll, so a page
reload or an app restart finds every run again. A fragment polls the selected run every 1.5 s.
"""

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app.components.config_widgets import config_from_state, seed_state
from app.components.image_run_form import new_run_form
from playground.errors import PlaygroundError
from playground.images.config import DEFAULT_PRESET, PRESETS, ImageRunConfig
from playground.images.likelihood import given_label, likelihood_table
from playground.pictures import png_bytes
from playground.runs.animation import grids_gif
from playground.runs import launcher, states
from playground.runs.root import runs_root
from playground.runs.rundir import RunDir, list_runs

P = "img_"
SS = st.session_state
ACTIVE = states.ACTIVE
LOSS_KEYS = ("d_loss", "g_loss", "gp", "loss", "rec", "kl", "nll")
# Shown under the scores when a run has them: the inception-style score and the likelihood numbers.
EXTRA_SCORES = (("is", "IS", "{:.2f}"), ("test_nll_nats", "test NLL (nats)", "{:.1f}"),
                ("test_nll_bits_per_dim", "bits/dim", "{:.4f}"),
                ("test_marginal_nll_nats", "test NLL, mixture over y (nats)", "{:.1f}"),
                ("elbo_nats", "test ELBO (nats)", "{:.1f}"), ("iwae_nats", "test IWAE bound (nats)", "{:.1f}"))
GIVEN_Y = {"test_nll_nats": "test NLL given y (nats)", "test_nll_bits_per_dim": "bits/dim given y"}

seed_state(ImageRunConfig, PRESETS[DEFAULT_PRESET].config(ImageRunConfig), P)
SS.setdefault("img_preset", DEFAULT_PRESET)       # the form's widgets (app/components/image_run_form.py)
SS.setdefault("img_nproc", 1)
SS.setdefault("img_runs_dir", str(runs_root()))
if "img_pending_select" in SS:            # a run launched during the previous script run
    SS["img_selected"] = SS.pop("img_pending_select")


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
    launch = new_run_form(P)

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
      "FID": round(r["fid"], 3) if r.get("fid") is not None else None,
      "IS": round(r["is"], 2) if r.get("is") is not None else None,
      "NLL −log p(x) (bits/dim)": r.get("test_marginal_nll_bits_per_dim") if given_label(r["config"])
      else r.get("test_nll_bits_per_dim")} for r in runs],
    hide_index=True, width="stretch", key="img_runs_table")
lik = likelihood_table(runs)
if lik:
    with st.expander("Likelihood vs bound: PixelCNN's exact −log p(x) beside the VAE's −ELBO and −IWAE", expanded=True):
        st.dataframe(lik, hide_index=True, width="stretch", key="img_lik_table")
        st.caption("Nats per image on the named split (lower is better). PixelCNN's numbers are exact; the VAE's are "
                   "upper bounds on its −log p(x) (IWAE tighter than the ELBO). A class-conditional PixelCNN's "
                   "−log p(x | y) is given the label, so it does not compare with −log p(x): its mixture over the "
                   "labels does. Compare only rows on the same split: a binarised VAE (`binarize`) sees the same "
                   "bits as the PixelCNN.")
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
                      help="from the latest checkpoint (from step 0 if the run stopped before writing one); "
                           "a completed run trains on to twice its steps"):
        try:
            launcher.resume(run.path, steps=launcher.resume_length(run.path))
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
                given = given_label(run.config())
                extra = [(GIVEN_Y.get(k, name_) if given else name_, fmt.format(last[k]))
                         for k, name_, fmt in EXTRA_SCORES if last.get(k) is not None]
                for col, (name_, text) in zip(st.columns(max(1, len(extra))), extra):
                    col.metric(name_, text)
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
                rc = run.config() or {}
                weights = "EMA weights" if float(rc.get("ema_decay") or 0) > 0 else "raw weights (no EMA)"
                st.image(_upscale_png(path), caption=f"fixed seed, {weights}, step {chosen}"
                         + (" · one row per class" if rc.get("model") == "cgan" or rc.get("conditional") else ""))
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
