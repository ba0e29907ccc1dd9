"""D*, the GAN game's value, the KDE, and the figure builders (pure functions, no browser)."""

import json

import numpy as np
import pytest
from scipy import integrate, stats

from playground.numerics import optimal_discriminator
from playground.toy.config import ToyConfig
from playground.toy.fields import kde_1d, log_density, manifold, noise_grid_lines
from playground.toy.lab import LabSession
from playground.toy.plots import arrow_segments, downsample, field_figure_1d, lab_figures, live_frame

P = stats.norm(0.0, 1.0)
Q = stats.norm(1.0, 1.5)


def d_star(x):
    return optimal_discriminator(P.logpdf(x), log_density(Q.pdf(x)))


def test_optimal_discriminator_matches_p_over_p_plus_q_and_survives_underflow():
    x = np.linspace(-5, 5, 101)
    np.testing.assert_allclose(d_star(x), P.pdf(x) / (P.pdf(x) + Q.pdf(x)), rtol=1e-12)
    # p underflows in linear space (log p = -1800) but its log is still used: D* ~ 0, not 0/0
    far = np.array([60.0])
    assert 0.0 <= optimal_discriminator(P.logpdf(far), log_density(np.array([1e-300])))[0] < 1e-6
    assert optimal_discriminator(np.array([-np.inf]), log_density(np.array([0.0])))[0] == 0.5


def test_game_value_at_optimal_d_is_minus_log4_plus_2_js():
    """V(D*, G) = E_p log D* + E_q log(1 - D*) = -log 4 + 2 JS(p||q), JS computed from its definition."""
    lo, hi = -20, 20
    v = integrate.quad(lambda x: P.pdf(x) * np.log(d_star(np.array([x]))[0])
                       + Q.pdf(x) * np.log(1 - d_star(np.array([x]))[0]), lo, hi, limit=200)[0]
    m = lambda x: 0.5 * (P.pdf(x) + Q.pdf(x))
    kl_pm = integrate.quad(lambda x: P.pdf(x) * np.log(P.pdf(x) / m(x)), lo, hi, limit=200)[0]
    kl_qm = integrate.quad(lambda x: Q.pdf(x) * np.log(Q.pdf(x) / m(x)), lo, hi, limit=200)[0]
    js = 0.5 * kl_pm + 0.5 * kl_qm
    assert v == pytest.approx(-np.log(4) + 2 * js, abs=1e-8)
    assert 0 < js < np.log(2)


def test_kde_integrates_to_one_and_matches_an_independent_kde():
    rng = np.random.default_rng(0)
    s = rng.normal(0.5, 1.0, 20000)
    xs = np.linspace(-6, 7, 600)
    q = kde_1d(s, xs)
    assert np.trapezoid(q, xs) == pytest.approx(1.0, abs=5e-3)
    # with samples outside the view: same as scipy's Gaussian KDE with the same (Scott) bandwidth,
    # so outside samples are neither dropped from the normalisation nor clipped into the view
    s2 = np.concatenate([s, rng.normal(9.0, 0.5, 5000)])
    ref = stats.gaussian_kde(s2, bw_method=1.06 * len(s2) ** -0.2)(xs)
    np.testing.assert_allclose(kde_1d(s2, xs), ref, atol=2e-3 * ref.max())


def test_noise_grid_lines_and_manifold_shapes():
    lines = noise_grid_lines(3, "uniform", n_lines=5, n_points=11)
    assert len(lines) == 10 and all(ln.shape == (11, 3) for ln in lines)
    assert max(np.abs(ln).max() for ln in lines) == 1.0 and all((ln[:, 2] == 0).all() for ln in lines)
    lab = LabSession(ToyConfig(g_width=16, d_width=16))
    out = manifold(lab.gan, n_lines=5)
    assert len(out) == 10 and out[0].shape == (41, 2)


def test_arrow_segments_start_at_the_sample_and_end_at_the_scaled_vector():
    p = np.array([[0.0, 0.0], [1.0, 2.0]])
    v = np.array([[1.0, 0.0], [0.0, -2.0]])
    xs, ys = arrow_segments(p, v, scale=0.5)
    seg = np.array([xs, ys], dtype=float).T.reshape(2, 6, 2)     # shaft, head, gap per arrow
    np.testing.assert_allclose(seg[:, 0], p)
    np.testing.assert_allclose(seg[:, 1], p + 0.5 * v)
    assert np.isnan([xs[5], ys[5], xs[11], ys[11]]).all()        # gaps between arrows
    head_len = np.linalg.norm(seg[:, 2] - seg[:, 1], axis=1)
    assert (head_len > 0).all() and (head_len < np.linalg.norm(0.5 * v, axis=1)).all()


def test_downsample_keeps_trend_and_bounds_size():
    x = np.arange(10_000)
    y = np.sin(x / 1000.0)
    xs, ys = downsample(x, y, n=400)
    assert len(xs) <= 400 and xs[-1] <= x[-1]
    np.testing.assert_allclose(ys, np.sin(xs / 1000.0), atol=0.01)


@pytest.mark.parametrize("loss, sigmoid", [("nonsaturating", True), ("wgan_gp", False)])
def test_field_figure_is_json_and_labels_d_honestly(loss, sigmoid):
    lab = LabSession(ToyConfig(loss=loss, g_width=16, d_width=16))
    snap = lab.snapshot(show_manifold=True)
    figs = lab_figures(snap, {"manifold": True})
    json.dumps(live_frame(snap, {"manifold": True})["figures"], allow_nan=False)   # what is sent: strict JSON
    heat = figs["field"]["data"][0]
    assert heat["type"] == "heatmap"
    if sigmoid:
        assert (heat["zmin"], heat["zmax"]) == (0.0, 1.0) and heat["colorbar"]["title"]["text"] == "D(x)"
    else:
        assert heat["zmid"] == 0.0 and heat["zmin"] == -heat["zmax"] and "critic" in heat["colorbar"]["title"]["text"]
    names = [t["name"] for t in figs["field"]["data"]]
    assert "G(noise grid)" in names and "G update (−∇ₓ loss)" in names


def test_one_d_figure_has_p_q_d_and_d_star_with_gaps_where_no_mass():
    lab = LabSession(ToyConfig(dist="bimodal1d", latent_dim=1, g_width=16, d_width=16))
    snap = lab.snapshot()
    fig = field_figure_1d(snap)
    by_name = {t["name"]: t for t in fig["data"]}
    p = np.array(by_name["target p(x)"]["y"], dtype=float)
    assert np.trapezoid(p, snap["xs"]) == pytest.approx(1.0, abs=0.01)
    dstar = by_name["optimal D*(x) = p/(p+q)"]["y"]
    assert np.isnan(dstar).any() or np.min(snap["p"] + snap["q"]) > 0
    assert (dstar[~np.isnan(dstar)] >= 0).all() and (dstar[~np.isnan(dstar)] <= 1).all()


@pytest.mark.parametrize("loss,has_d_star", [("nonsaturating", True), ("least_squares", True), ("hinge", False),
                                             ("wgan_gp", False)])
def test_one_d_figure_shows_d_star_exactly_where_it_is_the_optimum(loss, has_d_star):
    # LSGAN with labels a=0, b=1 is optimal at D* = (b p + a q) / (p + q) = p / (p + q), like the sigmoid GANs
    lab = LabSession(ToyConfig(dist="bimodal1d", latent_dim=1, g_width=16, d_width=16, loss=loss))
    fig = field_figure_1d(lab.snapshot())
    names = [t["name"] for t in fig["data"]]
    assert ("optimal D*(x) = p/(p+q)" in names) == has_d_star
    lo, hi = fig["layout"]["yaxis2"]["range"]
    d = np.array(next(t for t in fig["data"] if t.get("yaxis") == "y2")["y"], dtype=float)
    assert lo <= np.nanmin(d) and np.nanmax(d) <= hi     # the fixed range holds the whole curve


def test_a_diverged_critic_still_draws():
    # a NaN critic (the worker then reports "loss became NaN") must not crash the figure builders
    lab = LabSession(ToyConfig(loss="wgan_gp", g_width=16, d_width=16))
    snap = lab.snapshot()
    snap["d_grid"] = np.full_like(snap["d_grid"], np.nan)
    snap["arrows"] = np.full_like(snap["arrows"], np.nan)
    heat = live_frame(snap)["figures"]["field"]["data"][0]
    assert heat["zmax"] == 1.0 and heat["zmin"] == -1.0


def test_d_heatmaps_are_red_where_d_says_fake_and_blue_where_real_on_the_page_and_in_exports():
    """A colour-scale name would flip between plotly.js (the page) and plotly.py (the exporter): the list is
    spelled out, low D red and high D blue, as the families lab's caption says."""
    from playground.families.plots import D_SCALE
    from playground.raster import colorscale_lut, parse_color
    from playground.toy.plots import D_COLORSCALE

    assert D_SCALE is D_COLORSCALE and isinstance(D_COLORSCALE, list)
    lo, hi = parse_color(D_COLORSCALE[0][1]), parse_color(D_COLORSCALE[-1][1])
    assert lo[0] > lo[2] and hi[2] > hi[0]                        # red at D = 0, blue at D = 1
    lut = colorscale_lut(D_COLORSCALE)
    assert tuple(lut[0]) == tuple(lo[:3]) and tuple(lut[-1]) == tuple(hi[:3])
    from playground.toy.config import ToyConfig
    from playground.toy.lab import LabSession
    from playground.toy.plots import field_figure_2d

    snap = LabSession(ToyConfig(g_width=8, d_width=8, g_layers=1, d_layers=1, eval_samples=200)).snapshot()
    assert field_figure_2d(snap)["data"][0]["colorscale"] is D_COLORSCALE
