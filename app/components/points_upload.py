"""The one 'your own data' box of the toy pages: a CSV of points (or a drawing), kept in session state."""

from __future__ import annotations

import streamlit as st

from playground.errors import PlaygroundError
from playground.toy.userdata import load_points_csv


def points_upload(prefix: str, draw_label: str, draw_help: str | None = None) -> None:
    """CSV upload and draw toggle; the points go to st.session_state[f"{prefix}_points"].

    A new file switches the target to `custom` through `{prefix}_pending_dist` (applied before the target widget
    is drawn on the rerun); a bad file shows its reason and keeps the previous points and settings.
    """
    ss = st.session_state
    up = st.file_uploader("CSV with columns x,y (or x)", type=["csv", "txt"], key=f"{prefix}_upload",
                          max_upload_size=5)
    if up is not None and ss.get(f"{prefix}_upload_id") != up.file_id:
        ss[f"{prefix}_upload_id"] = up.file_id
        try:
            ss[f"{prefix}_points"] = load_points_csv(up.getvalue())
            ss[f"{prefix}_pending_dist"] = "custom"
            ss[f"{prefix}_notice"] = f"Loaded {len(ss[f'{prefix}_points'])} points from {up.name}."
            st.rerun()
        except PlaygroundError as e:
            st.error(f"{up.name}: {e}")
    st.toggle(draw_label, key=f"{prefix}_draw", help=draw_help)
    if ss.get(f"{prefix}_points") is not None:
        st.caption(f"Current custom data: {len(ss[f'{prefix}_points'])} points.")
