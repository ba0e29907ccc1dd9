"""GAN lab: train a GAN on a toy 1D/2D distribution live, change settings while it runs."""

import numpy as np
import streamlit as st

from app.components.config_upload import config_upload
from app.components.config_widgets import (
    config_from_state,
    lesson_caption,
    seed_from_url,
    seed_state,
    sync_url,
    target_shape_widgets,
    widget,
)
from app.components.gan_toolbox import gan_toolbox
from app.components.lab_worker import hold, worker_limit_notice
from app.components.live_figure import feed, live_figure
from app.components.mixture_table import mixture_table
from app.components.points_upload import points_upload
from playground.configs import to_json
from playground.errors import PlaygroundError
from playground.objectives import get_objective
from playground.toy.config import DISTS_1D, TARGET_DEFAULTS, ToyConfig
from playground.toy.plots import live_frame
from playground.toy.presets import PRESETS
from playground.toy.userdata import points_to_csv
from playground.toy.worker import LabWorker
from playground.toy.worker_limits import WorkerLimitError

P = "toy_"          # widget-key prefix of ToyConfig fields
SS = st.session_state
SPEEDS = {"1 step/s": 1.0, "10 steps/s": 10.0, "100 steps/s": 100.0, "1000 steps/s": 1000.0, "max": None}

url_problems = seed_from_url(ToyConfig, P, "toy_url_seeded")
seed_state(ToyConfig, ToyConfig(), P)
SS.setdefault("toy_points", None)
SS.setdefault("toy_draw_epoch", 0)
SS.setdefault("toy_frame", 0)
if "toy_pending_dist" in SS:          # set by an upload or a drawing during the previous run
    SS[P + "dist"] = SS.pop("toy_pending_dist")
if "toy_pending_formula" in SS:       # an edit of the mixture table during the previous run
    SS[P + "formula"] = SS.pop("toy_pending_formula")
if SS.pop("toy_pending_draw_off", False):
    SS["toy_draw"] = False


def _on_dist_change() -> None:
    d = TARGET_DEFAULTS[SS[P + "dist"]]
    for k in ("n_modes", "radius", "std"):
        SS[P + k] = d[k]
    if SS[P + "dist"] in DISTS_1D:
        SS[P + "latent_dim"] = 1
    elif SS.get("toy_last_dist") in DISTS_1D and SS[P + "latent_dim"] == 1:
        SS[P + "latent_dim"] = ToyConfig().latent_dim     # back from 1D: the 2D default, not 1D's choice


def _on_preset() -> None:
    name = SS["toy_preset"]
    if name in PRESETS:
        seed_state(ToyConfig, PRESETS[name].config(ToyConfig), P, force=True)
        SS["toy_notice"] = f"Preset loaded: {PRESETS[name].title}"


def _new_session(cfg: ToyConfig) -> None:
    """Fresh networks from the seed, in the session's training process (started on first use or when the
    last one ended; raises WorkerLimitError when the server has no slot left)."""
    points = SS["toy_points"] if cfg.dist == "custom" else None
    worker = SS.get("toy_lab")
    if worker is not None and worker.alive:
        worker.reset(cfg, points)
    else:
        SS["toy_lab"] = LabWorker(cfg, points)
    SS["toy_playing"] = False
    SS["toy_rate"] = "max"


# ---------------------------------------------------------------- sidebar: settings
with st.sidebar:
    st.selectbox("Lesson preset", list(PRESETS), key="toy_preset", format_func=lambda k: PRESETS[k].title,
                 on_change=_on_preset, help="Reproduces a classic lesson in one click")
    lesson = st.empty()
    st.subheader("Data")
    widget(ToyConfig, "dist", P, on_change=_on_dist_change, label="target")
    dist = SS[P + "dist"]
    if dist == "mixture1d":
        if (edited := mixture_table(SS[P + "formula"], key_prefix="toy_mix_")) is not None:
            SS["toy_pending_formula"] = edited       # applied before the formula field is drawn
            st.rerun()
        widget(ToyConfig, "formula", P, label="mixture formula")
    elif dist != "custom":
        target_shape_widgets(ToyConfig, P)
    with st.expander("Your own data (CSV or drawing)", expanded=dist == "custom"):
        points_upload("toy", "Draw points on the plot",
                      "Click on the plot to add points; shift-click adds a small cloud")
    st.subheader("Objective")
    widget(ToyConfig, "loss", P)
    objective = get_objective(SS[P + "loss"])
    st.caption(f"{objective.formula}. {objective.lesson}")
    if objective.penalty == "gradient_penalty":
        widget(ToyConfig, "gp_weight", P, label="gradient penalty λ", step=1.0)
    if objective.clip:
        widget(ToyConfig, "clip", P, label="weight clip", step=0.005, format="%.4f")
    gan_toolbox(P, objective)
    st.subheader("Optimisation")
    c1, c2 = st.columns(2)
    widget(ToyConfig, "d_opt", P, c1, label="D optimiser")
    widget(ToyConfig, "g_opt", P, c2, label="G optimiser")
    widget(ToyConfig, "d_lr", P, label="D learning rate")
    widget(ToyConfig, "g_lr", P, label="G learning rate")
    c1, c2, c3 = st.columns(3)
    widget(ToyConfig, "d_steps", P, c1, label="D steps")
    widget(ToyConfig, "g_steps", P, c2, label="G steps")
    widget(ToyConfig, "batch_size", P, c3, label="batch")
    widget(ToyConfig, "beta1", P, label="Adam β1 / momentum", step=0.05)
    widget(ToyConfig, "lr_half_life", P, label="learning-rate half-life (steps, 0 = constant)", step=500)
    with st.expander("Networks and noise (changes reset training)"):
        c1, c2 = st.columns(2)
        widget(ToyConfig, "g_layers", P, c1, label="G layers")
        widget(ToyConfig, "g_width", P, c2, label="G width", step=8)
        widget(ToyConfig, "d_layers", P, c1, label="D layers")
        widget(ToyConfig, "d_width", P, c2, label="D width", step=8)
        widget(ToyConfig, "activation", P)
        widget(ToyConfig, "latent_dim", P, c1, label="noise dim")
        widget(ToyConfig, "noise", P, c2, label="noise")
        widget(ToyConfig, "init_offset", P, label="initial offset of G", step=0.5)
        widget(ToyConfig, "eval_samples", P, label="samples per evaluation", step=500)
    widget(ToyConfig, "seed", P)

# ---------------------------------------------------------------- config -> session
for p in url_problems:
    st.warning(f"Ignored a bad URL setting: {p}")
base = SS["toy_lab"].cfg if "toy_lab" in SS else ToyConfig()
cfg, cfg_error = config_from_state(ToyConfig, P, base)
if cfg_error:
    st.error(f"Invalid setting: {cfg_error}. The previous settings are kept.")
lesson_caption(lesson, PRESETS[SS["toy_preset"]], cfg)

if cfg.dist == "custom" and SS["toy_points"] is None:
    st.info("Target 'custom' needs data: upload a CSV of x,y columns or draw points (sidebar). "
            "Showing the previous target meanwhile.")
    cfg = base
try:
    if "toy_lab" not in SS or not SS["toy_lab"].alive:
        if "toy_lab" in SS:
            SS["toy_notice"] = ("The previous training process had ended (unused for a while, or the connection "
                                "was lost); a new one starts from step 0 with your settings.")
        _new_session(cfg)
    else:
        lab: LabWorker = SS["toy_lab"]
        reset_fields = lab.needs_reset(cfg)
        if cfg.dist == "custom" and SS.get("toy_points_used") is not SS["toy_points"]:
            reset_fields = reset_fields | {"data"}
        if reset_fields:
            was_playing = SS.get("toy_playing", False)
            _new_session(cfg)
            st.toast(f"Training reset: changed {', '.join(sorted(reset_fields))}.")
            if was_playing:
                SS["toy_lab"].play()
                SS["toy_playing"] = True
        elif lab.cfg != cfg:
            lab.apply(cfg)
    SS["toy_points_used"] = SS["toy_points"] if cfg.dist == "custom" else None
except WorkerLimitError as e:
    SS["toy_playing"] = False
    worker_limit_notice(e, keep=("toy_speed", "toy_show"))     # ends this run
except PlaygroundError as e:
    st.error(f"Cannot use these settings: {e}")
    if "toy_lab" not in SS or not SS["toy_lab"].alive:
        _new_session(ToyConfig())

lab: LabWorker = SS["toy_lab"]
feed_token = SS.setdefault("toy_feed_token", feed.new_token())
hold(lab, on_end=lambda: feed.unregister(feed_token))    # the process ends with the browser session
SS["toy_last_dist"] = SS[P + "dist"]
playing = SS.get("toy_playing", False)
sync_url(lab.cfg)
if "toy_notice" in SS:
    st.toast(SS.pop("toy_notice"))

# ---------------------------------------------------------------- controls
st.title("GAN lab")
cols = st.columns([1.1, 1, 1, 1, 1, 2.2])
label, icon = ("Pause", ":material/pause:") if playing else ("Play", ":material/play_arrow:")
if cols[0].button(label, key=f"toy_{label.lower()}", type="primary", icon=icon, width="stretch"):
    (lab.pause if playing else lab.play)()
    SS["toy_playing"] = not playing
    st.rerun()
for col, which, text in ((cols[1], "d", "Step D"), (cols[2], "g", "Step G"), (cols[3], "both", "Step")):
    if col.button(text, key=f"toy_step_{which}", width="stretch",
                  help={"d": "one discriminator update", "g": "one generator update",
                        "both": "one full iteration"}[which]):
        lab.step(which)
        SS["toy_playing"] = playing = False
if cols[4].button("Reset", key="toy_reset", icon=":material/restart_alt:", width="stretch",
                  help="new networks from the seed"):
    _new_session(lab.cfg)
    st.rerun()
speed = cols[5].select_slider("speed", list(SPEEDS), value="max", key="toy_speed", label_visibility="collapsed",
                              help="training speed cap (slow speeds let you follow single updates)")
if SS.get("toy_rate") != speed:
    lab.set_rate(SPEEDS[speed])
    SS["toy_rate"] = speed
show_opts = st.pills("show", ["heatmap", "arrows", "manifold", "real", "generated"],
                          selection_mode="multi", default=["heatmap", "arrows", "real", "generated"],
                          key="toy_show", label_visibility="collapsed")
show = {"heatmap": "heatmap" in show_opts, "arrows": "arrows" in show_opts, "manifold": "manifold" in show_opts,
        "real": "real" in show_opts, "fake": "generated" in show_opts}


# ---------------------------------------------------------------- the live view
def draw_controls() -> None:
    """Under the plot while drawing (inside the fragment, so the count follows every click)."""
    drawn = SS.get("toy_drawn") or []
    c0, c1, c2 = st.columns([2, 1, 1])
    where = "only its x position counts on a 1D target" if lab.dim == 1 else "shift-click adds a small cloud"
    c0.caption(f"{len(drawn)} points drawn. Click the plot to add points; {where}.")
    if c1.button("Train on drawing", disabled=len(drawn) < 2, key="toy_draw_use"):
        pts = np.asarray(drawn, dtype=np.float64)
        SS["toy_points"] = pts[:, :1] if lab.dim == 1 else pts      # 1D: the height of a click is not data
        SS["toy_pending_dist"] = "custom"
        SS["toy_pending_draw_off"] = True
        st.rerun(scope="app")
    if c2.button("Clear drawing", key="toy_draw_clear"):
        SS["toy_drawn"] = []
        SS["toy_draw_epoch"] += 1
        st.rerun(scope="fragment")


# While playing, the browser pulls frames from the server's feed (app/server.py) without rerunning the
# script; where the feed route is not mounted (one page run alone, AppTest) the fragment reruns instead.
use_feed = playing and feed.MOUNTED
if use_feed:
    shown = dict(show)
    feed.register(feed_token, lambda q: live_frame(
        lab.snapshot(show_arrows=shown["arrows"], show_manifold=shown["manifold"]), shown,
        curves=q.get("curves") == "1"))
else:
    feed.unregister(feed_token)


@st.fragment(run_every=0.1 if playing and not use_feed else None)
def live_view() -> None:
    try:
        snap = lab.snapshot(show_arrows=show["arrows"], show_manifold=show["manifold"])
    except PlaygroundError as e:
        st.error(str(e))
        return
    stats = snap["stats"]
    if stats["error"]:
        st.error(stats["error"])
    if playing and not stats["playing"]:
        SS["toy_playing"] = False        # the worker paused itself (error, or the tab was idle)
        st.rerun()
    SS["toy_frame"] += 1
    # The slow-moving curves are redrawn every third frame while playing (each redraw costs the browser).
    frame = live_frame(snap, show, curves=not playing or use_feed or SS["toy_frame"] % 3 == 0)
    value = live_figure(frame["figures"], [["field"], ["losses", "metrics"]], widths=[3, 2], key="toy_live",
                        height=620, frame=SS["toy_frame"], header=frame["header"], step=frame["step"],
                        playing=frame["playing"], feed=feed.url_for(feed_token) if use_feed else None,
                        feed_min_gap_ms=92, fast=["field", "losses", "metrics"],  # <= 10.9 fps
                        draw=bool(SS.get("toy_draw")), draw_points=SS.get("toy_drawn") or [],
                        draw_epoch=SS["toy_draw_epoch"])
    if isinstance(value, dict) and value.get("epoch") == SS["toy_draw_epoch"]:
        SS["toy_drawn"] = value.get("points") or []
    if SS.get("toy_draw"):
        draw_controls()


live_view()

# ---------------------------------------------------------------- import / export
with st.expander("Share, save and load"):
    st.caption("The URL already holds this configuration: copy it to share the setup. "
               "Download a figure as PNG (the latest frame, also while playing) with the camera icon above it.")
    c1, c2, c3 = st.columns(3)
    c1.download_button("Config (JSON)", to_json(lab.cfg), file_name="gan_lab_config.json",
                       mime="application/json", on_click="ignore")
    # A callable: the samples are drawn when the button is clicked, so they are current even while playing
    # (no script run happens then).
    c2.download_button("Current samples (CSV)", lambda: points_to_csv(lab.sample(lab.cfg.eval_samples, seed=0)),
                       file_name="gan_lab_samples.csv", mime="text/csv", on_click="ignore")
    config_upload(ToyConfig, "toy_cfg_upload", lambda c: seed_state(ToyConfig, c, P, force=True),
                  container=c3)
