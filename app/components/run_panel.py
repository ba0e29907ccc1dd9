"""Background trainings on a page: a form generated from a config class, and the live list of its runs.

The form has one widget per config field (config_widgets.widget, so bounds and help come from the config),
the headline fields in a row and the rest, with config download/upload, in an expander. The list reads the
run directories (playground.runs) and offers Stop and Resume through the one launcher.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st
from app.components.config_upload import config_upload
from app.components.config_widgets import config_from_state, seed_state, widget

from playground.configs import to_json
from playground.errors import PlaygroundError
from playground.runs import launcher, states
from playground.runs.rundir import list_runs


def config_form(cls: type, prefix: str, base: Any, main: tuple[str, ...], *, file_name: str,
                on_change: dict[str, Callable[[], None]] | None = None) -> tuple[Any, str | None]:
    """Widgets for every field of `cls` (values start at `base`); returns (config, None) or (base, error)."""
    seed_state(cls, base, prefix)
    on_change = on_change or {}
    for col, name in zip(st.columns(len(main)), main):
        widget(cls, name, prefix, col, **({"on_change": on_change[name]} if name in on_change else {}))
    with st.expander("More settings, save and load"):
        cols = st.columns(4)
        for i, name in enumerate(f.name for f in dataclasses.fields(cls) if f.name not in main):
            widget(cls, name, prefix, cols[i % 4], **({"on_change": on_change[name]} if name in on_change else {}))
        cfg, err = config_from_state(cls, prefix, base)
        c1, c2 = st.columns(2)
        c1.download_button("Config (JSON)", to_json(cfg), file_name=file_name, mime="application/json",
                           on_click="ignore", key=prefix + "download")
        config_upload(cls, prefix + "upload", lambda c: seed_state(cls, c, prefix, force=True), container=c2)
    if err:
        st.error(err)
    return cfg, err


def launch(cfgs: list[Any], names: list[str]) -> None:
    """Start one background run per config (an error, e.g. a name in use, is shown and the rest go on)."""
    for cfg, name in zip(cfgs, names):
        try:
            launcher.start(cfg, name=name)
        except PlaygroundError as e:
            st.error(str(e))


def _row(r: dict, key: str, done: str, total: str) -> bool:
    """One run's progress bar and its Stop/Resume button; True while it is active."""
    state, length = r["state"], r["config"].get(total) or 1
    why = r.get("error") or r.get("message")
    cols = st.columns([4, 1])
    cols[0].progress(min(1.0, (r.get(done) or 0) / length),
                     text=f"{r['name']}: {state}, {done} {r.get(done) or 0}/{length}" + (f" — {why}" if why else ""))
    try:
        if state in states.ACTIVE and cols[1].button("Stop", key=f"{key}_stop_{r['name']}"):
            launcher.stop(Path(r["path"]))
        if state in (states.STOPPED, states.FAILED) and cols[1].button("Resume", key=f"{key}_resume_{r['name']}"):
            launcher.resume(Path(r["path"]))
            st.rerun(scope="app")       # start polling
    except PlaygroundError as e:
        st.error(str(e))
    return state in states.ACTIVE


def run_list(kind: str, *, key: str, done: str = "step", total: str = "steps", limit: int = 10) -> None:
    """The newest `limit` runs of `kind` with progress `status[done] / config[total]`, polled every second
    while one is active (an idle timer would delay the page's other widgets). When a run finishes, the
    whole page reruns (a new model to offer)."""
    active = any(r["state"] in states.ACTIVE for r in list_runs(kind=kind)[:limit])

    @st.fragment(run_every=1.0 if active else None)
    def panel() -> None:
        rows = list_runs(kind=kind)[:limit]
        if not rows:
            st.caption("No runs yet.")
        now = [r["name"] for r in rows if _row(r, key, done, total)]
        was, st.session_state[key + "_active"] = st.session_state.get(key + "_active", []), now
        if set(was) - set(now):
            st.rerun(scope="app")

    panel()
