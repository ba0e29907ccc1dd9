"""The posterior's fast path: decoder terms contracted with the image equal the model's own log p(x|z), the
grid cache and the two-core split change no number on the shipped 2D models, the cache is really used (a new
image costs only its fine grid and its importance samples), and it forgets when the weights change."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from playground.vae import VAEConfig, build_model
from playground.vae import likelihood as L
from playground.vae import posterior as P

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [ROOT / "pretrained/vae/mnist5k-2d.pt", ROOT / "pretrained/vae/digits-2d.pt"]
needs_shipped = pytest.mark.skipif(not all(p.is_file() for p in SHIPPED),
                                   reason="pretrained VAEs missing: run make pretrained")


@pytest.fixture(scope="module", params=[p.stem for p in SHIPPED])
def shipped(request):
    from playground.data import load_dataset
    from playground.vae.checkpoint import load_checkpoint

    if not all(p.is_file() for p in SHIPPED):
        pytest.skip("pretrained VAEs missing: run make pretrained")
    model, _ = load_checkpoint(ROOT / f"pretrained/vae/{request.param}.pt")
    return model, load_dataset(model.cfg.dataset, **model.cfg.data_kwargs("test"))


def _reference(model, x, z, y=None):
    """log p(x|z) by the model's own log_px (binary_cross_entropy_with_logits / normal_log_prob), float64."""
    zt = torch.as_tensor(z, dtype=L.model_dtype(model))
    with torch.no_grad():
        return model.log_px(x.expand(len(zt), *x.shape[1:]), zt, L.label_tensor(model, y)).double().numpy()


@pytest.mark.parametrize("kw", [{}, {"decoder": "gaussian"}, {"arch": "conv", "decoder": "gaussian"},
                                {"arch": "conv", "conditional": True}])
def test_terms_equal_the_models_log_likelihood(kw):
    torch.manual_seed(0)
    model = build_model(VAEConfig(hidden=32, **kw), (1, 8, 8), num_classes=10).double()
    x = torch.rand(1, 1, 8, 8, dtype=torch.float64)
    z = np.random.default_rng(0).normal(size=(5000, 2)) * 3
    for y in ([None] if not model.num_classes else [0, 7]):
        fast = L.log_likelihood(model, x, z, y)
        assert fast.shape == (5000,) and np.abs(fast - _reference(model, x, z, y)).max() < 1e-9
    if model.num_classes:                                   # the label reaches the decoder
        assert np.abs(L.log_likelihood(model, x, z, 0) - L.log_likelihood(model, x, z, 7)).max() > 1e-3


@needs_shipped
def test_float32_terms_agree_with_log_px_on_the_shipped_models(shipped):
    model, test = shipped
    x, _ = P.test_image(model, test, 3)
    z = np.random.default_rng(1).normal(size=(6000, 2)) * 2
    fast, ref = L.log_likelihood(model, x, z), _reference(model, x, z)
    # both sum hundreds of float32 terms: they agree far below the 1e-3 nats the grid is held to
    assert np.abs(fast - ref).max() < 2e-4 * max(1.0, np.abs(ref).max() / 100)


@needs_shipped
def test_cached_and_parallel_inspect_give_the_uncached_numbers(shipped):
    model, test = shipped
    cache = L.GridCache(model)
    inverted = 1.0 - P.test_image(model, test, 0)[0]             # far from the data: q may reach past [−R, R]²
    images = [P.test_image(model, test, i)[0] for i in range(4)] + [inverted]
    for x in images:
        pg0, plain = P.inspect(model, x, n=60, samples=6000, ks=(1, 10, 100, 1000), scan=48)
        for kw in ({"cache": cache}, {"cache": cache, "parallel": True}, {"parallel": True}):
            pg, rep = P.inspect(model, x, n=60, samples=6000, ks=(1, 10, 100, 1000), scan=48, **kw)
            for key in ("log_px", "elbo", "gap", "elbo_mc"):
                assert rep[key] == pytest.approx(plain[key], abs=1e-9), key
            assert [r["value"] for r in rep["iwae"]] == pytest.approx([r["value"] for r in plain["iwae"]], abs=1e-9)
            assert rep["truncation"] == plain["truncation"]
            np.testing.assert_allclose(pg.log_joint, pg0.log_joint, atol=1e-9)
    assert cache.hits > 0 and cache.misses >= 1


@needs_shipped
def test_a_new_image_costs_only_its_fine_grid_and_its_samples(shipped):
    model, test = shipped
    cache = L.GridCache(model)
    rows = []
    hook = model.decoder.register_forward_hook(lambda m, args, out: rows.append(len(args[0])))
    n, samples, scan = 50, 2000, 32
    try:
        for i in range(30):                                   # earlier images fill the cache
            P.inspect(model, P.test_image(model, test, i)[0], n=n, samples=samples, ks=(1, 100), scan=scan,
                      cache=cache)
        radii, decoded = set(), []
        for i in range(30, 50):                               # new images
            rows.clear()
            _, rep = P.inspect(model, P.test_image(model, test, i)[0], n=n, samples=samples, ks=(1, 100),
                               scan=scan, cache=cache)
            radii.add(rep["truncation"]["radius"])
            decoded.append(sum(rows))
    finally:
        hook.remove()
    # each scan is either found in the cache or decoded once; most new images find both of theirs (the ELBO's
    # Gauss–Hermite nodes are the image's own, like its fine grid and its samples)
    own = n * n + samples + P.GH_NODES ** 2
    assert set(decoded) <= {own + k * scan * scan for k in (0, 1, 2)}
    assert sum(d == own for d in decoded) >= len(decoded) // 2
    for r in radii:                                           # the scans sit on the radius ladder
        k = P.R_STEPS * math.log2(r / P.R_START)
        assert abs(k - round(k)) < 1e-3 or r == P.R_MAX


def test_cache_forgets_when_the_weights_change_and_stays_bounded():
    torch.manual_seed(0)
    model = build_model(VAEConfig(hidden=16), (1, 4, 4))
    cache = L.GridCache(model, max_bytes=2 * 400 * (16 + 1) * 4)    # two 20 x 20 grids of 16 pixels
    x = torch.rand(1, 1, 4, 4)
    xs = ys = np.linspace(-3, 3, 20)
    first = cache.log_lik_grid(x, None, xs, ys)
    assert np.array_equal(cache.log_lik_grid(x, None, xs, ys), first) and cache.hits == 1
    with torch.no_grad():
        model.decoder.net[-1].bias += 1.0                     # an in-place change, as an optimiser step makes
    after = cache.log_lik_grid(x, None, xs, ys)
    X, Y = np.meshgrid(xs, ys, indexing="xy")
    fresh = _reference(model, x, np.stack([X.ravel(), Y.ravel()], 1)).reshape(X.shape)
    assert np.abs(after - first).max() > 1e-2 and np.abs(after - fresh).max() < 1e-4
    for shift in (0.1, 0.2, 0.3):
        cache.log_lik_grid(x, None, xs + shift, ys)
    assert len(cache._grids) == 2 and cache.nbytes() == 2 * 400 * (16 + 1) * 4


def test_radius_ladder():
    assert P._on_ladder(1.0) == P._on_ladder(8.0) == 8.0
    for r in (8.01, 13.2, 20.4, 33.3, 59.0):
        up = P._on_ladder(r)
        assert r <= up < r * 2 ** (1 / P.R_STEPS) + 1e-9
    assert P._on_ladder(1e6) == P.R_MAX


def test_a_model_without_decoder_terms_goes_through_its_own_log_px():
    from playground.vae.linear_gaussian import LinearGaussian

    lg = LinearGaussian.random(q_shift=(0.3, -0.2), q_scale=1.7)
    x = torch.tensor(np.random.default_rng(1).normal(size=(1, 1, 1, 6)))
    _, plain = P.inspect(lg, x, n=80, samples=4000, ks=(1, 100))
    _, fast = P.inspect(lg, x, n=80, samples=4000, ks=(1, 100), cache=L.GridCache(lg), parallel=True)
    assert fast["log_px"] == pytest.approx(lg.log_marginal(x), abs=1e-3)
    assert fast["log_px"] == plain["log_px"] and fast["iwae"] == plain["iwae"]


@needs_shipped
def test_warming_on_the_test_split_leaves_no_scan_to_decode(shipped):
    model, test = shipped
    warm = L.GridCache(model)
    P.warm_scans_behind(model, test.images, test.labels, scan=64, cache=warm).join()
    added = warm.misses
    cold = L.GridCache(model)
    for i in range(0, len(test), max(1, len(test) // 75)):
        x, y = P.test_image(model, test, i)
        a = P.posterior_grid(model, x, y, n=16, scan=64, cache=warm)
        b = P.posterior_grid(model, x, y, n=16, scan=64, cache=cold)
        assert a.log_px == b.log_px and a.truncation == b.truncation
    assert warm.misses == added                               # every scan of these images was warmed
    assert set(cold._grids) <= set(warm._grids) and 0 < len(cold._grids) <= added


def test_warming_a_conditional_model_groups_by_label_and_matches_one_image_contractions():
    torch.manual_seed(0)
    model = build_model(VAEConfig(hidden=16, conditional=True), (1, 6, 6), num_classes=3).eval()
    images, labels = torch.rand(40, 1, 6, 6), torch.arange(40) % 3
    cache = L.GridCache(model)
    assert P.warm_scans(model, images, None, scan=24, cache=cache) == 0      # no labels: nothing to warm
    assert P.warm_scans(model, images, labels, scan=24, cache=cache) >= 3     # one grid per label at least
    before = cache.misses
    for x, y in zip(images, labels.tolist()):
        P.posterior_grid(model, x[None], y, n=16, scan=24, cache=cache)
    assert cache.misses == before
    terms = next(iter(cache._grids.values()))
    many = L.contract_many(model, images[:5], terms)
    one = np.stack([L.contract(model, images[i:i + 1], terms) for i in range(5)], 1)
    np.testing.assert_allclose(many.numpy(), one, atol=1e-5)


@needs_shipped
def test_the_truncation_bound_is_taken_against_the_fine_grids_log_px(shipped):
    """A coarse scan can miss a narrow posterior by tens of nats (mnist5k-2d's test image 680: 39): the bound on
    the mass outside the scanned box divides by the fine grid's p(x), and names the radius actually scanned."""
    model, test = shipped
    index = min(680, len(test) - 1)
    x, y = P.test_image(model, test, index)
    pg = P.posterior_grid(model, x, y, n=100, scan=64)
    t = pg.truncation
    bound = P._log_tail_bound(t["radius"], P.log_lik_sup(model, x), pg.log_px)   # the radius is rounded to 1e-3
    assert t["log_tail_bound"] == pytest.approx(bound, rel=2e-3)
    assert t["error_bound_nats"] < 1e-6
    assert abs(pg.log_px - P.posterior_grid(model, x, y, n=300, scan=64).log_px) < 1e-3
    assert P._on_ladder(t["radius"] - 1e-3) == pytest.approx(t["radius"], abs=1e-3)   # a radius on the ladder
