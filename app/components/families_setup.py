"""The families lab's settings: the shared target (with the user's CSV, drawing or picture) and one panel per
model, every widget generated from FamilyConfig (config_widgets.widget), plus the setup <-> session state.

Widget keys: `fam_<field>` for the shared settings, `fam<k>_<field>` for model k (0-based).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app.components.config_upload import config_upload
from app.components.config_widgets import target_shape_widgets, widget
from app.components.points_upload import points_upload
from playground.configs import from_dict, to_json
from playground.errors import PlaygroundError
from playground.families.config import LR_DEFAULTS, FamilyConfig
from playground.families.lockstep import MAX_MODELS, SHARED
from playground.families.plots import model_label
from playground.families.setup import FAMILY_FIELDS, MODEL_FIELDS, NEW_SLOT_MODELS, PRESETS, slot_config
from playground.toy.config import DISTS_1D, TARGET_DEFAULTS

SS = st.session_state
P = "fam_"
MAX_PICTURE = 5_000_000


def slot(k: int) -> str:
    return f"fam{k}_"


def seed_setup(cfgs: list[FamilyConfig], force: bool = False) -> None:
    """Put a setup into the widgets' keys (before they are drawn)."""
    for name in SHARED:
        if force or P + name not in SS:
            SS[P + name] = getattr(cfgs[0], name)
    for k, c in enumerate(cfgs):
        for name in MODEL_FIELDS:
            if force or slot(k) + name not in SS:
                SS[slot(k) + name] = getattr(c, name)
    if force or "fam_n" not in SS:
        SS["fam_n"] = len(cfgs)


def setup_from_state(base: list[FamilyConfig]) -> tuple[list[FamilyConfig], str | None]:
    """The setup the widgets describe, or (base, the reason it is invalid)."""
    shared = {name: SS.get(P + name, getattr(base[0], name)) for name in SHARED}
    cfgs = []
    try:
        for k in range(SS["fam_n"]):
            own = {name: SS[slot(k) + name] for name in MODEL_FIELDS if slot(k) + name in SS}
            cfgs.append(from_dict(FamilyConfig, {**own, **shared}))
    except PlaygroundError as e:
        return base, f"model {k + 1}: {e}"
    return cfgs, None


def _on_dist() -> None:
    for name, v in TARGET_DEFAULTS[SS[P + "dist"]].items():
        SS[P + name] = v


def _on_model(k: int) -> None:
    """A slot switched family: that family's own defaults (its learning rate among them)."""
    model = SS[slot(k) + "model"]
    fresh = FamilyConfig(model=model)
    for name in MODEL_FIELDS:
        SS[slot(k) + name] = getattr(fresh, name)
    SS[slot(k) + "lr"] = LR_DEFAULTS.get(model, 1e-3)


def _on_preset() -> None:
    name = SS.get("fam_preset")
    if name in PRESETS:
        cfgs = PRESETS[name].configs()
        seed_setup(cfgs, force=True)
        SS["fam_notice"] = f"Preset: {PRESETS[name].title}. {PRESETS[name].lesson}"


def _add(current: list[FamilyConfig]) -> None:
    k = SS["fam_n"]
    c = slot_config(current[0], NEW_SLOT_MODELS[k])
    for name in MODEL_FIELDS:
        SS[slot(k) + name] = getattr(c, name)
    SS["fam_n"] = k + 1


def _remove(k: int) -> None:
    n = SS["fam_n"]
    for j in range(k, n - 1):                     # shift the later slots down one
        for name in MODEL_FIELDS:
            SS[slot(j) + name] = SS[slot(j + 1) + name]
    SS["fam_n"] = n - 1


def target_panel() -> None:
    """The shared settings: target (and the user's own data), seed, batch, length."""
    st.selectbox("Lesson preset", ["(keep my setup)", *PRESETS], key="fam_preset", on_change=_on_preset,
                 format_func=lambda k: PRESETS[k].title if k in PRESETS else k)
    st.subheader("Target (shared by every model)")
    widget(FamilyConfig, "dist", P, on_change=_on_dist, label="target")
    dist = SS[P + "dist"]
    if dist == "mixture1d":
        widget(FamilyConfig, "formula", P, label="mixture formula")
    elif dist != "custom":
        target_shape_widgets(FamilyConfig, P)
    if dist == "image":
        up = st.file_uploader("Your picture (its darkness is the density)", type=["png", "jpg", "jpeg", "gif",
                              "bmp", "webp"], key="fam_picture_upload", max_upload_size=5)
        if up is not None and SS.get("fam_picture_id") != up.file_id:
            SS["fam_picture_id"] = up.file_id
            try:
                from playground.toy.targets.picture import picture_darkness

                data = up.getvalue()
                if len(data) > MAX_PICTURE:      # said as such (cutting the bytes made PIL call it truncated)
                    raise PlaygroundError(f"the picture is {len(data):,} bytes; the limit is {MAX_PICTURE:,}")
                SS["fam_picture"] = picture_darkness(data)
            except PlaygroundError as e:
                st.error(f"{up.name}: {e}")
        st.caption("Without a picture, the built-in smiley is the density.")
    with st.expander("Your own data (CSV or drawing)", expanded=dist == "custom"):
        points_upload("fam", "Draw points on the first model's plot")
    c1, c2 = st.columns(2)
    widget(FamilyConfig, "seed", P, c1)
    widget(FamilyConfig, "batch_size", P, c2, label="batch", step=64)
    widget(FamilyConfig, "steps", P, c1, step=1000,
           help="the run's length (the learning rates decay to 0 by it; the GAN's stay as its settings say)")
    widget(FamilyConfig, "eval_samples", P, c2, label="eval samples", step=500)


def model_panels(current: list[FamilyConfig]) -> None:
    """One expander per model: its family, the family's own settings, its config file."""
    st.subheader("Models (trained in lockstep)")
    n = SS["fam_n"]
    for k in range(n):
        with st.expander(f"Model {k + 1}: {model_label(current[k]) if k < len(current) else ''}", expanded=n <= 2):
            widget(FamilyConfig, "model", slot(k), on_change=_on_model, args=(k,), label="family")
            fields = FAMILY_FIELDS[SS[slot(k) + "model"]]
            cols = st.columns(2)
            for i, name in enumerate(fields):
                widget(FamilyConfig, name, slot(k), cols[i % 2])
            if k < len(current):
                st.download_button("Config (JSON)", to_json(current[k]), file_name=f"families_model{k + 1}.json",
                                   mime="application/json", on_click="ignore", key=f"fam{k}_download")
            config_upload(FamilyConfig, f"fam{k}_upload", lambda c, k=k: _load_into(k, c),
                          label="Load a model config (JSON)")
            if n > 1:
                st.button("Remove this model", key=f"fam{k}_remove", icon=":material/delete:", on_click=_remove,
                          args=(k,))
    if n < MAX_MODELS:
        st.button("Add a model", key="fam_add", icon=":material/add:", on_click=_add, args=(current,),
                  help="train one more model side by side (training restarts for all)")


def _load_into(k: int, cfg: FamilyConfig) -> None:
    """A loaded config: its model settings into slot k, its shared settings for every model."""
    for name in MODEL_FIELDS:
        SS[slot(k) + name] = getattr(cfg, name)
    for name in SHARED:
        SS[P + name] = getattr(cfg, name)


def draw_controls(drawn: list, dim: int) -> None:
    """Under the figures while drawing: the count, 'Train on drawing' and 'Clear drawing'."""
    c0, c1, c2 = st.columns([2, 1, 1])
    c0.caption(f"{len(drawn)} points drawn. Click the first plot to add points"
               + ("; only the x position counts on a 1D target." if dim == 1 else "; shift-click adds a cloud."))
    if c1.button("Train on drawing", disabled=len(drawn) < 2, key="fam_draw_use"):
        pts = np.asarray(drawn, dtype=np.float64)
        SS["fam_points"] = pts[:, :1] if dim == 1 else pts
        SS["fam_pending_dist"] = "custom"
        SS["fam_pending_draw_off"] = True
        st.rerun(scope="app")
    if c2.button("Clear drawing", key="fam_draw_clear"):
        SS["fam_drawn"] = []
        SS["fam_draw_epoch"] = SS.get("fam_draw_epoch", 0) + 1
        st.rerun(scope="app")


def is_1d(dist: str) -> bool:
    return dist in DISTS_1D
