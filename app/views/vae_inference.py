"""VAE inference lab: the exact posterior of a 2-latent VAE beside its encoder, the ELBO's gaps, IWAE,
autoencoder vs VAE vs PCA, gradient estimators, the aggregate posterior and an outlier score."""

import os

import numpy as np
import pandas as pd
import streamlit as st
import torch

from app.components.config_widgets import sync_url
from app.components.live_figure import live_figure
from playground.ahead import Ahead
from playground.configs import from_query
from playground.errors import PlaygroundError
from playground.vae import aggregate, amortisation, compare, estimators, latent, plots, posterior
from playground.vae import inference_plots as F
from playground.vae.inspector import (GRIDS, MAX_UPLOAD, VIEW_LABELS, InspectorConfig, Pick, linked_index,
                                      linked_model, near, nearest_grid, neighbours, test_pick, upload_pick)
from playground.vae.likelihood import GridCache
from playground.vae.posterior import GH_NODES
from playground.vae.sources import OpenedModel, model_sources, open_model, short_name
from playground.vae.train import load_data

SS = st.session_state
NEXT: list = []               # (key, compute) of the reports this run's image makes likely next
IWAE_SAMPLES = posterior.DEFAULT_SAMPLES      # the CLI's defaults too (vae posterior)
SCAN = posterior.DEFAULT_SCAN                 # cells per side of the scan that places the grid
ELBO_SAMPLES = aggregate.OUTLIER_SAMPLES      # draws per image for the outlier view's ELBOs (vae outlier too)
torch.set_num_threads(1)


@st.cache_resource(max_entries=4, show_spinner=False)
def _open(path: str, sha: str | None, mtime: float) -> OpenedModel:
    return open_model(path, sha)


@st.cache_resource(max_entries=4, show_spinner=False)
def _grid_cache(model_key) -> GridCache:
    """The decoder's terms on the scan grids, shared by every session: a new image pays only for its own part.
    The scans the test split needs are filled behind the first view (about a second for mnist5k-2d)."""
    cache = GridCache(opened.model)
    posterior.warm_scans_behind(opened.model, opened.test.images, opened.test.labels, scan=SCAN, cache=cache)
    return cache


@st.cache_resource(max_entries=4, show_spinner=False)
def _ahead(model_key) -> Ahead:
    """This model's posterior reports, shared by every session; the test images beside the one on screen are
    computed behind it, so stepping through the test set finds each report ready. They start 0.15 s after the
    run: a guess computing while the server sends the run's last messages (the figures) slowed them by about
    30 ms (it holds the interpreter lock at times, at the lowest priority); later, it takes only idle cycles.
    16 reports per model (about 0.6 MB each at n = 200) bound the memory of the four models kept. A guess
    passes a checkpoint every decoder chunk (about 15 ms): one silent for 0.3 s is starved, and recomputed."""
    return Ahead(max_entries=16, start_delay=0.15, patience=0.3)


def _report(x, y, n: int, parallel: bool):
    return lambda: posterior.inspect(model, x, y, n=n, samples=IWAE_SAMPLES, scan=SCAN,
                                     cache=_grid_cache(model_key), parallel=parallel)


def _inspect(pick: Pick, n: int):
    """The report of the image on screen (importance samples on a second core), and, for a test image, the next
    and previous ones queued to be computed on one core once this run is over."""
    NEXT.extend((((p := test_pick(model, test, i)).key, n), _report(p.x, p.y, n, False))
                for i in neighbours(pick, len(test)))
    return _ahead(model_key).get((pick.key, n), _report(pick.x, pick.y, n, True))


@st.cache_data(max_entries=4, show_spinner=False)
def _test_elbos(model_key):
    return aggregate.elbo_per_image(model, test.images, test.labels, samples=ELBO_SAMPLES)


@st.cache_resource(max_entries=4, show_spinner="Training the 2D autoencoder (once; kept on disk)...")
def _baselines(model_key):
    train = load_data(model.cfg)[0]
    ae = compare.autoencoder_2d(model.cfg, train.images)
    return train, ae, compare.PCA(8).fit(train.images.flatten(1).numpy())


def _img(images, nrow: int = 1, size_px: int = 120, caption: str | None = None, where=st) -> None:
    where.image(plots.picture(images, nrow, size_px), caption=caption)


st.title("VAE inference lab")
st.caption("The encoder q(z|x) approximates the posterior p(z|x); with two latent dimensions the true posterior can "
           "be computed on a grid, and with it log p(x), the ELBO's gap, and what an amortised encoder loses.")
sources = posterior.two_latent_sources(model_sources())
if not sources:
    st.error("No VAE with 2 latent dimensions found: train one in the VAE lab (latent dimensions = 2).")
    st.stop()
# What the page looks at (InspectorConfig) outlives the widgets, whose state Streamlit drops while they are not
# drawn (another view, another page): a session starts from the link's, then each run keeps the latest.
problems: list[str] = []
if "vi_cfg" not in SS:
    SS["vi_cfg"], problems = from_query(InspectorConfig, dict(st.query_params))
cfg: InspectorConfig = SS["vi_cfg"]
if "vi_model" not in SS:
    SS["vi_model"], problem = linked_model(sources, cfg)
    problems += [problem] if problem else []
if SS.get("vi_model") not in sources:
    SS["vi_model"] = next(iter(sources))
with st.sidebar:
    st.subheader("Model")
    choice = st.selectbox("VAE (2 latent dimensions)", list(sources), key="vi_model")
src = sources[choice]
try:
    opened = _open(src["path"], src["sha"] or None, os.path.getmtime(src["path"]))
except PlaygroundError as e:
    st.error(str(e))
    st.stop()
model, test = opened.model, opened.test
if "vi_index" not in SS:
    SS["vi_index"], problem = linked_index(cfg, len(test))
    problems += [problem] if problem else []
SS["vi_index"] = min(SS["vi_index"], len(test) - 1)               # another model may have fewer test images
SS.setdefault("vi_view", cfg.view)
for problem in problems:
    st.warning(f"Ignored in the link: {problem}")
model_key = (choice, os.path.getmtime(src["path"]))
st.sidebar.caption(plots.model_summary(model.cfg, model.latent, bool(model.num_classes)))



def choose_image() -> Pick:
    """A test image by index or an upload, beside its reconstruction."""
    c = st.columns([1, 2, 1, 1], vertical_alignment="center")
    idx = int(c[0].number_input("test image #", 0, len(test) - 1, key="vi_index"))
    up = c[1].file_uploader("...or upload an image", type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
                            key="vi_upload", max_upload_size=MAX_UPLOAD // 1_000_000)
    pick = test_pick(model, test, idx)
    if up is not None:
        try:
            data = up.getvalue()
            seen = upload_pick(model, data, up.name)             # inverted if it looks inverted
            inv = c[1].checkbox("invert (dark strokes on light paper)", key="vi_invert", value=seen.inverted)
            pick = seen if inv == seen.inverted else upload_pick(model, data, up.name, inv)
        except PlaygroundError as e:
            c[1].error(f"Cannot use {up.name}: {e}")
    _img(pick.x, caption=pick.where, size_px=96, where=c[2])
    _img(latent.decode(model, posterior.encoder_q(model, pick.x, pick.y)[0], pick.y), caption="reconstruction",
         size_px=96, where=c[3])
    return pick


def view_posterior(pick: Pick) -> None:
    c = st.columns([2, 2, 3])
    cfg = SS["vi_cfg"]                 # these widgets are not drawn in the other views: refill them from it
    SS.setdefault("vi_grid", nearest_grid(cfg.grid))
    SS.setdefault("vi_log", cfg.log)
    n = c[0].select_slider("grid cells per side", GRIDS, key="vi_grid")
    log_scale = c[1].toggle("log density", key="vi_log")
    pg, rep = _inspect(pick, n)
    m = st.columns(4)
    m[0].metric("log p(x) (quadrature)", f"{rep['log_px']:.3f}")
    m[1].metric("ELBO of the encoder", f"{rep['elbo']:.3f}")
    m[2].metric("gap KL(q ‖ p(z|x))", f"{rep['gap']:.3f}")
    last = rep["iwae"][-1]
    m[3].metric(f"IWAE, K = {last['k']}", f"{last['value']:.3f}", help=f"± {last['se']:.3f} (standard error)")
    # One live figure (kept in the browser, updated by Plotly.react): remounting two st.plotly_chart charts
    # cost the browser about 170 ms per new image.
    live_figure(F.live_specs(pg, rep, log_scale), [["heat"], ["iwae"]], widths=[3, 2], key="vi_live", height=500)
    t = rep["truncation"]
    st.caption(f"log p(x) sums p(x|z) p(z) over a grid placed to hold all of the posterior (it reaches beyond the "
               f"view); the mass it can miss, {t['error_bound_nats']:.1e}, bounds its truncation error in nats. The "
               f"ELBO is Gauss–Hermite quadrature in q's own coordinates ({GH_NODES}² points), exact whatever the "
               f"grid's cells. IWAE uses {IWAE_SAMPLES} draws from q in blocks of K; an estimate above log p(x) is "
               "Monte Carlo error.")
    with st.expander("Numbers"):
        st.json(rep, expanded=False)


@st.cache_data(max_entries=32, show_spinner="finding the best Gaussian...")
def _best(model_key, image_key, _pg, _pick: Pick) -> dict:
    """The family's optimum for this image (about a second: quadrature polishes the grid's answer)."""
    return amortisation.best_gaussian(_pg, elbo=amortisation.elbo_of(model, _pick.x, _pick.y))


def view_amortisation(pick: Pick) -> None:
    pg, rep = _inspect(pick, 100)
    best = _best(model_key, pick.key, pg, pick)
    c = st.columns([1, 1, 2])
    steps = c[0].number_input("Adam steps", 50, 2000, 300, step=50, key="vi_am_steps")
    draws = c[1].number_input("samples per step", 1, 256, 16, key="vi_am_draws")
    key = (model_key, pick.key, steps, draws)
    chart, bar = st.empty(), st.empty()
    if c[2].button("Optimise q for this image", key="vi_am_go", type="primary"):
        hist = []
        for h in amortisation.optimise_q(model, pick.x, pg, pick.y, steps=int(steps), samples=int(draws)):
            hist.append(h)
            bar.progress(h["step"] / steps, text=f"step {h['step']} / {steps}: ELBO {h['elbo']:.3f}")
            if h["step"] % 50 == 0 or h["step"] == steps:
                chart.plotly_chart(F.amortisation_curve(hist, pg.log_px, best["elbo"]), key=f"vi_am_live{h['step']}")
        SS["vi_am"] = (key, hist)
    hist = SS["vi_am"][1] if SS.get("vi_am", (None,))[0] == key else None
    if hist is None:
        st.info("The encoder's q and the best Gaussian on the grid are shown; press the button to fit q to this "
                "image by stochastic variational inference and watch the gap close.")
        others = [(best["mu"], best["logvar"], "best Gaussian", F.BEST_COLOUR)]
    else:
        chart.plotly_chart(F.amortisation_curve(hist, pg.log_px, best["elbo"]), key="vi_am_curve")
        others = [(hist[-1]["mu"], hist[-1]["logvar"], "optimised q", F.OPTIMISED_COLOUR),
                  (best["mu"], best["logvar"], "best Gaussian", F.BEST_COLOUR)]
    a, b = st.columns([3, 2])
    a.plotly_chart(F.posterior_heatmap(pg, others=others), key="vi_am_heat")
    g = amortisation.gaps(pg, hist[-1] if hist else {"elbo": float("nan")}, best,
                          amortisation.elbo_of(model, pick.x, pick.y))
    b.table(pd.DataFrame({"nats": [g["log_px"], g["elbo_encoder"], g["elbo_optimised"], g["elbo_best_gaussian"],
                                   g["amortisation_gap"], g["family_gap"]]},
                         index=["log p(x)", "ELBO, encoder", "ELBO, optimised q", "ELBO, best Gaussian",
                                "amortisation gap", "Gaussian family's gap"]).round(4))
    b.caption("amortisation gap = best Gaussian − encoder: what one shared encoder loses on this image; the family's "
              "gap = log p(x) − best Gaussian: what no diagonal Gaussian can fix.")


def view_compare(pick: Pick) -> None:
    train, ae, pca8 = _baselines(model_key)
    pca2 = compare.PCA(2).fit(train.images.flatten(1).numpy())
    labels = test.labels.numpy() if test.labels is not None else None
    n = st.slider("decoded grid", 6, 20, compare.GRID_N, key="vi_cmp_n")
    panels = compare.three_latents(model, pca2, ae, train.images, test.images, n)
    for col, (kind, p) in zip(st.columns(3), panels.items()):
        col.plotly_chart(F.codes_scatter(p["codes"], labels, f"{F.LABELS[kind]}: encoded test set", p["box"]),
                         key=f"vi_c{kind}")
        _img(p["grid"], n, size_px=32, caption=f"decoded over the dotted box: {p['off_data']:.0%} of it off the "
             f"data (reconstruction MSE {p['mse']:.4f})", where=col)
    st.caption("Off the data: farther from every training image than 95% of test images are. The autoencoder leaves "
               "gaps between its clusters; the VAE's KL term packs codes into the prior's ball.")
    _img(torch.from_numpy(compare.component_images(pca8, model.shape)), 8, size_px=64,
         caption="PCA's first 8 components (grey = 0): the linear autoencoder's decoder directions")
    st.markdown("**Reconstruction error vs latent size** (each model trained briefly; cached on disk)")
    sizes, ep = compare.SWEEP_SIZES, compare.sweep_epochs(model.cfg, len(train))
    rows = compare.read_sweep(model.cfg, sizes, ep, len(train))
    if rows is None and st.button(f"Compute it: trains {2 * len(sizes)} small models", key="vi_sweep"):
        bar, rows = st.progress(0.0, text="training..."), []
        for row in compare.cached_sweep(model.cfg, train.images, test.images, sizes, ep):
            rows.append(row)
            bar.progress(len(rows) / len(sizes), text=f"latent size {row['latent']} done")
    if rows:
        st.plotly_chart(F.sweep_curve(rows), key="vi_sweep_fig")


def view_estimators(pick: Pick) -> None:
    pg, _ = _inspect(pick, 100)
    c = st.columns(2)
    pool = c[0].select_slider("per-sample gradients drawn", [1000, 2000, 5000, 10000, 20000], estimators.POOL,
                              key="vi_es_n")
    comp = c[1].radio("component", range(4), format_func=lambda i: estimators.PARAMS[i], horizontal=True,
                      key="vi_es_c")
    grads = estimators.per_sample_gradients(model, pick.x, pg.mu_q, pg.logvar_q, pick.y, samples=int(pool))
    exact = estimators.exact_gradient(model, pick.x, pg.mu_q, pg.logvar_q, pick.y)
    s = estimators.summarise(grads)
    a, b = st.columns(2)
    a.plotly_chart(F.estimator_variance(estimators.variance_vs_samples(grads), estimators.NAMES), key="vi_es_var")
    b.plotly_chart(F.estimator_histograms(grads, exact, comp, estimators.NAMES, estimators.PARAMS[comp]),
                   key="vi_es_hist")
    snr = estimators.snr(s)
    st.table(pd.DataFrame({name: {"mean": s[k]["mean"][comp], "± se": s[k]["se"][comp], "exact": exact[comp],
                                  "variance (1 sample)": s[k]["var"][comp], "SNR (all 4)": snr[k]}
                           for k, name in estimators.NAMES.items()}).T.round(4))
    st.caption("Gradients of the ELBO with respect to q's mean and log-variance for this image; exact = the "
               f"reparameterised gradient integrated by Gauss–Hermite quadrature ({GH_NODES}² points, no sampling). "
               "All three are unbiased; the reparameterised one uses the decoder's gradient.")


@st.cache_resource(max_entries=4, show_spinner="Encoding the training images...")
def _train_codes(model_key):
    """q(z|x)'s means and sds over the training split: the data the decoder learned from."""
    train = load_data(model.cfg)[0]
    return latent.encode(model, train.images, train.labels if model.num_classes else None)


def view_aggregate(pick: Pick) -> None:
    mu, std = _train_codes(model_key)
    agg = aggregate.aggregate_posterior(mu, std, n=aggregate.AGGREGATE_GRID)
    holes = aggregate.prior_holes(agg, mu, std, samples=400)
    m = st.columns(3)
    m[0].metric("prior draws where q(z) has no mass", f"{holes['fraction']:.1%}",
                help=f"outside the aggregate posterior's {agg['hdr']:.0%} highest-density region")
    m[1].metric("KL(q(z) ‖ p(z))", f"{agg['kl']:.3f} nats")
    m[2].metric("I(x; z) = E KL(q(z|x) ‖ p) − KL(q ‖ p)", f"{holes['mutual_information']:.3f} nats",
                help=f"over the N = {len(mu)} training images: at most log N = {np.log(len(mu)):.2f} nats")
    st.caption(f"q(z) = (1/N) Σ q(z|xₙ) over the N = {len(mu):,} training images the decoder learned from. With "
               "narrow q(z|x) a finite N leaves gaps between the codes, so the share of holes and KL(q ‖ p) fall "
               "as N grows.")
    st.plotly_chart(F.aggregate_heatmaps(agg, holes), key="vi_agg")
    z = holes["z"][holes["hole"]][:16]
    if len(z):
        _img(latent.decode(model, z.astype(np.float32), 0 if model.num_classes else None), len(z), size_px=48,
             caption="what the decoder makes of prior draws in the holes (red crosses)")


def view_outlier(pick: Pick) -> None:
    ref = _test_elbos(model_key)
    y = None if pick.y is None else torch.tensor([pick.y])
    value = float(aggregate.elbo_per_image(model, pick.x, y, samples=ELBO_SAMPLES)[0])
    score = aggregate.outlier_score(value, ref)
    m = st.columns(3)
    m[0].metric(f"ELBO of {pick.where}", f"{value:.2f}")
    m[1].metric("test images with a lower ELBO", f"{score['percentile']:.1f}%")
    m[2].metric("z-score", f"{score['z']:.2f}")
    st.plotly_chart(F.outlier_histogram(ref, value, pick.where), key="vi_out")
    st.caption(f"ELBOs estimated with {ELBO_SAMPLES} draws from q per image. Upload an image above: a low "
               "ELBO (far left) says the model finds it unlike its data.")


VIEWS = {"posterior": view_posterior, "amortisation": view_amortisation, "compare": view_compare,
         "gradients": view_estimators, "aggregate": view_aggregate, "outlier": view_outlier}


@st.fragment
def lab() -> None:
    """The image and the view. A new image reruns only this part of the page: on 2 cores the browser's handling
    of a whole rerun (sidebar and all) was most of a random jump's time (bench/README, VAE inference)."""
    NEXT.clear()                     # this list outlives a fragment's rerun: it belongs to the last full run
    pick = choose_image()
    _ahead(model_key).only(lambda key: near(key[0], pick.key))     # guesses far from this image give way to it
    view = st.radio("View", list(VIEWS), format_func=VIEW_LABELS.get, horizontal=True, key="vi_view",
                    label_visibility="collapsed")
    VIEWS[view](pick)
    was = SS["vi_cfg"]
    SS["vi_cfg"] = InspectorConfig(model=short_name(choice), index=SS["vi_index"], view=view,
                                   grid=SS.get("vi_grid", was.grid), log=SS.get("vi_log", was.log))
    sync_url(SS["vi_cfg"])
    if NEXT:
        _ahead(model_key).ahead(NEXT)


lab()
