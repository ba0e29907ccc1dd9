"""The history controls of a live page: look back (a scrubber over the recorded frames), branch from the frame
shown, and export the history as an animated GIF or MP4. The machinery is the engine's (playground.history and
LiveLab, in the session's training process: playground.families.worker); this only lays out widgets.
"""

from __future__ import annotations

import streamlit as st

from playground.errors import PlaygroundError
from playground.history import mp4_available

SS = st.session_state


def _on_look(lab) -> None:
    if SS.get("fam_look"):
        lab.look_back()                      # paused; the newest frame is now, with the state to branch from
        SS["fam_scrub"] = len(lab.history_steps) - 1


def history_controls(lab, cfgs: list, pending: bool) -> int | None:
    """The look-back toggle and, while it is on, the scrubber and Branch; returns the history index shown
    (None: the live state). `pending`: settings changed since the models were built (Branch applies them)."""
    c0, c1, c2 = st.columns([1.3, 4, 1.6])
    c0.toggle("Look back", key="fam_look", on_change=_on_look, args=(lab,),
              help="pause and scrub through the recorded frames; branch to continue from one of them")
    if not SS.get("fam_look"):
        steps = lab.history_steps
        c1.caption("History: frames are being recorded while training; Look back to scrub through them." if
                   lab.playing else f"History: {len(steps)} frames (steps {steps[0]:,}–{steps[-1]:,}); Look back "
                   "to scrub through them and branch from one.")
        return None
    steps = lab.history_steps
    n = len(steps)
    SS["fam_scrub"] = min(SS.get("fam_scrub", n - 1), n - 1)
    idx = c1.select_slider("frame", list(range(n)), key="fam_scrub", label_visibility="collapsed",
                           format_func=lambda i: f"step {steps[i]:,}")
    try:
        at, step = lab.branch_point(idx)
        label = f"Branch from step {step:,}"
    except PlaygroundError:
        at, label = None, "No state to branch from"
    if c2.button(label, key="fam_branch", disabled=at is None, type="primary" if pending else "secondary",
                 help="continue training from this frame's weights with the current settings (any setting that "
                      "keeps the networks' shapes may differ); later frames are forgotten"):
        try:
            step = lab.branch(idx, cfgs)
            SS["fam_pending_look_off"] = True
            SS["fam_notice"] = f"Branched from step {step:,}" + (" with the changed settings." if pending else ".")
            st.rerun()
        except PlaygroundError as e:
            st.error(f"Cannot branch: {e}")
    if pending:
        st.info("Settings changed while looking back: Branch continues from the frame shown with them; "
                "leaving Look back resets training with them.")
    return idx


def new_stop(value, state) -> bool:
    """Whether the live figure's value reports a stop of its frame feed not acted on yet (it keeps its last
    value across runs, so the same stop must not rerun the page again after the next Play)."""
    if not (isinstance(value, dict) and value.get("event") == "stopped") or value.get("nonce") == state.get(
            "fam_stop_seen"):
        return False
    state["fam_stop_seen"] = value.get("nonce")
    return True


def export_buttons(lab, container=st) -> None:
    """GIF and MP4 of the history (made when clicked, so they hold every frame recorded until then)."""
    c1, c2 = container.columns(2)
    c1.download_button("History as GIF", lambda: lab.animation("gif"), file_name="families_history.gif",
                       mime="image/gif", on_click="ignore", key="fam_gif", icon=":material/gif:")
    if mp4_available():
        c2.download_button("History as MP4", lambda: lab.animation("mp4"), file_name="families_history.mp4",
                           mime="video/mp4", on_click="ignore", key="fam_mp4", icon=":material/movie:")
    else:
        c2.caption("MP4 export needs the imageio-ffmpeg package.")
