"""Toy targets: densities against closed forms and independent integrals, samplers against densities."""

import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import norm

from playground.errors import PlaygroundError
from playground.formula import parse_mixture
from playground.toy.config import DISTS_1D, TARGET_DEFAULTS, ToyConfig
from playground.toy.targets import (
    curve_nodes,
    make_target,
    midpoint_cell_masses,
    quadrature_log_prob,
)

DISTS_2D = [d for d in TARGET_DEFAULTS if d not in DISTS_1D and d != "custom"]
CURVES = ["line", "circle", "two_moons", "spiral", "swiss_roll"]
_CACHE: dict = {}


def target(dist, **kw):
    key = (dist, tuple(sorted(kw.items())))
    if key not in _CACHE:
        _CACHE[key] = make_target(ToyConfig(dist=dist, **kw))
    return _CACHE[key]


def smallest_std(t):
    if t.means is not None:
        return float(np.sqrt(t.covs[:, np.arange(t.dim), np.arange(t.dim)]).min())
    return t.std


def mesh(edges):
    mids = [(e[1:] + e[:-1]) / 2 for e in edges]
    gx, gy = np.meshgrid(*mids, indexing="ij")
    return np.stack([gx.ravel(), gy.ravel()], axis=1), np.diff(edges[0])[0] * np.diff(edges[1])[0]


# --------------------------------------------------------------------------- 2D densities
@pytest.mark.parametrize("dist", DISTS_2D)
def test_2d_density_integrates_to_one(dist):
    t = target(dist)
    assert t.has_density and t.dim == 2
    xmin, xmax, ymin, ymax = t.bounds
    h = smallest_std(t)                      # spacing = std: the midpoint rule is then accurate to ~1e-8
    edges = [np.arange(xmin, xmax + h, h), np.arange(ymin, ymax + h, h)]
    pts, area = mesh(edges)
    total = np.exp(t.log_prob(pts)).sum() * area
    assert abs(total - 1) < 1e-3, total


def richardson_cell_masses(t, edges, sub):
    """Cell masses integrated from log_prob: midpoint rule at h and h/2, Richardson-extrapolated (the h^2
    error term cancels)."""
    coarse, _ = midpoint_cell_masses(t.log_prob, edges, sub=sub)
    fine, _ = midpoint_cell_masses(t.log_prob, edges, sub=2 * sub)
    return (4 * fine - coarse) / 3


@pytest.mark.parametrize("dist", DISTS_2D + list(DISTS_1D))
def test_cell_masses_match_integrated_density(dist):
    t = target(dist)
    b = t.bounds
    nb = 6
    # A grid that does not cover everything, so the outside mass is tested too.
    edges = [np.linspace(b[2 * i] * 0.7, b[2 * i + 1] * 0.6, nb + 1) for i in range(t.dim)]
    masses, outside = t.cell_masses(edges)
    assert masses.shape == (nb,) * t.dim
    assert np.all(masses >= 0) and 0 <= outside <= 1
    assert abs(masses.sum() + outside - 1) < 1e-12
    if dist == "uniform1d":
        return                                   # exact closed form, tested separately
    # Spacing h = std / 2 (1.5 std for the curves whose log_prob is a costly quadrature), then h / 2.
    costly = dist in ("two_moons", "spiral", "swiss_roll")
    h, tol = (1.5 * smallest_std(t), 1e-4) if costly else (smallest_std(t) / 2, 1e-5)
    ref = richardson_cell_masses(t, edges, int(math.ceil((edges[0][1] - edges[0][0]) / h)))
    assert np.abs(masses - ref).max() < tol
    assert abs(outside - (1 - ref.sum())) < 1e-4
    # With the view box itself, essentially nothing is outside.
    _, out_all = t.cell_masses([np.linspace(b[2 * i], b[2 * i + 1], 5) for i in range(t.dim)])
    assert out_all < 1e-6


@pytest.mark.parametrize("dist", DISTS_2D + list(DISTS_1D))
def test_samples_match_cell_masses(dist):
    """A histogram of 100k samples against the exact cell masses (checked against log_prob above)."""
    t = target(dist)
    n = 100_000
    x = t.sample(n, torch.Generator().manual_seed(1)).double().numpy()
    b = t.bounds
    edges = [np.linspace(b[2 * i], b[2 * i + 1], 13) for i in range(t.dim)]
    p, _ = t.cell_masses(edges)
    counts, _ = np.histogramdd(x, bins=edges)
    expected = n * p
    z = np.abs(counts - expected) / np.sqrt(expected * (1 - p) + 1)
    assert z.max() < 5, z.max()
    assert np.all(np.isfinite(t.log_prob(x[:2000])))


def test_circle_density_against_angle_integral():
    t = target("circle")
    r, s = t.radius, t.std
    pts = np.array([[2.0, 0.0], [0.0, 2.03], [1.2, -1.6], [1.9, 0.2], [0.0, 0.0], [3.0, 3.0], [0.5, 0.1]])
    theta = (np.arange(200_000) + 0.5) / 200_000 * 2 * np.pi     # periodic: midpoint rule is spectral
    d2 = (pts[:, :1] - r * np.cos(theta)) ** 2 + (pts[:, 1:] - r * np.sin(theta)) ** 2
    ref = logsumexp(-d2 / (2 * s * s), axis=1) - math.log(len(theta)) - math.log(2 * math.pi * s * s)
    np.testing.assert_allclose(t.log_prob(pts), ref, rtol=1e-9, atol=1e-9)
    assert np.isfinite(t.log_prob(np.array([[40.0, 0.0]])))[0]        # far away: log domain, no underflow


def test_line_density_against_monte_carlo_and_quadrature():
    t = target("line")
    r, s = t.radius, t.std
    rng = np.random.default_rng(0)
    u = rng.uniform(-r, r, 400_000)
    d = np.array([1.0, 1.0]) / math.sqrt(2)
    pts = np.array([[0.0, 0.0], [0.7, 0.72], [1.4, 1.38], [r * d[0], r * d[1]], [1.45, 1.45], [-1.0, -0.95]])
    c = u[:, None] * d
    d2 = ((pts[:, None, :] - c[None]) ** 2).sum(-1)
    dens = np.exp(-d2 / (2 * s * s)).mean(axis=1) / (2 * math.pi * s * s)
    np.testing.assert_allclose(np.exp(t.log_prob(pts)), dens, rtol=0.02)
    # The closed form also agrees with the generic curve quadrature (independent code paths).
    x = t.sample(3000, torch.Generator().manual_seed(3)).double().numpy()
    x = np.concatenate([x, x * 1.05 + 0.1])
    np.testing.assert_allclose(t.log_prob(x), quadrature_log_prob(x, t.nodes, t.node_weights, s), atol=1e-6)
    # Far from the segment: finite, and exactly the perpendicular Gaussian there (the along-term is 1/L).
    far = np.array([[-2.0, 2.0]])                                      # v = 2*sqrt(2), u = 0
    expected = -0.5 * (2 * math.sqrt(2) / s) ** 2 - math.log(s * math.sqrt(2 * math.pi)) - math.log(2 * r)
    assert np.isclose(t.log_prob(far)[0], expected, rtol=1e-9)
    far_end = np.array([[40.0, 40.0]])
    assert np.isfinite(t.log_prob(far_end))[0]


@pytest.mark.parametrize("dist", ["two_moons", "spiral", "swiss_roll"])
def test_curve_quadrature_against_finer_quadrature(dist):
    t = target(dist)
    x = t.sample(600, torch.Generator().manual_seed(4)).double().numpy()
    x = np.concatenate([x, x + 0.15])
    nodes, w = curve_nodes(t.pieces, t.std, spacing=1 / 8, max_nodes=10**6)
    ref = quadrature_log_prob(x, nodes, w, t.std)
    np.testing.assert_allclose(t.log_prob(x), ref, atol=1e-5)


def test_mixture_shapes():
    ring = target("ring8")
    assert ring.means.shape == (8, 2) and ring.covs.shape == (8, 2, 2)
    np.testing.assert_allclose(np.linalg.norm(ring.means, axis=1), 2.0)
    np.testing.assert_allclose(ring.weights, np.full(8, 1 / 8))
    np.testing.assert_allclose(ring.covs[0], 0.02**2 * np.eye(2))
    grid = target("grid25")
    assert sorted(set(grid.means[:, 0])) == [-4.0, -2.0, 0.0, 2.0, 4.0] and len(grid.means) == 25
    grid3 = make_target(ToyConfig(dist="grid25", n_modes=3, radius=1.5))
    assert sorted(set(grid3.means[:, 1])) == [-1.5, 0.0, 1.5]
    blobs = target("three_blobs")
    ang = np.rad2deg(np.arctan2(blobs.means[:, 1], blobs.means[:, 0])) % 360
    np.testing.assert_allclose(np.sort(ang), [90, 210, 330])
    two = target("two_gaussians")
    np.testing.assert_allclose(two.means, [[-2, 0], [2, 0]])
    # Exact mixture density, written out by hand.
    x = np.array([[0.3, -0.2], [2.0, 0.1]])
    ref = np.log(0.5 * norm.pdf(x[:, 0], -2, 0.5) * norm.pdf(x[:, 1], 0, 0.5)
                 + 0.5 * norm.pdf(x[:, 0], 2, 0.5) * norm.pdf(x[:, 1], 0, 0.5))
    np.testing.assert_allclose(two.log_prob(x), ref, rtol=1e-12)
    assert np.isfinite(ring.log_prob(np.array([[100.0, 0.0]])))[0]


# --------------------------------------------------------------------------- 1D
def test_bimodal1d_and_mixture1d():
    t = target("bimodal1d")
    x = np.linspace(-5, 5, 11)[:, None]
    ref = np.log(0.75 * norm.pdf(x[:, 0], -2, 0.5) + 0.25 * norm.pdf(x[:, 0], 2, 0.5))
    np.testing.assert_allclose(t.log_prob(x), ref, rtol=1e-12)
    s = t.sample(40_000, torch.Generator().manual_seed(0))
    assert s.shape == (40_000, 1) and s.dtype == torch.float32
    assert abs((s[:, 0] < 0).float().mean().item() - 0.75) < 0.01
    formula = "0.2*N(-1,0.3)+0.8*N(2.5,1)"
    m = make_target(ToyConfig(dist="mixture1d", formula=formula))
    np.testing.assert_allclose(m.log_prob(x), parse_mixture(formula).log_prob(x[:, 0]), rtol=1e-12)
    edges = [np.array([-10.0, 0.0, 1.0, 10.0])]
    masses, outside = m.cell_masses(edges)
    def cdf(v):
        return 0.2 * norm.cdf(v, -1, 0.3) + 0.8 * norm.cdf(v, 2.5, 1)

    ref_m = [cdf(0), cdf(1) - cdf(0)]
    np.testing.assert_allclose(masses[:2], ref_m, rtol=1e-10)
    assert outside < 1e-12
    ex = np.linspace(*m.bounds, 2001)
    assert abs(np.exp(m.log_prob((ex[1:] + ex[:-1])[:, None] / 2)).sum() * (ex[1] - ex[0]) - 1) < 1e-6


def test_uniform1d_exact():
    t = target("uniform1d")
    assert t.has_density and t.means is None
    lp = t.log_prob(np.array([[-1.99], [0.0], [2.5]]))
    np.testing.assert_allclose(lp[:2], -math.log(4))
    assert lp[2] == -np.inf
    masses, outside = t.cell_masses([np.array([-3.0, -1.0, 0.0, 1.5])])
    np.testing.assert_allclose(masses, [0.25, 0.25, 0.375])
    assert outside == pytest.approx(0.125)
    s = t.sample(10_000, torch.Generator().manual_seed(0))
    assert s.abs().max() <= 2.0 and abs(s.mean().item()) < 0.05


# --------------------------------------------------------------------------- sampling, custom, errors
@pytest.mark.parametrize("dist", DISTS_2D + list(DISTS_1D))
def test_sampling_is_deterministic_given_the_generator(dist):
    t = target(dist)
    a = t.sample(256, torch.Generator().manual_seed(7))
    b = t.sample(256, torch.Generator().manual_seed(7))
    c = t.sample(256, torch.Generator().manual_seed(8))
    assert a.shape == (256, t.dim) and a.dtype == torch.float32 and a.device.type == "cpu"
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_sampling_is_fast():
    import time

    for dist in ("ring8", "spiral", "bimodal1d"):
        t = target(dist)
        g = torch.Generator().manual_seed(0)
        t.sample(256, g)
        start = time.perf_counter()
        for _ in range(200):
            t.sample(256, g)
        per_call = (time.perf_counter() - start) / 200
        assert per_call < 1e-3, (dist, per_call)       # ~40 us on an idle core; loose for shared machines


def test_custom_target():
    pts = np.array([[0.0, 0.0], [1.0, 2.0], [3.0, -1.0]])
    t = make_target(ToyConfig(dist="custom"), points=pts)
    assert not t.has_density and t.means is None and t.dim == 2
    np.testing.assert_allclose(t.bounds, (-0.3, 3.3, -1.3, 2.3))
    s = t.sample(500, torch.Generator().manual_seed(0)).double().numpy()
    assert {tuple(r) for r in s} == {tuple(r) for r in pts}
    with pytest.raises(PlaygroundError, match="no known density"):
        t.log_prob(pts)
    with pytest.raises(PlaygroundError, match="no known density"):
        t.cell_masses([np.linspace(0, 1, 3)] * 2)
    one_d = make_target(ToyConfig(dist="custom"), points=np.array([[1.0], [2.0]]))
    assert one_d.dim == 1 and one_d.sample(4, torch.Generator()).shape == (4, 1)
    with pytest.raises(PlaygroundError, match="upload"):
        make_target(ToyConfig(dist="custom"))
    with pytest.raises(PlaygroundError, match="no custom points"):
        make_target(ToyConfig(dist="custom"), points=np.zeros((0, 2)))


def test_bad_std_is_a_user_error():
    with pytest.raises(PlaygroundError, match="std must be positive"):
        make_target(ToyConfig(dist="ring8", std=0.0))
    with pytest.raises(PlaygroundError, match="std must be positive"):
        make_target(ToyConfig(dist="spiral", std=0.0))


def test_mixture_table_rows_round_trip_and_bad_rows_are_named():
    from playground.errors import PlaygroundError
    from playground.formula import formula_from_rows, mixture_rows, parse_mixture, pending_rows, same_mixture

    rows = mixture_rows("3*N(-2,0.5)+1*N(2,0.25)")
    assert rows == [{"weight": 0.75, "mean": -2.0, "std": 0.5}, {"weight": 0.25, "mean": 2.0, "std": 0.25}]
    # a blank row added in the table is the same mixture (the page must not apply it, or loop)
    assert same_mixture(mixture_rows(formula_from_rows(rows + [{"weight": None, "mean": None, "std": None}])), rows)
    tiny = mixture_rows("1e-9*N(0,1)+1*N(1234.56789012,1)")  # exact numbers survive an edit elsewhere
    assert same_mixture(mixture_rows(formula_from_rows(tiny)), tiny) and tiny[0]["weight"] > 0
    assert not same_mixture(tiny, rows) and not same_mixture(rows, rows[:1])
    assert pending_rows(rows + [{"weight": 1.0, "mean": None, "std": None}]) == 1 and pending_rows(rows) == 0
    rows.append({"weight": 0.5, "mean": 0.0, "std": 1.0})          # a component added in the table
    rows.append({"weight": None, "mean": None, "std": None})       # a blank row is ignored
    m = parse_mixture(formula_from_rows(rows))
    np.testing.assert_allclose(m.weights, [0.5, 1 / 6, 1 / 3])
    np.testing.assert_allclose(m.means, [-2, 2, 0])
    for bad, words in (([{"weight": 1.0, "mean": 0.0, "std": None}], "incomplete"),
                       ([{"weight": 1.0, "mean": 0.0, "std": -1.0}], "standard deviation"),
                       ([], "at least one")):
        with pytest.raises(PlaygroundError, match=words):
            formula_from_rows(bad)
