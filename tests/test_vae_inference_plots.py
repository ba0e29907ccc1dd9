"""Figure builders of the VAE inference page: what each figure carries, checked against the engine's numbers."""

import numpy as np
import plotly.io as pio
import pytest
import torch

from playground.vae import estimators as E
from playground.vae import inference_plots as F
from playground.vae import aggregate as AG
from playground.vae import posterior as P
from playground.vae.linear_gaussian import LinearGaussian


@pytest.fixture(scope="module")
def case():
    lg = LinearGaussian.random(q_shift=(0.4, -0.3), q_scale=1.7)
    x = torch.tensor(np.random.default_rng(1).normal(size=(1, 1, 1, 6)))
    pg, rep = P.inspect(lg, x, n=60, scan=48, samples=5000, ks=(1, 10, 100, 1000))
    return lg, x, pg, rep


def _traces(fig, name):
    return [t for t in fig.data if t.name == name]


def test_ellipse_is_the_k_sd_contour():
    mu, logvar = np.array([1.0, -2.0]), np.log(np.array([0.25, 4.0]))
    x, y = F.ellipse(mu, logvar, k=2.0)
    assert np.allclose(((x - 1.0) / 0.5) ** 2 + ((y + 2.0) / 2.0) ** 2, 4.0)


def test_posterior_heatmap_carries_the_grid_and_q(case):
    _, _, pg, _ = case
    fig = F.posterior_heatmap(pg)
    heat = fig.data[0]
    assert np.allclose(np.array(heat.z), np.exp(pg.log_post), atol=1e-4)
    assert np.allclose(heat.x, pg.xs, atol=1e-4) and np.allclose(heat.y, pg.ys, atol=1e-4)
    one_sd = _traces(fig, "encoder q(z|x) (1 sd)")[0]
    sd = np.exp(0.5 * pg.logvar_q)
    r = ((np.array(one_sd.x) - pg.mu_q[0]) / sd[0]) ** 2 + ((np.array(one_sd.y) - pg.mu_q[1]) / sd[1]) ** 2
    assert np.allclose(r, 1.0, atol=1e-3)
    m, _ = pg.moments()
    assert np.allclose([_traces(fig, "posterior mean")[0].x[0], _traces(fig, "posterior mean")[0].y[0]], m)
    log_fig = F.posterior_heatmap(pg, log_scale=True, others=[(m, pg.logvar_q, "optimised q", "#f00")])
    z = np.array(log_fig.data[0].z)
    assert np.isclose(z.max() - z.min(), F.LOG_FLOOR, atol=1e-3)
    assert _traces(log_fig, "optimised q (1 sd)")
    assert len(pio.to_json(fig)) < 200_000


def test_iwae_curve(case):
    _, _, _, rep = case
    fig = F.iwae_curve(rep["iwae"], rep["log_px"], rep["elbo"])
    bound = _traces(fig, "IWAE bound (±2 se)")[0]
    assert list(bound.x) == [1, 10, 100, 1000] and np.allclose(bound.y, [r["value"] for r in rep["iwae"]])
    assert np.allclose(bound.error_y.array, [2 * r["se"] for r in rep["iwae"]])
    assert _traces(fig, "log p(x) (quadrature)")[0].y[0] == rep["log_px"]
    assert fig.layout.xaxis.type == "log"


def test_amortisation_and_sweep_and_outlier_figures():
    hist = [{"step": 0, "elbo": -10.0}, {"step": 10, "elbo": -9.0}, {"step": 20, "elbo": -8.8}]
    fig = F.amortisation_curve(hist, -8.5, -8.7)
    assert list(fig.data[0].y) == [-10.0, -9.0, -8.8]
    assert _traces(fig, "best Gaussian")[0].y[0] == -8.7 and _traces(fig, "encoder's ELBO")[0].y[0] == -10.0
    rows = [{"latent": 2, "pca": 0.05, "ae": 0.04, "vae": 0.045}, {"latent": 4, "pca": 0.03, "ae": 0.02, "vae": 0.03}]
    sweep = F.sweep_curve(rows)
    assert [t.name for t in sweep.data] == ["PCA", "autoencoder", "VAE"] and list(sweep.data[1].y) == [0.04, 0.02]
    ref = np.linspace(-30, -20, 100)
    out = F.outlier_histogram(ref, -25.0)
    assert out.layout.shapes[0].x0 == -25.0 and len(out.data[0].x) == 100
    scatter = F.codes_scatter(np.array([[0.0, 1.0], [2.0, 3.0]]), [3, 4], "codes", box=(0, 2, 1, 3))
    assert list(scatter.data[0].marker.color) == [3, 4] and list(scatter.data[1].x) == [0, 2, 2, 0, 0]
    bar = scatter.data[0].marker                                   # which colour is which class
    assert bar.showscale and list(bar.colorbar.tickvals) == [0, 1, 2, 3, 4] and (bar.cmin, bar.cmax) == (0, 4)
    assert not F.codes_scatter(np.zeros((2, 2)), None, "no labels").data[0].marker.showscale


def test_estimator_figures(case):
    lg, x, pg, _ = case
    grads = E.per_sample_gradients(lg, x, pg.mu_q, pg.logvar_q, samples=2000)
    rows = E.variance_vs_samples(grads, sizes=(1, 10, 100))
    fig = F.estimator_variance(rows, E.NAMES)
    measured = _traces(fig, "score function (measured)")[0]
    assert list(measured.x) == [1, 10, 100] and np.allclose(measured.y, [r["score"] for r in rows])
    hist = F.estimator_histograms(grads, np.zeros(4), 0, E.NAMES, E.PARAMS[0])
    assert len(hist.data) == 3 and 0.98 * 2000 < len(hist.data[0].x) <= 2000    # the reparameterised: in range
    lo, hi = hist.layout.xaxis.range
    inside = ((grads["score"][:, 0] >= lo) & (grads["score"][:, 0] <= hi)).sum()
    assert len(hist.data[1].x) == inside < 2000 and "off-scale" in hist.data[1].name


def test_aggregate_heatmaps_mark_the_holes():
    mu = np.array([[1.5, -0.5], [-1.0, 0.8]])
    std = np.full((2, 2), 0.3)
    agg = AG.aggregate_posterior(mu, std, n=50)
    holes = AG.prior_holes(agg, mu, std, samples=300)
    fig = F.aggregate_heatmaps(agg, holes)
    heats = [t for t in fig.data if t.type == "heatmap"]
    assert np.allclose(np.array(heats[0].z), np.exp(agg["log_q"]), atol=1e-4)
    assert np.allclose(np.array(heats[1].z), np.exp(agg["log_p"]), atol=1e-4)
    marked = _traces(fig, "prior draws where q has no mass")
    assert len(marked) == 2 and len(marked[0].x) == int(holes["hole"].sum()) > 0


def test_live_figures_built_without_the_template_and_given_it_as_json_match_the_templated_figures(case):
    import json

    from playground.plotly_arrays import template_json

    _, _, pg, rep = case
    pairs = [(F.posterior_heatmap(pg), F.posterior_heatmap(pg, template=None)),
             (F.iwae_curve(rep["iwae"], rep["log_px"], rep["elbo"]),
              F.iwae_curve(rep["iwae"], rep["log_px"], rep["elbo"], template=None))]
    for full, bare in pairs:
        a, b = json.loads(full.to_json()), json.loads(bare.to_json())
        assert b["layout"]["template"] != a["layout"]["template"]   # the bare one has Plotly's default
        b["layout"]["template"] = template_json(F.TEMPLATE)
        assert a == b                                         # the same spec, the template set as ready JSON


def test_live_specs_are_the_packed_figures(case):
    import json

    from playground.plotly_arrays import unpack

    _, _, pg, rep = case
    specs = F.live_specs(pg, rep, log_scale=True)
    heat = json.loads(F.posterior_heatmap(pg, log_scale=True).to_json())
    assert specs["heat"]["layout"] == heat["layout"]
    assert np.allclose(np.asarray(unpack(specs["heat"]["data"][0]["z"])), np.asarray(unpack(heat["data"][0]["z"])),
                       atol=1e-6)
    assert json.loads(json.dumps(specs["iwae"]))["layout"]["template"] == heat["layout"]["template"]
