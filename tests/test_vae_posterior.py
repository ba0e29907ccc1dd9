"""The exact posterior on a grid: against the closed forms of a linear-Gaussian model, IWAE against log p(x),
the grid's placement and truncation bound, a shipped model, and the `vae posterior` command."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from playground.errors import PlaygroundError
from playground.vae import aggregate as AG
from playground.vae import posterior as P
from playground.vae.linear_gaussian import LinearGaussian

ROOT = Path(__file__).resolve().parents[1]
DIGITS_2D = ROOT / "pretrained/vae/digits-2d.pt"


def _x(seed=1, scale=1.0):
    return torch.tensor(np.random.default_rng(seed).normal(size=(1, 1, 1, 6)) * scale)


def _log_normal_full(z, m, S):
    d = z - m
    P_ = np.linalg.inv(S)
    return -0.5 * (2 * math.log(2 * math.pi) + np.linalg.slogdet(S)[1] + np.einsum("...i,ij,...j->...", d, P_, d))


@pytest.mark.parametrize("kw,xscale", [({}, 1.0),                                     # a broad posterior
                                       ({"sigma": 0.05}, 1.0),                        # a sharp one
                                       ({"sigma": 0.6}, 6.0)])                        # an outlier: R grows
def test_grid_matches_the_closed_forms(kw, xscale):
    lg = LinearGaussian.random(q_shift=(0.3, -0.2), q_scale=1.7, **kw)
    x = _x(scale=xscale)
    pg = P.posterior_grid(lg, x, n=200)
    assert abs(pg.log_px - lg.log_marginal(x)) < 1e-3
    m, S = lg.posterior(x)
    pm, pS = pg.moments()
    assert np.abs(pm - m).max() < 1e-3 and np.abs(pS - S).max() < 1e-3
    # the posterior density itself, wherever it holds mass (within 3 sd of its mean)
    pts = pg.points()
    exact = _log_normal_full(pts, m, S)
    near = exact > _log_normal_full(m + 3 * np.sqrt(np.diag(S)), m, S)
    assert near.sum() > 100 and np.abs(pg.log_post[near] - exact[near]).max() < 1e-3
    elbo = P.elbo_on_grid(pg, pg.mu_q, pg.logvar_q)
    mu, lv = torch.tensor(pg.mu_q), torch.tensor(pg.logvar_q)
    assert abs(elbo - float(lg.elbo(x, mu, lv))) < 1e-3
    gap = P.gap_on_grid(pg, pg.mu_q, pg.logvar_q)
    assert gap > 0.05 and abs(gap - lg.gap(x, pg.mu_q, pg.logvar_q)) < 1e-3
    assert pg.truncation["error_bound_nats"] < 1e-4
    if xscale > 1:
        assert pg.truncation["radius"] > P.R_START      # the outlier's small p(x) needed a wider scan


@pytest.mark.parametrize("q_scale,samples", [(1.7, 20000), (0.5, 50000)])   # q wider / narrower than p(z|x)
def test_iwae_increases_with_k_and_stays_below_log_px(q_scale, samples):
    lg = LinearGaussian.random(q_shift=(0.4, -0.3), q_scale=q_scale)
    x = _x()
    pg, rep = P.inspect(lg, x, n=120, samples=samples, seed=3)
    log_px = lg.log_marginal(x)
    rows = rep["iwae"]
    assert [r["k"] for r in rows] == list(P.DEFAULT_KS)
    for a, b in zip(rows, rows[1:]):
        assert b["value"] >= a["value"] - 3 * math.hypot(a["se"], b["se"])
    for r in rows:
        assert r["value"] <= rep["log_px"] + 3 * r["se"] + 1e-6
    gap = log_px - rows[0]["value"]
    assert gap > 0.1                                           # K = 1 is the ELBO, clearly below log p(x)
    assert abs(rows[0]["value"] - rep["elbo"]) < 4 * rows[0]["se"]
    assert log_px - rows[-1]["value"] < 0.1 * gap               # and K = 5000 has nearly closed the gap


def test_iwae_standard_error_tracks_the_spread_over_seeds():
    lg = LinearGaussian.random(q_shift=(0.4, -0.3), q_scale=1.7)
    x = _x()
    runs = [P.iwae_bounds(lg, x, ks=(1, 100, 2000), samples=4000, seed=s) for s in range(30)]
    for j in range(3):
        values = np.array([r[j]["value"] for r in runs])
        se = np.mean([r[j]["se"] for r in runs])
        assert 0.5 < values.std(ddof=1) / se < 2.0


def test_bad_inputs_are_one_line_errors():
    lg = LinearGaussian.random()
    with pytest.raises(PlaygroundError, match="between 1 and 5000"):
        P.check_ks([0, 10], 100)
    with pytest.raises(PlaygroundError, match="samples"):
        P.check_ks([10, 5000], 1000)
    with pytest.raises(PlaygroundError, match="grid sizes"):
        P.posterior_grid(lg, _x(), n=4)
    lg3 = LinearGaussian.random(latent=3)
    with pytest.raises(PlaygroundError, match="2 latent dimensions"):
        P.posterior_grid(lg3, _x())


@pytest.mark.skipif(not DIGITS_2D.is_file(), reason="pretrained VAEs missing: run make pretrained")
def test_shipped_model_grid_is_converged_and_iwae_agrees():
    from playground.data import load_dataset
    from playground.vae.checkpoint import load_checkpoint

    model, _ = load_checkpoint(DIGITS_2D)
    test = load_dataset("digits", split="test")
    x, y = P.test_image(model, test, 5)
    coarse = P.posterior_grid(model, x, y, n=80, scan=64)
    fine = P.posterior_grid(model, x, y, n=240)
    assert abs(coarse.log_px - fine.log_px) < 1e-4                  # refining the grid changes nothing
    assert fine.truncation["error_bound_nats"] < 1e-4
    mu, lv = P.encoder_q(model, x, y)
    # an independent estimate: importance sampling from a wide Gaussian around the grid's posterior moments
    m, S = fine.moments()
    wide = np.log(np.diag(S) * 4.0)
    logw = P.log_weights(model, x, y, samples=40000, seed=1, mu=m, logvar=wide)
    w = np.exp(logw - logw.max())
    est = math.log(w.mean()) + logw.max()
    se = math.sqrt(w.var() / len(w)) / w.mean()
    assert abs(est - fine.log_px) < 4 * se + 1e-3
    assert P.gap_on_grid(fine, mu, lv) > 0


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "playground", "vae", "posterior", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.mark.skipif(not DIGITS_2D.is_file(), reason="pretrained VAEs missing: run make pretrained")
def test_cli_posterior_json_and_errors(tmp_path, capsys):
    r = _cli("--checkpoint", str(DIGITS_2D), "--index", "2", "--grid", "60", "--scan", "48", "--k", "1,10,1000",
             "--samples", "4000", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [row["k"] for row in out["iwae"]] == [1, 10, 1000]
    assert abs(out["gap"] - (out["log_px"] - out["elbo"])) < 1e-9 and out["gap"] > 0
    assert out["iwae"][-1]["value"] <= out["log_px"] + 3 * out["iwae"][-1]["se"]
    # the same image through the engine gives the same log p(x)
    from playground.data import load_dataset
    from playground.vae.checkpoint import load_checkpoint

    model, _ = load_checkpoint(DIGITS_2D)
    x, y = P.test_image(model, load_dataset("digits", split="test"), 2)
    assert abs(P.posterior_grid(model, x, y, n=60, scan=48).log_px - out["log_px"]) < 1e-9
    not_image = tmp_path / "x.png"
    not_image.write_bytes(b"not a png")
    for bad in (["--index", "100000"], ["--k", "0,5"], ["--k", "a"], ["--grid", "3"], ["--image", str(not_image)],
                ["--checkpoint", str(tmp_path / "missing.pt")],
                ["--checkpoint", str(ROOT / "pretrained/vae/digits-16d.pt")]):
        args = ["--checkpoint", str(DIGITS_2D), *bad] if bad[0] != "--checkpoint" else bad
        code, err = _cli_in_process(capsys, *args)
        assert code == 2, (bad, err)
        assert len(err.strip().splitlines()) == 1 and err.startswith("error:"), err
    assert "2 latent dimensions" in err


def _cli_in_process(capsys, *args):
    from playground.cli import main

    try:
        code = main(["vae", "posterior", *args])
    except SystemExit as e:                # argparse's own errors (one line, exit 2)
        code = e.code
    return code, capsys.readouterr().err


def test_aggregate_posterior_of_the_prior_itself():
    from scipy.stats import chi2

    mu, std = np.zeros((1, 2)), np.ones((1, 2))
    agg = AG.aggregate_posterior(mu, std, n=160)
    assert abs(agg["kl"]) < 1e-4 and abs(agg["mass_in_box"] - 1) < 1e-3
    assert np.abs(agg["log_q"] - agg["log_p"]).max() < 1e-9
    # the 99% region of N(0, I) is the disc |z|² <= chi²₂(0.99): its edge density
    edge = -math.log(2 * math.pi) - chi2.ppf(0.99, 2) / 2
    assert abs(agg["log_level"] - edge) < 0.05
    holes = AG.prior_holes(agg, mu, std, samples=4000, seed=1)
    assert 0.005 < holes["fraction"] < 0.017 and abs(holes["mutual_information"]) < 1e-3


def test_aggregate_posterior_mixture_and_kl():
    from scipy.stats import multivariate_normal as mvn

    mu = np.array([[1.5, -0.5], [-1.0, 0.8], [0.2, 0.1]])
    std = np.array([[0.3, 0.5], [0.4, 0.2], [0.6, 0.6]])
    z = np.random.default_rng(0).normal(size=(50, 2))
    exact = np.log(np.mean([mvn(m, np.diag(s ** 2)).pdf(z) for m, s in zip(mu, std)], 0))
    assert np.abs(AG.mixture_log_density(z, mu, std) - exact).max() < 1e-9
    one = AG.aggregate_posterior(mu[:1], std[:1], n=200)            # one component: the Gaussian KL
    m, s = mu[0], std[0]
    assert abs(one["kl"] - (0.5 * (m ** 2 + s ** 2 - 1) - np.log(s)).sum()) < 1e-4
    agg = AG.aggregate_posterior(mu, std, n=200)
    holes = AG.prior_holes(agg, mu, std, samples=2000)
    assert holes["mutual_information"] > 0.5 and holes["fraction"] > 0.2   # three small blobs leave holes


@pytest.mark.skipif(not DIGITS_2D.is_file(), reason="pretrained VAEs missing: run make pretrained")
def test_elbo_per_image_and_outlier_score():
    from playground.data import load_dataset
    from playground.vae.checkpoint import load_checkpoint

    model, _ = load_checkpoint(DIGITS_2D)
    test = load_dataset("digits", split="test")
    x, _ = P.test_image(model, test, 3)
    many = AG.elbo_per_image(model, x.repeat(20, 1, 1, 1), samples=500, seed=0)   # 20 x 500 draws
    pg = P.posterior_grid(model, x, n=100, scan=80)
    exact = P.elbo_on_grid(pg, pg.mu_q, pg.logvar_q)
    assert abs(many.mean() - exact) < 4 * many.std(ddof=1) / math.sqrt(len(many)) + 1e-3
    ref = AG.elbo_per_image(model, test.images, samples=16)
    assert ref.shape == (len(test),) and np.all(ref < 0)
    inside = AG.outlier_score(float(np.median(ref)), ref)
    assert 45 <= inside["percentile"] <= 55 and abs(inside["z"]) < 1
    noise = torch.rand((1, *model.shape), generator=torch.Generator().manual_seed(0))
    out = AG.outlier_score(float(AG.elbo_per_image(model, noise)[0]), ref)
    assert out["percentile"] == 0.0 and out["z"] < -3
