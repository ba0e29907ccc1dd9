"""Model families lab: flows, autoregressive models, VAEs, diffusion, flow matching and GANs on one toy target,
trained live in lockstep (same seed, same batches), each with its own view, and one honest scoreboard.

The models train in a process of the browser session's own (playground/families/worker.py): this script and the
frame feed only send it commands and turn its snapshots into figures."""

import time

import streamlit as st

from app.components import families_setup as fs
from app.components.families_history import export_buttons, history_controls, new_stop
from app.components.lab_worker import hold, worker_limit_notice
from app.components.live_figure import feed, live_figure
from app.components.run_panel import launch, run_list
from playground.errors import PlaygroundError
from playground.families import plots
from playground.families.setup import default_setup, setup_from_query, setup_query
from playground.families.worker import FamiliesWorker
from playground.toy.userdata import points_to_csv
from playground.toy.worker_limits import WorkerLimitError

SS = st.session_state
FRAME_S = 0.1                         # the fragment's period where the frame feed is not mounted (AppTest)

url_problems = []
if not SS.get("fam_url_seeded"):
    SS["fam_url_seeded"] = True
    url_cfgs, url_problems = setup_from_query(dict(st.query_params))
    fs.seed_setup(url_cfgs, force=True)
fs.seed_setup(default_setup())
for key, target in (("fam_pending_dist", fs.P + "dist"), ("fam_pending_look_off", "fam_look"),
                    ("fam_pending_draw_off", "fam_draw")):
    if key in SS:                      # set during the previous run, applied before the widget is drawn
        value = SS.pop(key)
        SS[target] = value if key == "fam_pending_dist" else False
SS.setdefault("fam_frame", 0)
SS.setdefault("fam_draw_epoch", 0)


def data_key(cfg):
    """What of the user's data the target uses (a new upload or drawing retrains)."""
    return (id(SS.get("fam_points")) if cfg.dist == "custom" else None,
            id(SS.get("fam_picture")) if cfg.dist == "image" else None)


def new_lab(cfgs, playing=False):
    """Fresh networks from `cfgs` in the session's training process (started on first use or when the last one
    ended; WorkerLimitError when the server has no slot left)."""
    points = SS.get("fam_points") if cfgs[0].dist == "custom" else None
    picture = SS.get("fam_picture") if cfgs[0].dist == "image" else None
    lab = SS.get("fam_lab")
    if lab is not None and lab.alive:
        lab.reset(cfgs, points, picture)
    else:
        SS["fam_lab"] = lab = FamiliesWorker(cfgs, points, picture)
    if playing:
        lab.play()
    SS["fam_data"], SS["fam_look"] = data_key(cfgs[0]), False


lab = SS.get("fam_lab")
if lab is not None and lab.alive:
    try:
        lab.refresh()                     # its step, playing, scores and history as of now
    except PlaygroundError:
        lab.close()
base = lab.cfgs if lab is not None else default_setup()
cfgs, cfg_error = fs.setup_from_state(base)
with st.sidebar:
    fs.target_panel()
    fs.model_panels(cfgs)
    cfgs, cfg_error = fs.setup_from_state(base)

# ---------------------------------------------------------------- settings -> the lab (state kept on errors)
for p in url_problems:
    st.warning(f"Ignored a bad URL setting: {p}")
if cfg_error:
    st.error(f"Invalid setting: {cfg_error}. The previous settings are kept.")
if cfgs[0].dist == "custom" and SS.get("fam_points") is None:
    st.info("Target 'custom' needs data: upload a CSV of x,y columns or draw points (sidebar). Showing the "
            "previous target meanwhile.")
    cfgs = base
pending = False
try:
    if lab is None or not lab.alive:
        if lab is not None:
            SS["fam_notice"] = ("The previous training process had ended (unused for a while, or the connection "
                                "was lost); a new one starts from step 0 with your settings.")
        new_lab(cfgs)
    elif cfgs != lab.cfgs or SS.get("fam_data") != data_key(cfgs[0]):
        try:
            if SS.get("fam_data") != data_key(cfgs[0]):
                raise PlaygroundError("data")
            lab.apply(cfgs)                    # live settings (batch, sampling steps, K...) need no reset
        except PlaygroundError:
            if SS.get("fam_look"):
                pending = True                 # applied by Branch, or by a reset when leaving Look back
            else:
                changed = sorted({f for a, b in zip(cfgs, lab.cfgs) for f in a.__dataclass_fields__
                                  if getattr(a, f) != getattr(b, f)} | ({"models"} if len(cfgs) != len(lab.cfgs)
                                                                        else set()))
                new_lab(cfgs, playing=lab.playing)
                st.toast(f"Training reset: changed {', '.join(changed) or 'data'}.")
except WorkerLimitError as e:
    worker_limit_notice(e, keep=tuple(k for k in SS if k.startswith("fam") and "_view_" in k),
                        page="families lab", retry_key="fam_worker_retry")     # ends this run
except PlaygroundError as e:
    st.error(f"Cannot use these settings: {e}")
    if SS.get("fam_lab") is None or not SS["fam_lab"].alive:
        new_lab(default_setup())
lab: FamiliesWorker = SS["fam_lab"]
token = SS.setdefault("fam_feed_token", feed.new_token())
hold(lab, on_end=lambda: feed.unregister(token), lab="families")    # the process ends with the browser session
labels = [plots.model_label(c) for c in lab.cfgs]
if "fam_notice" in SS:
    st.toast(SS.pop("fam_notice"))
want = setup_query(lab.cfgs)
if want != {k: st.query_params[k] for k in st.query_params}:
    st.query_params.from_dict(want)

# ---------------------------------------------------------------- controls
st.title("Model families lab")
playing = lab.playing
cols = st.columns([1.1, 1, 1, 1.3, 3])
label, icon = ("Pause", ":material/pause:") if playing else ("Play", ":material/play_arrow:")
if cols[0].button(label, key=f"fam_{label.lower()}", type="primary", icon=icon, width="stretch",
                  disabled=lab.done and not playing):
    if playing:
        lab.pause()
    else:
        lab.play()
        SS["fam_look"] = False
    st.rerun()
if cols[1].button("Step", key="fam_step", width="stretch",
                  help="one training iteration of every model (a GAN's: its D steps, then its G steps), on the same "
                       "batch"):
    SS["fam_look"] = False
    lab.step_once()
if cols[2].button("Reset", key="fam_reset", icon=":material/restart_alt:", width="stretch",
                  help="new networks from the seed, for every model"):
    new_lab(lab.cfgs)
    st.rerun()
if cols[3].button("Evaluate", key="fam_eval", icon=":material/scoreboard:", width="stretch",
                  help="fill the scoreboard now (fresh samples and held-out target points)"):
    with st.spinner("Scoring every model..."):
        lab.evaluate()
cols[4].caption(f"{len(lab.cfgs)} model(s) on **{lab.cfgs[0].dist}**, seed {lab.cfgs[0].seed}, batch "
                f"{lab.cfgs[0].batch_size}: every tick draws one batch and every model makes one training "
                "iteration on it (a GAN: its D steps, then its G steps).")

# per-model view controls: time, layer, slice
view_cols = st.columns(len(lab.cfgs))
views = [{} for _ in lab.cfgs]
for k, (c, col) in enumerate(zip(lab.cfgs, view_cols)):
    col.markdown(f"**{k + 1} · {labels[k]}**")
    if c.model in ("diffusion", "flow_matching"):
        what = "t (0 data, 1 noise)" if c.model == "diffusion" else "t (0 noise, 1 data)"
        views[k].update(t=col.slider(f"time {what}", 0.0, 1.0, 0.5, 0.01, key=f"fam{k}_view_t"))
    elif c.model == "flow" and lab.target.dim == 2:
        views[k].update(layer=col.slider("flow layers applied to the noise grid", 0, c.flow_layers,
                                         c.flow_layers, key=f"fam{k}_view_layer"))
    elif c.model == "autoregressive" and lab.target.dim == 2:
        b = lab.target.bounds[:2] if lab.firsts[k] == 0 else lab.target.bounds[2:]
        name = "x1" if lab.firsts[k] == 0 else "x2"
        views[k].update(given=col.slider(f"conditional slice at {name} =", float(b[0]), float(b[1]),
                                         float(round((b[0] + b[1]) / 2, 2)), 0.05, key=f"fam{k}_view_given"))

looking_at = history_controls(lab, cfgs, pending)

# ---------------------------------------------------------------- the live view
def feed_frame(_query) -> dict:
    """The next frame for the browser: the header always, the figures of the views redrawn since the last one
    (the browser keeps the others; repainting unchanged figures cost its CPU that training did not get)."""
    snap = lab.frame(views)
    frame = plots.live_frame(snap, labels)
    frame["figures"] = {k: v for k, v in frame["figures"].items() if snap["changed"][int(k[1:k.index("_")])]}
    return frame


use_feed = lab.playing and feed.MOUNTED
if use_feed:                             # the browser pulls frames without rerunning this script
    feed.register(token, feed_frame)
else:
    feed.unregister(token)


@st.fragment(run_every=FRAME_S if lab.playing and not use_feed else None)
def live_view() -> None:
    try:
        snap = lab.history_frame(looking_at) if looking_at is not None else lab.frame(views)
    except PlaygroundError as e:
        st.error(str(e))
        return
    if playing and not lab.playing:
        st.rerun()                         # finished (or stopped by an error): the page shows Play again
    SS["fam_frame"] += 1
    frame = plots.live_frame(snap, labels)
    value = live_figure(frame["figures"], plots.figure_columns(len(snap["models"])), key="fam_live",
                        height=plots.frame_height(len(snap["models"])),
                        frame=SS["fam_frame"], header=frame["header"], step=frame["step"], playing=frame["playing"],
                        error=frame["error"], feed=feed.url_for(token) if use_feed else None, feed_min_gap_ms=92,
                        fast=plots.fast_figures(snap), draw=bool(SS.get("fam_draw")),
                        draw_points=SS.get("fam_drawn") or [], draw_epoch=SS["fam_draw_epoch"])
    if new_stop(value, SS) and playing:       # each stop once: the component keeps its last value
        st.rerun()
    if isinstance(value, dict) and value.get("epoch") == SS["fam_draw_epoch"] and "points" in value:
        SS["fam_drawn"] = value.get("points") or []
    if SS.get("fam_draw"):
        fs.draw_controls(SS.get("fam_drawn") or [], lab.target.dim)


live_view()
st.caption("Teal: the target's points and density; purple: the model's. Heatmaps: the exact log q(x) over its top 10 "
           "nats (darker: denser), or the GAN's D(x) (blue: judged real, red: fake). Grey arrows: the score "
           "(diffusion) or the velocity (flow matching) at the chosen time. The camera icon saves a figure as PNG.")

# ---------------------------------------------------------------- the scoreboard
st.subheader("Scoreboard")
if lab.done and any(r is None or r["evaluated_at"] != lab.step for r in lab.scores):
    with st.spinner("Scoring every model..."):
        lab.evaluate()
st.dataframe(plots.scoreboard_table(lab.scores, labels), hide_index=True, key="fam_scoreboard")
st.caption("Exact KL(p‖q) = E_p[log p − log q] in nats on held-out target points, for models with an exact "
           "density (flow, autoregressive, flow matching through its ODE: the continuous flow's density by the "
           "midpoint steps shown, not the sampler's, and less accurate with fewer steps); the VAE reports an "
           "importance-weighted bound, so its column is an upper bound on its KL, never mixed with exact values. "
           "NLL = entropy + KL. Grid KL/JS, modes covered and high quality come from fresh samples, for every "
           "model. Press Evaluate to score the current step (it runs once by itself when training ends).")


def _scores_csv() -> str:
    import csv
    import io

    rows = plots.scoreboard_table(lab.scores, labels)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _samples_csv(k: int) -> str:
    return points_to_csv(lab.samples(k))


# ---------------------------------------------------------------- long runs
with st.expander("Long runs in the background (the full schedule, one process per model)"):
    st.caption("Each model trains alone to its full length as a run directory (the same as `python -m playground "
               "families train`), and keeps going if you close the page; the list below finds them on disk.")
    own_data = lab.cfgs[0].dist == "custom" or (lab.cfgs[0].dist == "image" and SS.get("fam_picture") is not None)
    if st.button("Train these models in the background", key="fam_launch", disabled=own_data,
                 help="your own data trains here, on the page; use the CLI's --points/--image for long runs"):
        stamp = time.strftime("%Y%m%d-%H%M%S")
        launch(lab.cfgs, [f"{c.dist}-{c.model}-{stamp}-{k + 1}" for k, c in enumerate(lab.cfgs)])
    run_list("families", key="fam_runs")

# ---------------------------------------------------------------- export
with st.expander("Share, save and export"):
    st.caption("The URL holds the whole setup: copy it to share. Each model's config (JSON) is in its panel in "
               "the sidebar; the camera icon over a figure saves it as PNG.")
    export_buttons(lab)
    c1, c2 = st.columns(2)
    c1.download_button("Scoreboard (CSV)", _scores_csv, file_name="families_scoreboard.csv",
                       mime="text/csv", on_click="ignore", key="fam_scores_csv")
    for k, c in enumerate(lab.cfgs):
        c2.download_button(f"Samples of model {k + 1} (CSV)", lambda k=k: _samples_csv(k), key=f"fam{k}_samples",
                           file_name=f"families_model{k + 1}_{c.model}_samples.csv", mime="text/csv",
                           on_click="ignore")

