"""Divergence lab: fit a Gaussian (or a mixture) to a target under KL, reverse KL, JS and the whole f-family."""

import numpy as np
import pandas as pd
import streamlit as st

from app.components.config_widgets import config_from_state, seed_from_url, seed_state, sync_url, widget
from playground.configs import from_json, to_json
from playground.divergences import plots, snapshots
from playground.divergences.config import PARAM_2D_DEFAULTS, DivergenceConfig, split_names
from playground.divergences.densities import (GAUSS, PRESETS_1D, TARGETS_2D, Density1D,
                                              format_density, resolve_target_1d)
from playground.divergences.measures import LABELS, NAMES, NAMES_2D, parse_divergence
from playground.errors import PlaygroundError
from playground.userfiles import read_bounded

P = "dv_"            # widget-key prefix of DivergenceConfig fields
SS = st.session_state
VIEWS = {"fits": "Fits", "landscape": "Landscape", "alpha": "α family", "2d": "2D", "gan": "GAN link"}
PARAM_2D = {"two_blobs": ("separation", 1.0, 8.0, 0.25), "ring": ("radius", 1.0, 4.0, 0.25),
            "correlated": ("correlation ρ", -0.95, 0.95, 0.05)}
CAMERA = "PNG: use the camera button in each chart's toolbar (top right of the chart)."

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
def cached_2d(name, param, family, names, seed):
    return snapshots.fit2d_snapshot(name, param, family, list(names), seed=seed)


@st.cache_data(max_entries=64)
def cached_gan(target, q):
    return snapshots.gan_view(target, q)


# ----------------------------------------------------------------------------------- target editor (sliders)
def _parts_from_state() -> str:
    n = SS.get("dv_n_parts", 0)
    kinds = [SS.get(f"dv_kind{i}", GAUSS) for i in range(n)]
    terms = []
    for i, kind in enumerate(kinds):
        w = float(SS[f"dv_w{i}"])
        a, b = float(SS[f"dv_a{i}"]), float(SS[f"dv_b{i}"])
        if kind == GAUSS:
            terms.append(f"{w:.6g}*N({a:.6g},{b:.6g})")
        else:
            lo, hi = min(a, b), max(a, b)
            hi = hi if hi > lo else lo + 0.1
            terms.append(f"{w:.6g}*U({lo:.6g},{hi:.6g})")
    return "+".join(terms)


def _seed_sliders(d: Density1D) -> None:
    SS["dv_n_parts"] = len(d.weights)
    for i, (kind, w, loc, scale) in enumerate(zip(d.kinds, d.weights, d.locs, d.scales)):
        SS[f"dv_kind{i}"] = int(kind)
        SS[f"dv_w{i}"] = float(np.clip(round(w, 3), 0.01, 1.0))
        if kind == GAUSS:
            SS[f"dv_a{i}"] = float(np.clip(loc, -8.0, 8.0))
            SS[f"dv_b{i}"] = float(np.clip(scale, 0.05, 4.0))
        else:
            SS[f"dv_a{i}"] = float(np.clip(loc, -8.0, 8.0))
            SS[f"dv_b{i}"] = float(np.clip(loc + scale, -8.0, 8.0))


def _on_slider() -> None:
    formula = _parts_from_state()
    SS[P + "target"] = formula
    SS["dv_sliders_for"] = formula
    SS[P + "preset"] = "custom"


def _on_preset() -> None:
    name = SS["dv_preset_pick"]
    if name in PRESETS_1D:
        SS[P + "target"] = PRESETS_1D[name][0]


def _add_part() -> None:
    n = SS.get("dv_n_parts", 0)
    if n < 6:
        SS["dv_n_parts"] = n + 1
        SS[f"dv_kind{n}"], SS[f"dv_w{n}"], SS[f"dv_a{n}"], SS[f"dv_b{n}"] = GAUSS, 0.3, 0.0, 0.7
        _on_slider()


def _remove_part() -> None:
    if SS.get("dv_n_parts", 0) > 1:
        SS["dv_n_parts"] -= 1
        _on_slider()


def _on_div_pick() -> None:
    SS[P + "divergences"] = ",".join(SS["dv_div_pick"])


def _on_div2d_pick() -> None:
    SS[P + "divergences2d"] = ",".join(SS["dv_div2d_pick"])


def _on_target2d() -> None:
    SS[P + "param2d"] = None


def _on_view() -> None:
    label = SS["dv_tabs"]
    SS[P + "view"] = next((k for k, v in VIEWS.items() if v == label), "fits")


def _load_config() -> None:
    up = SS.get("dv_upload")
    if up is None:
        return
    try:
        cfg = from_json(DivergenceConfig, read_bounded(up, 100_000, "the config"))
    except PlaygroundError as e:
        SS["dv_notice"] = ("error", f"Config not loaded: {e}")
        return
    seed_state(DivergenceConfig, cfg, P, force=True)
    SS["dv_notice"] = ("success", "Config loaded.")


# Keep the helper widgets in step with the config (a URL, a preset or a typed formula may have changed it).
try:
    _target = resolve_target_1d(SS[P + "target"])
    if SS.get("dv_sliders_for") != SS[P + "target"]:
        _seed_sliders(_target)
        SS["dv_sliders_for"] = SS[P + "target"]
except PlaygroundError:
    pass
_div_names = split_names(SS[P + "divergences"])
SS["dv_div_pick"] = _div_names
SS["dv_div2d_pick"] = split_names(SS[P + "divergences2d"])
_pick = SS.get("dv_preset_pick")
if _pick not in PRESETS_1D or SS[P + "target"].strip() not in (_pick, PRESETS_1D[_pick][0]):
    SS["dv_preset_pick"] = next((k for k, (f, _) in PRESETS_1D.items() if SS[P + "target"].strip() in (k, f)),
                                "custom")

# ---------------------------------------------------------------------------------------------------- sidebar
with st.sidebar:
    st.subheader("Target p")
    st.selectbox("Preset", ["custom", *PRESETS_1D], key="dv_preset_pick", on_change=_on_preset,
                 format_func=lambda k: k if k == "custom" else f"{k}: {PRESETS_1D[k][1]}")
    widget(DivergenceConfig, "target", P, label="Formula")
    with st.expander("Edit the target with sliders", expanded=False):
        for i in range(SS.get("dv_n_parts", 0)):
            gauss = SS.get(f"dv_kind{i}", GAUSS) == GAUSS
            st.markdown(f"**part {i + 1}** ({'Gaussian' if gauss else 'uniform'})")
            st.slider("weight", 0.01, 1.0, step=0.01, key=f"dv_w{i}", on_change=_on_slider)
            st.slider("mean" if gauss else "low", -8.0, 8.0, step=0.05, key=f"dv_a{i}", on_change=_on_slider)
            if gauss:
                st.slider("std", 0.05, 4.0, step=0.05, key=f"dv_b{i}", on_change=_on_slider)
            else:
                st.slider("high", -8.0, 8.0, step=0.05, key=f"dv_b{i}", on_change=_on_slider)
        c1, c2 = st.columns(2)
        c1.button("add a part", on_click=_add_part, width="stretch")
        c2.button("remove last", on_click=_remove_part, width="stretch")

    st.subheader("Fit")
    st.multiselect("Divergences", [*NAMES, *[n for n in _div_names if n not in NAMES]], key="dv_div_pick",
                   on_change=_on_div_pick, accept_new_options=True,
                   format_func=lambda n: f"{n}: {LABELS[n]}" if n in LABELS else n,
                   help="Type alpha:<value> (e.g. alpha:0.3) to add a member of the α family.")
    widget(DivergenceConfig, "family", P, label="Model family",
           format_func=lambda v: {"gaussian": "one Gaussian", "mixture": "mixture of Gaussians"}[v])
    if SS[P + "family"] == "mixture":
        widget(DivergenceConfig, "components", P, label="Mixture components")
    st.slider("Restarts", 1, 50, key=P + "restarts", help="starts of the multi-start fit")
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
st.caption("Fit a model q to a target p by minimising a divergence. Forward KL (maximum likelihood) covers "
           "every mode; reverse KL locks onto one; Jensen-Shannon (the GAN's divergence) sits in between, and the "
           "α family moves continuously from one behaviour to the other. All values are exact integrals, in nats.")
for prob in url_problems:
    st.warning(f"Ignored a URL setting: {prob}")
if cfg_error:
    st.error(cfg_error)
if "dv_notice" in SS:
    kind, msg = SS.pop("dv_notice")
    (st.success if kind == "success" else st.error)(msg)
if not cfg.live and fitted != cfg:
    st.info("Settings changed: press **Fit** to refit (or turn on *Refit live*).")

tabs = st.tabs(list(VIEWS.values()), key="dv_tabs", on_change=_on_view, default=VIEWS[cfg.view])
tab = dict(zip(VIEWS, tabs))


def _show_errors(errors: dict) -> None:
    for name, msg in errors.items():
        st.warning(f"{name}: {msg}")


def _fmt(v: float) -> str:
    if v is None or not np.isfinite(v):
        return "∞" if v is not None and v > 0 else "—"
    return f"{v:.6g}"


def _params_text(params: dict) -> dict:
    if "mu" in params:
        return {"μ": params["mu"], "σ": params["sigma"]}
    return {"weights": ", ".join(f"{w:.3f}" for w in params["weights"]),
            "means": ", ".join(f"{m:.3f}" for m in params["means"]),
            "stds": ", ".join(f"{s:.3f}" for s in params["stds"])}


# --------------------------------------------------------------------------------------------------- fits view
def view_fits() -> None:
    snap = cached_fits(fitted.target, tuple(fitted.divergence_list), fitted.family, fitted.components,
                       fitted.restarts, fitted.seed)
    _show_errors(snap["errors"])
    st.plotly_chart(plots.fits_figure(snap["x"], snap["p"], snap["fits"],
                                      title=f"p = {snap['target']}: best fit of each divergence"),
                    key="dv_fig_fits", config={"displaylogo": False})
    st.caption("Press ▶ play to watch each optimisation (L-BFGS from the start that found the global best); "
               "the slider steps through it. " + CAMERA)
    if not snap["fits"]:
        return
    rows = []
    for f in snap["fits"]:
        rows.append({"divergence": f["label"], **_params_text(f["params"]), "value (nats)": f["value"],
                     "local minima": len(f["minima"]), "converged starts": f"{f['converged']}/{f['restarts']}"})
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    with st.expander("Every divergence measured at each fit (rows: the fit, columns: the measure)"):
        mat = pd.DataFrame([{"fitted by": f["label"], **{k: _fmt(v) for k, v in f["measured"].items()}}
                            for f in snap["fits"]])
        st.dataframe(mat, hide_index=True)
        st.caption("Each row's own divergence is smallest at its own fit; `gan_value_optimal_d` is the GAN "
                   "game's value at the best discriminator, −log 4 + 2·JS.")
    with st.expander("Distinct local minima found by the restarts"):
        for f in snap["fits"]:
            st.markdown(f"**{f['label']}**: {len(f['minima'])} distinct minim{'um' if len(f['minima']) == 1 else 'a'}")
            st.dataframe(pd.DataFrame([{**_params_text(m), "value": m["value"], "starts that ended here": m["count"]}
                                       for m in f["minima"]]), hide_index=True)
    st.markdown(_fits_story(snap))
    cols = {"x": snap["x"], "p": snap["p"], **{f"q_{f['name']}": f["q"] for f in snap["fits"]}}
    st.download_button("Curves (CSV)", plots.curves_csv(cols), file_name="divergence_fits.csv", mime="text/csv",
                       on_click="ignore")


def _fits_story(snap: dict) -> str:
    """Plain words on what the fits show, including where the textbook picture fails."""
    by = {f["name"]: f for f in snap["fits"]}
    lines = ["**What you see.** The grey area is the target; each line is the model that minimises one "
             "divergence."]
    std = snap["std"]
    if "kl" in by and "mu" in by["kl"]["params"]:
        lines.append(f"- Forward KL is maximum likelihood: its single-Gaussian optimum matches the target's mean "
                     f"and std exactly (μ = {snap['mean']:.4g}, σ = {std:.4g}), covering every mode even if that "
                     "puts mass where the target has none.")
    if "rkl" in by:
        n = len(by["rkl"]["minima"])
        lines.append(f"- Reverse KL punishes q for putting mass where p has little, so it is *mode-seeking*: "
                     f"the restarts found {n} distinct local minim{'um' if n == 1 else 'a'}"
                     + (" (roughly one per mode); the global best is the heaviest mode." if n > 1 else "."))
    if "js" in by and "sigma" in by["js"]["params"]:
        s = by["js"]["params"]["sigma"]
        if s > 0.7 * std:
            lines.append(f"- Here Jensen-Shannon's best single Gaussian is wide (σ = {s:.3g}, the target's std is "
                         f"{std:.3g}): it covers the modes, **unlike the textbook picture** where JS behaves like "
                         "reverse KL. This happens when modes overlap or are close in weight.")
        else:
            lines.append(f"- Jensen-Shannon's best single Gaussian is narrow (σ = {s:.3g}): it picks a mode, "
                         "like reverse KL. JS saturates at log 2 once q and p barely overlap, so it barely "
                         "rewards covering a far mode; check the local-minima list for its other minima.")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- landscape view
def view_landscape() -> None:
    options = [*NAMES, *[n for n in [cfg.landscape] if n not in NAMES]]
    st.selectbox("Divergence shown", options, key=P + "landscape", format_func=lambda n: LABELS.get(n, n))
    snap = cached_landscape(fitted.target, cfg.landscape, fitted.restarts, fitted.seed)
    st.plotly_chart(plots.landscape_figure(snap["mus"], snap["sigmas"], snap["values"], snap["paths"],
                                           snap["minima"], title=f"{snap['label']} of N(μ, σ) from p"),
                    key="dv_fig_land", config={"displaylogo": False})
    st.markdown("**What you see.** The colour is log₁₀ of the divergence between the target and N(μ, σ) (yellow is "
                "small). Pink lines are the optimiser's paths from each start (open circle); red crosses are the "
                "distinct local minima they ended in and the star is the global best. Mode-seeking divergences "
                "(reverse KL, Neyman χ², α < 0) have one basin per mode; mass-covering ones (KL, Pearson χ²) one "
                "wide basin. Blank regions are where the divergence is infinite (for χ² and α outside [0, 1], "
                "q's tails must be wider or narrower than p's).")
    st.dataframe(pd.DataFrame([{"μ": m[0], "σ": m[1], "value": m[2], "starts": m[3]} for m in snap["minima"]]),
                 hide_index=True)
    mu_g, s_g = np.meshgrid(snap["mus"], snap["sigmas"])
    st.download_button("Landscape (CSV)", plots.curves_csv({"mu": mu_g.ravel(), "sigma": s_g.ravel(),
                                                            "value": np.asarray(snap["values"]).ravel()}),
                       file_name="divergence_landscape.csv", mime="text/csv", on_click="ignore")
    st.caption(CAMERA)


# ---------------------------------------------------------------------------------------------------- α view
def view_alpha() -> None:
    lo, hi = min(-1.0, cfg.alpha), max(2.0, cfg.alpha)
    st.slider("α", lo, hi, step=0.05, key=P + "alpha",
              help="−1 Neyman χ², 0 reverse KL, ½ Hellinger, 1 KL, 2 Pearson χ²")
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
        c3.metric(f"D_α (α = {alpha:g})", _fmt(cur["value"]))
        st.plotly_chart(plots.alpha_fit_figure(snap["x"], snap["p"], cur["q"], alpha, snap["landmarks"]),
                        key="dv_fig_alpha", config={"displaylogo": False})
    st.plotly_chart(plots.alpha_sweep_figure(snap["sweep"], alpha), key="dv_fig_sweep",
                    config={"displaylogo": False})
    st.markdown("**What you see.** D_α(p‖q) = ∫[αp + (1−α)q − p^α q^(1−α)] / (α(1−α)). Large α punishes q for "
                "missing mass where p has it (mass-covering: KL at 1, Pearson at 2); small α punishes q for "
                "putting mass where p has none (mode-seeking: reverse KL at 0, Neyman at −1). Moving the slider "
                "slides the best single Gaussian between the two behaviours; a jump in the sweep means the global "
                "best switched from covering both modes to one mode.")
    sw = snap["sweep"]
    st.download_button("α sweep (CSV)", plots.curves_csv({"alpha": sw["alpha"], "mu": sw["mu"],
                                                          "sigma": sw["sigma"], "value": sw["value"]}),
                       file_name="alpha_sweep.csv", mime="text/csv", on_click="ignore")
    st.caption(CAMERA)


# ---------------------------------------------------------------------------------------------------- 2D view
def view_2d() -> None:
    c1, c2, c3 = st.columns(3)
    c1.selectbox("2D target", list(TARGETS_2D), key=P + "target2d", on_change=_on_target2d,
                 format_func=lambda k: f"{k}: {TARGETS_2D[k][0]}")
    name = SS[P + "target2d"]
    label, lo, hi, step = PARAM_2D[name]
    if SS.get(P + "param2d") is None:
        SS[P + "param2d"] = PARAM_2D_DEFAULTS[name]
    SS[P + "param2d"] = float(np.clip(SS[P + "param2d"], lo, hi))
    c2.slider(label, lo, hi, step=step, key=P + "param2d")
    c3.radio("Model", ["gaussian_diag", "gaussian"], key=P + "family2d", horizontal=True,
             format_func=lambda v: {"gaussian": "full covariance", "gaussian_diag": "diagonal"}[v])
    st.multiselect("Divergences (2D)", list(NAMES_2D), key="dv_div2d_pick", on_change=_on_div2d_pick,
                   format_func=lambda n: LABELS.get(n, n))
    names = cfg.divergence_list_2d
    if not names:
        st.info("Pick at least one divergence.")
        return
    snap = cached_2d(cfg.target2d, float(cfg.param2d_value), cfg.family2d, tuple(names), cfg.seed)
    _show_errors(snap["errors"])
    st.plotly_chart(plots.fits_2d_figure(snap["xs"], snap["ys"], snap["density"], snap["fits"],
                                         title="target contours; fitted Gaussians' 1σ (solid) and 2σ (dashed)"),
                    key="dv_fig_2d", config={"displaylogo": False})
    rows = [{"divergence": f["label"], "mean": f"({f['mean'][0]:.3f}, {f['mean'][1]:.3f})",
             "Σ11": round(f["cov"][0][0], 6), "Σ12": round(f["cov"][0][1], 6) + 0.0,
             "Σ22": round(f["cov"][1][1], 6), "value": f["value"],
             "local minima": f["n_minima"]} for f in snap["fits"]]
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    if "closed_form" in snap and cfg.family2d == "gaussian_diag":
        cf = snap["closed_form"]
        st.markdown(f"**The factorised case.** For a correlated Gaussian with covariance Σ and precision Λ = Σ⁻¹, "
                    f"the best *diagonal* Gaussian under forward KL has variances Σᵢᵢ = "
                    f"({cf['kl'][0]:.4f}, {cf['kl'][1]:.4f}): it matches the marginals and over-covers the "
                    f"diagonal. Under reverse KL it has variances 1/Λᵢᵢ = ({cf['rkl'][0]:.4f}, {cf['rkl'][1]:.4f}): "
                    "it fits inside the ellipse, too narrow along the axes (the mean-field variational picture).")
    else:
        st.markdown("**What you see.** Each ellipse is the best Gaussian under one divergence. Forward KL matches "
                    "the target's mean and covariance (one ellipse around everything); reverse KL and Neyman χ² "
                    "settle on one blob (several equally good choices on the ring); JS depends on how far apart "
                    "the blobs are.")
    st.download_button("2D fits (CSV)", pd.DataFrame(rows).to_csv(index=False), file_name="divergence_2d_fits.csv",
                       mime="text/csv", on_click="ignore")
    st.caption(CAMERA)


# ---------------------------------------------------------------------------------------------------- GAN view
def view_gan() -> None:
    first = fitted.divergence_list[0]
    default_q = None
    try:
        fits = cached_fits(fitted.target, tuple(fitted.divergence_list), fitted.family, fitted.components,
                           fitted.restarts, fitted.seed)
        for f in fits["fits"]:
            if f["name"] == first and "mu" in f["params"]:
                default_q = f"N({f['params']['mu']:.6g},{f['params']['sigma']:.6g})"
            elif f["name"] == first:
                pr = f["params"]
                default_q = "+".join(f"{w:.6g}*N({m:.6g},{s:.6g})"
                                     for w, m, s in zip(pr["weights"], pr["means"], pr["stds"]))
    except PlaygroundError:
        pass
    widget(DivergenceConfig, "gan_q", P, label=f"Model q (empty: the {first} fit)")
    q_text = cfg.gan_q.strip() or default_q or "N(0,1)"
    snap = cached_gan(fitted.target, q_text)
    c1, c2, c3 = st.columns(3)
    c1.metric("V(D*, q), integrated", f"{snap['value']:.6f}")
    c2.metric("−log 4 + 2·JS(p‖q)", f"{snap['identity']:.6f}")
    c3.metric("JS(p‖q)", f"{snap['js']:.6f}", help="log 2 ≈ 0.693 is its maximum")
    st.plotly_chart(plots.gan_figure(snap), key="dv_fig_gan", config={"displaylogo": False})
    st.markdown(f"**What you see.** With q = `{q_text}`, the best discriminator is D*(x) = p/(p + q): above ½ "
                "where real data is likelier, below where fakes are. At D*, the GAN's value is −log 4 + 2·JS(p‖q), "
                "so a generator trained against a perfect discriminator minimises Jensen-Shannon. Where p and q "
                "barely overlap, D* is 0 or 1 almost everywhere and JS is stuck near log 2: the gradient "
                "problem below.")
    st.plotly_chart(plots.saturation_figure(snap["curves"]), key="dv_fig_sat", config={"displaylogo": False})
    st.markdown("**Saturation.** The original (minimax) generator loss log(1 − D) is flat where the discriminator "
                "confidently rejects a fake (logit ≪ 0): its gradient vanishes exactly when the generator is worst. "
                "The non-saturating loss −log D has the same fixed point but a gradient close to −1 there, which "
                "is why GANs are trained with it.")
    c1, c2 = st.columns(2)
    c1.download_button("p, q, D* (CSV)", plots.curves_csv({"x": snap["x"], "p": snap["p"], "q": snap["q"],
                                                           "d_star": snap["d_star"]}),
                       file_name="gan_optimal_d.csv", mime="text/csv", on_click="ignore")
    cv = snap["curves"]
    c2.download_button("Saturation curves (CSV)", plots.curves_csv({k: cv[k] for k in (
        "logit", "D", "minimax_loss", "minimax_grad", "nonsaturating_loss", "nonsaturating_grad")}),
        file_name="gan_saturation.csv", mime="text/csv", on_click="ignore")
    st.caption(CAMERA)


RENDER = {"fits": view_fits, "landscape": view_landscape, "alpha": view_alpha, "2d": view_2d, "gan": view_gan}
for key, container in tab.items():
    if container.open is False:
        continue
    with container:
        try:
            RENDER[key]()
        except PlaygroundError as e:
            st.error(str(e))
        except Exception as e:  # never crash the page: show what went wrong and keep the settings
            st.error(f"Something went wrong: {type(e).__name__}: {e}")

# ------------------------------------------------------------------------------------------- config export
with st.sidebar:
    st.subheader("Share and export")
    st.caption("The URL holds every setting that differs from the defaults: copy it to share this view.")
    st.download_button("Config (JSON)", to_json(cfg), file_name="divergence_lab_config.json",
                       mime="application/json", on_click="ignore", width="stretch")
    st.file_uploader("Load a config (JSON)", type=["json"], key="dv_upload", on_change=_load_config)
