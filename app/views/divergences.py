"""Divergence lab: fit a Gaussian (or a mixture) to a target under KL, reverse KL, JS and the whole f-family."""

import numpy as np
import pandas as pd
import streamlit as st

from app.components.config_upload import config_upload
from app.components.config_widgets import config_from_state, seed_from_url, seed_state, sync_url, widget
from app.components.formula_sliders import formula_sliders
from playground.configs import to_json
from playground.divergences import explain, plots, snapshots, tables
from playground.divergences.config import PARAM_2D_DEFAULTS, PARAM_2D_SLIDERS, DivergenceConfig
from playground.divergences.densities import (
    PRESETS_1D,
    TARGETS_2D,
    density_terms,
    preset_of,
    resolve_target_1d,
)
from playground.divergences.fit2d import MAX_RESTARTS_2D
from playground.divergences.measures import LABELS, NAMES, NAMES_2D
from playground.errors import PlaygroundError

P = "dv_"            # widget-key prefix of DivergenceConfig fields
SS = st.session_state
VIEWS = {"fits": "Fits", "landscape": "Landscape", "alpha": "α family", "2d": "2D", "gan": "GAN link"}
CHART = {"config": {"displaylogo": False}}

url_problems = seed_from_url(DivergenceConfig, P, "dv_url_seeded")
# Widgets of a closed tab are not drawn, and Streamlit forgets their state: refill from the last good config.
seed_state(DivergenceConfig, SS.get("dv_last_good", DivergenceConfig()), P)


# ------------------------------------------------------------------------------------------------ cached work
@st.cache_data(max_entries=64, show_spinner="Fitting…")
def cached_fits(target, names, family, components, restarts, seed):
    return snapshots.fits_snapshot(target, list(names), family, components, restarts, seed)


@st.cache_data(max_entries=32, show_spinner="Computing the landscape…")
def cached_landscape(target, name, restarts, seed):
    return snapshots.landscape_snapshot(target, name, restarts, seed)


@st.cache_data(max_entries=64, show_spinner="Fitting along α…")
def cached_alpha(target, alpha, seed):
    return snapshots.alpha_snapshot(target, alpha, seed=seed)


@st.cache_data(max_entries=32, show_spinner="Fitting in 2D…")
def cached_2d(name, param, family, names, restarts, seed):
    return snapshots.fit2d_snapshot(name, param, family, list(names), restarts=restarts, seed=seed)


@st.cache_data(max_entries=64)
def cached_gan(target, q):
    return snapshots.gan_view(target, q)


def fits_of(cfg: DivergenceConfig) -> dict:
    return cached_fits(cfg.target, tuple(cfg.divergence_list), cfg.family, cfg.components, cfg.restarts, cfg.seed)


# ------------------------------------------------------------------------------------------------ callbacks
def _on_preset() -> None:
    name = SS["dv_preset_pick"]
    if name in PRESETS_1D:
        SS[P + "target"] = PRESETS_1D[name][0]


def _on_target2d() -> None:
    SS[P + "param2d"] = None


def _on_view() -> None:
    label = SS["dv_tabs"]
    SS[P + "view"] = next((k for k, v in VIEWS.items() if v == label), "fits")


def _show_errors(errors: dict) -> None:
    for name, msg in errors.items():
        st.warning(f"{name}: {msg}")


def _download(container, label: str, text: str, file_name: str) -> None:
    container.download_button(label, text, file_name=file_name, mime="text/csv", on_click="ignore")


def _terms(text: str):
    return density_terms(resolve_target_1d(text))


# ---------------------------------------------------------------------------------------------------- sidebar
SS["dv_preset_pick"] = preset_of(SS[P + "target"])      # the picker follows a typed or URL formula
with st.sidebar:
    st.subheader("Target p")
    st.selectbox("Preset", ["custom", *PRESETS_1D], key="dv_preset_pick", on_change=_on_preset,
                 format_func=lambda k: k if k == "custom" else f"{k}: {PRESETS_1D[k][1]}")
    widget(DivergenceConfig, "target", P, label="Formula")
    with st.expander("Edit the target with sliders", expanded=False):
        formula_sliders(P, P + "target", _terms)
    st.subheader("Fit")
    widget(DivergenceConfig, "divergences", P, label="Divergences", options=NAMES,
           format_func=lambda n: f"{n}: {LABELS[n]}" if n in LABELS else n,
           help="Type alpha:<value> (e.g. alpha:0.3) to add a member of the α family.")
    widget(DivergenceConfig, "family", P, label="Model family",
           format_func=lambda v: {"gaussian": "one Gaussian", "mixture": "mixture of Gaussians"}[v])
    if SS[P + "family"] == "mixture":
        widget(DivergenceConfig, "components", P, label="Mixture components")
    widget(DivergenceConfig, "restarts", P, label="Restarts")
    widget(DivergenceConfig, "seed", P, label="Seed")
    st.toggle("Refit live", key=P + "live", help="refit as soon as a setting changes; off: only on Fit")
    fit_pressed = st.button("Fit", type="primary", width="stretch")

cfg, cfg_error = config_from_state(DivergenceConfig, P, SS.get("dv_last_good", DivergenceConfig()))
if cfg_error is None:
    SS["dv_last_good"] = cfg
    sync_url(cfg)
if fit_pressed or cfg.live or "dv_fitted" not in SS:
    SS["dv_fitted"] = cfg
fitted = SS["dv_fitted"]

# ------------------------------------------------------------------------------------------------------ header
st.title("Divergence lab")
st.caption(explain.INTRO)
for prob in url_problems:
    st.warning(f"Ignored a URL setting: {prob}")
if cfg_error:
    st.error(cfg_error)
if not cfg.live and fitted != cfg:
    st.info("Settings changed: press **Fit** to refit (or turn on *Refit live*).")

tabs = st.tabs(list(VIEWS.values()), key="dv_tabs", on_change=_on_view, default=VIEWS[cfg.view])
tab = dict(zip(VIEWS, tabs))


# --------------------------------------------------------------------------------------------------- the views
def view_fits() -> None:
    snap = fits_of(fitted)
    _show_errors(snap["errors"])
    st.plotly_chart(plots.fits_figure(snap["x"], snap["p"], snap["fits"],
                                      title=f"p = {snap['target']}: best fit of each divergence"),
                    key="dv_fig_fits", **CHART)
    st.caption(explain.FITS_PLAY)
    if not snap["fits"]:
        return
    st.dataframe(pd.DataFrame(tables.fits_table(snap)), hide_index=True)
    with st.expander("Every divergence measured at each fit (rows: the fit, columns: the measure)"):
        st.dataframe(pd.DataFrame(tables.measured_table(snap)), hide_index=True)
        st.caption(explain.MEASURED)
    with st.expander("Distinct local minima found by the restarts"):
        for f in snap["fits"]:
            st.markdown(f"**{f['label']}**: {explain.minima_count(len(f['minima']))}")
            st.dataframe(pd.DataFrame(tables.minima_table(f)), hide_index=True)
    st.markdown(explain.fits_story(snap))
    _download(st, "Curves (CSV)", tables.fits_csv(snap), "divergence_fits.csv")


def view_landscape() -> None:
    options = [*NAMES, *[n for n in [cfg.landscape] if n not in NAMES]]
    st.selectbox("Divergence shown", options, key=P + "landscape", format_func=lambda n: LABELS.get(n, n))
    snap = cached_landscape(fitted.target, cfg.landscape, fitted.restarts, fitted.seed)
    st.plotly_chart(plots.landscape_figure(snap["mus"], snap["sigmas"], snap["values"], snap["paths"],
                                           snap["minima"], title=f"{snap['label']} of N(μ, σ) from p"),
                    key="dv_fig_land", **CHART)
    st.markdown(explain.LANDSCAPE)
    st.dataframe(pd.DataFrame(tables.landscape_table(snap)), hide_index=True)
    _download(st, "Landscape (CSV)", tables.landscape_csv(snap), "divergence_landscape.csv")
    st.caption(explain.CAMERA)


def view_alpha() -> None:
    st.slider("α", min(-1.0, cfg.alpha), max(2.0, cfg.alpha), step=0.05, key=P + "alpha", help=explain.ALPHA_HELP)
    alpha = float(SS[P + "alpha"])
    snap = cached_alpha(fitted.target, round(alpha, 4), fitted.seed)
    _show_errors(snap["errors"])
    cur = snap["current"]
    if cur is None:
        st.warning(f"α = {alpha:g}: infinite for every Gaussian on this target.")
    else:
        c1, c2, c3 = st.columns(3)
        c1.metric("μ", f"{cur['params']['mu']:.4f}")
        c2.metric("σ", f"{cur['params']['sigma']:.4f}")
        c3.metric(f"D_α (α = {alpha:g})", tables.fmt_value(cur["value"]))
        st.plotly_chart(plots.alpha_fit_figure(snap["x"], snap["p"], cur["q"], alpha, snap["landmarks"]),
                        key="dv_fig_alpha", **CHART)
    st.plotly_chart(plots.alpha_sweep_figure(snap["sweep"], alpha), key="dv_fig_sweep", **CHART)
    st.markdown(explain.ALPHA)
    _download(st, "α sweep (CSV)", tables.alpha_csv(snap), "alpha_sweep.csv")
    st.caption(explain.CAMERA)


def view_2d() -> None:
    c1, c2, c3 = st.columns(3)
    c1.selectbox("2D target", list(TARGETS_2D), key=P + "target2d", on_change=_on_target2d,
                 format_func=lambda k: f"{k}: {TARGETS_2D[k][0]}")
    label, lo, hi, step = PARAM_2D_SLIDERS[SS[P + "target2d"]]
    if SS.get(P + "param2d") is None:
        SS[P + "param2d"] = PARAM_2D_DEFAULTS[SS[P + "target2d"]]
    SS[P + "param2d"] = float(np.clip(SS[P + "param2d"], lo, hi))
    c2.slider(label, lo, hi, step=step, key=P + "param2d")
    c3.radio("Model", ["gaussian_diag", "gaussian"], key=P + "family2d", horizontal=True,
             format_func=lambda v: {"gaussian": "full covariance", "gaussian_diag": "diagonal"}[v])
    widget(DivergenceConfig, "divergences2d", P, label="Divergences (2D)", options=NAMES_2D,
           format_func=lambda n: LABELS.get(n, n), help="Type alpha:<value> to add a member of the α family.")
    if not cfg.divergences2d:
        st.info("Pick at least one divergence.")
        return
    # the sidebar's restarts, as `fit` uses them (2D fits allow at most MAX_RESTARTS_2D)
    snap = cached_2d(cfg.target2d, float(cfg.param2d_value), cfg.family2d, tuple(cfg.divergence_list_2d),
                     min(cfg.restarts, MAX_RESTARTS_2D), cfg.seed)
    _show_errors(snap["errors"])
    st.plotly_chart(plots.fits_2d_figure(snap["xs"], snap["ys"], snap["density"], snap["fits"],
                                         title="target contours; fitted Gaussians' 1σ (solid) and 2σ (dashed)"),
                    key="dv_fig_2d", **CHART)
    rows = tables.fits_2d_table(snap)
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    factorised = "closed_form" in snap and cfg.family2d == "gaussian_diag"
    st.markdown(explain.factorised_story(snap["closed_form"]) if factorised
                else explain.fits_2d_story(cfg.family2d == "gaussian_diag"))
    _download(st, "2D fits (CSV)", tables.rows_csv(rows), "divergence_2d_fits.csv")
    st.caption(explain.CAMERA)


def view_gan() -> None:
    first = fitted.divergence_list[0]
    try:
        default_q = next((f["formula"] for f in fits_of(fitted)["fits"] if f["name"] == first), None)
    except PlaygroundError:
        default_q = None
    widget(DivergenceConfig, "gan_q", P, label=f"Model q (empty: the {first} fit)")
    q_text = cfg.gan_q.strip() or default_q or "N(0,1)"
    snap = cached_gan(fitted.target, q_text)
    c1, c2, c3 = st.columns(3)
    c1.metric("V(D*, q), integrated", f"{snap['value']:.6f}")
    c2.metric("−log 4 + 2·JS(p‖q)", f"{snap['identity']:.6f}")
    c3.metric("JS(p‖q)", f"{snap['js']:.6f}", help="log 2 ≈ 0.693 is its maximum")
    st.plotly_chart(plots.gan_figure(snap), key="dv_fig_gan", **CHART)
    st.markdown(explain.gan_story(q_text))
    st.plotly_chart(plots.saturation_figure(snap["curves"]), key="dv_fig_sat", **CHART)
    st.markdown(explain.SATURATION)
    c1, c2 = st.columns(2)
    _download(c1, "p, q, D* (CSV)", tables.gan_csv(snap), "gan_optimal_d.csv")
    _download(c2, "Saturation curves (CSV)", tables.saturation_csv(snap), "gan_saturation.csv")
    st.caption(explain.CAMERA)


RENDER = {"fits": view_fits, "landscape": view_landscape, "alpha": view_alpha, "2d": view_2d, "gan": view_gan}
for key, container in tab.items():
    if container.open is False:
        continue
    with container:
        try:
            RENDER[key]()
        except PlaygroundError as e:
            st.error(str(e))
        except Exception as e:  # noqa: BLE001 - never crash the page: say what went wrong, keep the settings
            st.error(f"Something went wrong: {type(e).__name__}: {e}")

# ------------------------------------------------------------------------------------------- config export
with st.sidebar:
    st.subheader("Share and export")
    st.caption("The URL holds every setting that differs from the defaults: copy it to share this view.")
    st.download_button("Config (JSON)", to_json(cfg), file_name="divergence_lab_config.json",
                       mime="application/json", on_click="ignore", width="stretch")
    config_upload(DivergenceConfig, "dv_upload", lambda c: seed_state(DivergenceConfig, c, P, force=True))
