"""The flow literature's toy targets: FFJORD's definitions re-implemented independently here (numpy, as in
FFJORD's toy_data.py) against our samplers and exact densities, the picture target, and the torch densities
that training by reverse KL uses."""

import io
import math

import numpy as np
import pytest
import torch
from scipy.stats import chi2

from playground.errors import PlaygroundError
from playground.toy.config import TARGET_DEFAULTS, ToyConfig
from playground.toy.targets import make_target

NEW = ["gaussians8_ffjord", "rings", "two_spirals", "pinwheel", "checkerboard", "image"]
_CACHE: dict = {}


def target(dist, **kw):
    key = (dist, tuple(sorted(kw.items())))
    if key not in _CACHE:
        _CACHE[key] = make_target(ToyConfig(dist=dist, **kw))
    return _CACHE[key]


# ------------------------------------------------------------------ FFJORD's generators, written out in numpy
def ffjord(name, n, rng):
    if name == "gaussians8_ffjord":
        c = [(1, 0), (-1, 0), (0, 1), (0, -1), (1 / math.sqrt(2), 1 / math.sqrt(2)),
             (1 / math.sqrt(2), -1 / math.sqrt(2)), (-1 / math.sqrt(2), 1 / math.sqrt(2)),
             (-1 / math.sqrt(2), -1 / math.sqrt(2))]
        c = 4.0 * np.array(c)
        return (rng.standard_normal((n, 2)) * 0.5 + c[rng.integers(8, size=n)]) / 1.414
    if name == "rings":
        r = np.array([1.0, 0.75, 0.5, 0.25])[rng.integers(4, size=n)] * 3.0
        a = rng.uniform(0, 2 * np.pi, n)
        return np.stack([r * np.cos(a), r * np.sin(a)], 1) + rng.normal(scale=0.08, size=(n, 2))
    if name == "two_spirals":
        m = n // 2
        t = np.sqrt(rng.random((m, 1))) * 540 * (2 * np.pi) / 360
        d1x = -np.cos(t) * t + rng.random((m, 1)) * 0.5
        d1y = np.sin(t) * t + rng.random((m, 1)) * 0.5
        x = np.vstack((np.hstack((d1x, d1y)), np.hstack((-d1x, -d1y)))) / 3
        return x + rng.standard_normal(x.shape) * 0.1
    if name == "pinwheel":
        rads = np.linspace(0, 2 * np.pi, 5, endpoint=False)
        f = rng.standard_normal((n, 2)) * np.array([0.3, 0.1])
        f[:, 0] += 1.0
        ang = rads[rng.integers(5, size=n)] + 0.25 * np.exp(f[:, 0])
        rot = np.stack([np.cos(ang), -np.sin(ang), np.sin(ang), np.cos(ang)]).T.reshape(-1, 2, 2)
        return 2 * np.einsum("ti,tij->tj", f, rot)
    if name == "checkerboard":           # FFJORD's is sharp; ours adds N(0, std^2) (default 0.05) on top
        x1 = rng.random(n) * 4 - 2
        x2 = rng.random(n) - rng.integers(0, 2, n) * 2 + np.floor(x1) % 2
        return np.stack([x1, x2], 1) * 2 + rng.normal(scale=0.05, size=(n, 2))
    raise KeyError(name)


def chi_square_p(t, x, bins=16):
    """p-value of Pearson's chi-square test of samples x against the target's exact cell masses."""
    b = t.bounds
    edges = [np.linspace(b[0], b[1], bins + 1), np.linspace(b[2], b[3], bins + 1)]
    masses, outside = t.cell_masses(edges)
    counts, _, _ = np.histogram2d(x[:, 0], x[:, 1], bins=edges)
    p = np.append(masses.ravel(), outside)
    obs = np.append(counts.ravel(), len(x) - counts.sum())
    keep = p * len(x) > 5                           # pool the nearly empty cells into one
    p = np.append(p[keep], p[~keep].sum())
    obs = np.append(obs[keep], obs[~keep].sum())
    stat = ((obs - len(x) * p) ** 2 / (len(x) * p)).sum()
    return chi2.sf(stat, len(p) - 1)


@pytest.mark.parametrize("dist", ["gaussians8_ffjord", "rings", "two_spirals", "pinwheel", "checkerboard"])
def test_ffjord_generators_match_our_densities(dist):
    """FFJORD's own recipe and our sampler both pass a chi-square test against our exact cell masses."""
    t = target(dist)
    ours = t.sample(60_000, torch.Generator().manual_seed(0)).double().numpy()
    theirs = ffjord(dist, 60_000, np.random.default_rng(0))
    assert chi_square_p(t, ours) > 1e-3
    assert chi_square_p(t, theirs) > 1e-3
    lp = t.log_prob(theirs[:3000])
    assert np.all(np.isfinite(lp))
    # Sanity of the chi-square test: the same samples shifted by a fifth of a std fail it.
    assert chi_square_p(t, theirs + 0.3 * max(t.std if hasattr(t, "std") else 0.35, 0.05)) < 1e-6


def test_gaussians8_is_ffjords_not_ring8():
    t, ring = target("gaussians8_ffjord"), target("ring8")
    np.testing.assert_allclose(np.linalg.norm(t.means, axis=1), 4 / 1.414)
    np.testing.assert_allclose(np.sqrt(t.covs[:, 0, 0]), 0.5 / 1.414)
    ang = np.sort(np.rad2deg(np.arctan2(t.means[:, 1], t.means[:, 0])) % 360)
    np.testing.assert_allclose(ang, np.arange(8) * 45.0, atol=1e-9)
    assert ring.covs[0, 0, 0] != t.covs[0, 0, 0]


def test_rings_is_the_mean_of_circles():
    t = target("rings")
    circles = [make_target(ToyConfig(dist="circle", radius=r, std=0.08)) for r in (0.75, 1.5, 2.25, 3.0)]
    x = np.random.default_rng(1).uniform(-4, 4, (500, 2))
    ref = np.log(np.mean([np.exp(c.log_prob(x)) for c in circles], axis=0))
    np.testing.assert_allclose(t.log_prob(x), ref, rtol=1e-10)


def test_two_spirals_density_against_an_independent_quadrature_in_the_angle():
    """p(x) = 1/2 sum over both arms of int_0^{3 pi} (2n / (3 pi)^2) k(x - c(n)) dn by a fine midpoint rule in n,
    with k the jitter box [0, 1/6]^2 blurred by N(0, 0.1^2) written out with ndtr."""
    from scipy.special import ndtr

    t = target("two_spirals")
    x = t.sample(50, torch.Generator().manual_seed(2)).double().numpy()
    x = np.concatenate([x, x + 0.12, [[0.3, 0.1], [0.05, 0.0]]])     # on, beside the arms, and at the start
    m = 30_000
    n = (np.arange(m) + 0.5) / m * 3 * math.pi
    w = 2 * n / (3 * math.pi) ** 2 * (3 * math.pi / m)
    cx, cy = -n * np.cos(n) / 3, n * np.sin(n) / 3

    def k1(z):
        return (ndtr(z / 0.1) - ndtr((z - 0.5 / 3) / 0.1)) / (0.5 / 3)

    ref = np.array([0.5 * (w * (k1(a - cx) * k1(b - cy) + k1(-a - cx) * k1(-b - cy))).sum() for a, b in x])
    np.testing.assert_allclose(t.log_prob(x), np.log(ref), atol=1e-6)
    assert np.isfinite(t.log_prob(np.array([[9.0, -9.0]])))[0]         # far away: the log-domain fallback


def test_pinwheel_density_against_smoothed_integral_over_the_noise():
    """Independent of the root finding: p_eps(x) = E_f[N(x; T(f), eps^2 I)] on a fine grid of f is the density of
    X + eps noise, p + O(eps^2); Richardson in eps (eps and 2 eps) removes the eps^2 term."""
    t = target("pinwheel")
    g = np.linspace(-7, 7, 1401)                               # f in std units, 0.01 std apart
    f0, f1 = np.meshgrid(1 + 0.3 * g, 0.1 * g, indexing="ij")
    f0, f1 = f0.ravel(), f1.ravel()
    wf = np.exp(-0.5 * (g[:, None] ** 2 + g[None, :] ** 2)).ravel()
    wf /= wf.sum()
    pts = t.sample(4, torch.Generator().manual_seed(3)).double().numpy()
    pts = np.concatenate([pts, pts[:2] + 0.1])
    eps = np.array([0.015, 0.03])
    dens = np.zeros((len(pts), 2))
    for k in range(5):
        a = 2 * np.pi * k / 5 + 0.25 * np.exp(f0)
        tx, ty = 2 * (np.cos(a) * f0 + np.sin(a) * f1), 2 * (np.cos(a) * f1 - np.sin(a) * f0)
        for i, (px, py) in enumerate(pts):
            near = (np.abs(tx - px) < 0.25) & (np.abs(ty - py) < 0.25)
            d2 = (tx[near] - px) ** 2 + (ty[near] - py) ** 2
            dens[i] += (wf[near, None] * np.exp(-d2[:, None] / (2 * eps**2))).sum(0) / (2 * np.pi * eps**2) / 5
    ref = (4 * dens[:, 0] - dens[:, 1]) / 3
    np.testing.assert_allclose(np.exp(t.log_prob(pts)), ref, rtol=0.01)


def test_new_targets_have_the_issue_names_and_shape_parameters():
    for d in NEW:
        assert d in TARGET_DEFAULTS
        t = target(d)
        assert t.dim == 2 and t.has_density
    assert target("rings", n_modes=2).radii == [1.5, 3.0]
    assert len(target("pinwheel", n_modes=3)._rads) == 3
    board = target("checkerboard", n_modes=2, radius=1.0)
    np.testing.assert_allclose(board.pixel_weights, [[0.5, 0.0], [0.0, 0.5]])


def test_checkerboard_levels():
    t = target("checkerboard")
    # Centres of filled squares: 1/32 (8 squares of area 4); of empty ones: essentially 0 (20 std away).
    lp = t.log_prob(np.array([[-3.0, -3.0], [1.0, 1.0], [-1.0, 1.0], [-3.0, -1.0]]))
    np.testing.assert_allclose(np.exp(lp[:2]), 1 / 32, rtol=1e-9)
    assert np.all(np.exp(lp[2:]) < 1e-85) and np.all(np.isfinite(lp))


# ------------------------------------------------------------------ pictures
def png(arr, mode="L"):
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr, mode=mode).save(buf, format="PNG")
    return buf.getvalue()


def test_picture_from_bytes_is_its_darkness():
    img = np.full((32, 64), 255, np.uint8)
    img[:, 32:] = 0                                            # right half black: a 2:1 picture
    t = make_target(ToyConfig(dist="image", std=0.02), image=png(img))
    # Fitted into the 64x64 square with white padding: black on x in [0, 3], y in [-1.5, 1.5] (area 9).
    lp = t.log_prob(np.array([[1.5, 0.0], [-1.5, 0.0], [1.5, 2.5]]))
    np.testing.assert_allclose(np.exp(lp[0]), 1 / 9, rtol=1e-6)
    assert np.exp(lp[1]) < 1e-100 and np.exp(lp[2]) < 1e-100
    s = t.sample(5000, torch.Generator().manual_seed(0)).numpy()
    assert (s[:, 0] > -0.1).all() and (np.abs(s[:, 1]) < 1.6).all()
    # Transparent pixels count as white, whatever their colour channels say.
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[4:8, 4:8, 3] = 255                                    # an opaque black square, the rest transparent
    tp = make_target(ToyConfig(dist="image"), image=png(rgba, "RGBA"))
    heavy = tp.pixel_weights > 0                               # the square: 16 x 16 of the 64 x 64 pixels
    assert heavy.sum() == 256 and np.allclose(tp.pixel_weights[heavy], 1 / 256)


def test_picture_errors_are_user_errors():
    with pytest.raises(PlaygroundError, match="not a readable image"):
        make_target(ToyConfig(dist="image"), image=b"not an image at all")
    with pytest.raises(PlaygroundError, match="no dark pixels"):
        make_target(ToyConfig(dist="image"), image=png(np.full((8, 8), 255, np.uint8)))
    with pytest.raises(PlaygroundError, match="limit"):
        make_target(ToyConfig(dist="image"), image=b"\x89PNG" + bytes(30_000_000))


def test_default_picture_works_without_upload():
    t = target("image")
    assert t.pixel_weights.shape == (64, 64) and (t.pixel_weights > 0).sum() > 200
    xmin, xmax, ymin, ymax = t.bounds
    h = 0.05
    gx, gy = np.meshgrid(np.arange(xmin, xmax, h) + h / 2, np.arange(ymin, ymax, h) + h / 2)
    total = np.exp(t.log_prob(np.stack([gx.ravel(), gy.ravel()], 1))).sum() * h * h
    assert abs(total - 1) < 1e-3


# ------------------------------------------------------------------ torch densities (reverse KL)
DIFFERENTIABLE = ["ring8", "grid25", "three_blobs", "line", "circle", "two_moons", "spiral", "bimodal1d",
                  "gaussians8_ffjord", "rings", "two_spirals", "pinwheel", "checkerboard", "image"]


@pytest.mark.parametrize("dist", DIFFERENTIABLE)
def test_torch_density_matches_numpy_and_its_gradient_finite_differences(dist):
    t = target(dist)
    x = t.sample(64, torch.Generator().manual_seed(5)).double()
    x = torch.cat([x, x * 1.1 + 0.05])
    np.testing.assert_allclose(t.log_prob_torch(x).detach().numpy(), t.log_prob(x.numpy()), rtol=1e-9, atol=1e-9)
    xr = x[:6].clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(t.log_prob_torch(xr).sum(), xr)
    h = 1e-5
    for i in range(t.dim):
        e = torch.zeros_like(x[:6])
        e[:, i] = h
        fd = (t.log_prob_torch(x[:6] + e) - t.log_prob_torch(x[:6] - e)) / (2 * h)
        np.testing.assert_allclose(grad[:, i].numpy(), fd.numpy(), rtol=1e-4, atol=1e-4)
    assert t.log_prob_torch(x.float()).dtype == torch.float32


@pytest.mark.parametrize("dist", ["uniform1d", "custom"])
def test_targets_without_a_smooth_density_refuse_reverse_kl(dist):
    t = make_target(ToyConfig(dist=dist), points=np.zeros((3, 2)))
    with pytest.raises(PlaygroundError, match="reverse KL"):
        t.log_prob_torch(torch.zeros(2, t.dim))


@pytest.mark.parametrize("dist", DIFFERENTIABLE)
def test_torch_density_far_from_the_target_is_finite_with_a_gradient_towards_it(dist):
    t = target(dist)
    far = torch.tensor([[30.0, -20.0], [-12.0, 9.0]], dtype=torch.float64)[:, :t.dim].requires_grad_(True)
    lp = t.log_prob_torch(far)
    (grad,) = torch.autograd.grad(lp.sum(), far)
    assert torch.all(torch.isfinite(lp)) and torch.all(torch.isfinite(grad))
    assert torch.all((grad * far).sum(dim=1) < 0)            # uphill points back towards the origin
