"""Autoencoder vs VAE vs PCA: PCA against scikit-learn, the linear autoencoder reaching PCA, the deterministic
autoencoder and its cache, off-data grid images, and the cached reconstruction sweep."""

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA as SkPCA

from playground.data import load_dataset
from playground.vae import compare as C
from playground.vae.config import VAEConfig


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", split="train"), load_dataset("digits", split="test")


def test_pca_matches_scikit_learn(digits):
    train, test = digits
    X, T = train.images.flatten(1).numpy(), test.images.flatten(1).numpy()
    for k in (2, 5):
        ours, sk = C.PCA(k).fit(X), SkPCA(k).fit(X)
        assert np.abs(ours.decode(ours.encode(T)) - sk.inverse_transform(sk.transform(T))).max() < 1e-5
        assert np.allclose(ours.explained_variance, sk.explained_variance_, rtol=1e-5)
        assert np.allclose(np.abs(ours.encode(T)), np.abs(sk.transform(T)), atol=1e-4)   # up to each sign
    imgs = C.component_images(C.PCA(3).fit(X), train.shape)
    assert imgs.shape == (3, 1, 8, 8) and imgs.min() >= 0 and imgs.max() <= 1
    assert np.isclose(np.abs(imgs - 0.5).max(), 0.5)             # each direction scaled to its largest entry


def test_linear_autoencoder_reaches_pca_and_its_subspace(digits):
    X = digits[0].images.flatten(1).numpy()[:400]
    pca = C.PCA(2).fit(X)
    enc, dec = C.linear_autoencoder(X, 2, steps=1200, lr=0.03)
    err_pca = ((pca.decode(pca.encode(X)) - X) ** 2).mean()
    err_lin = ((dec(enc(X)) - X) ** 2).mean()
    assert err_pca - 1e-6 <= err_lin < err_pca * 1.01             # PCA is the optimum, and it is reached
    # the decoder spans the principal plane: compare the two orthogonal projectors
    basis = dec(np.eye(2, dtype=np.float32)) - dec(np.zeros((1, 2), dtype=np.float32))
    q, _ = np.linalg.qr(basis.T)
    assert np.abs(q @ q.T - pca.components.T @ pca.components).max() < 0.05


def test_autoencoder_is_deterministic_trains_and_is_cached(digits, tmp_path):
    train, test = digits
    cfg = VAEConfig(hidden=32, batch_size=64)
    x = train.images[:300]
    untrained = C.train_autoencoder(cfg, x, 2, epochs=0)
    ae = C.autoencoder_2d(cfg, x, epochs=8, root=tmp_path)
    files = list((tmp_path / C.CACHE).glob("ae-*.pt"))
    assert len(files) == 1
    codes1, decode = C.codes_and_decoder("ae", ae, test.images)
    codes2, _ = C.codes_and_decoder("ae", ae, test.images)
    assert np.array_equal(codes1, codes2)
    assert C.mse(decode(codes1), test.images) < 0.8 * C.mse(untrained.decode(untrained.encode(test.images)[0]),
                                                             test.images)
    again = C.autoencoder_2d(cfg, x, epochs=8, root=tmp_path)     # from the cache: the very same weights
    assert all(torch.equal(a, b) for a, b in zip(ae.state_dict().values(), again.state_dict().values()))
    files[0].write_bytes(b"broken")                                # a broken cache file is retrained, not fatal
    assert C.autoencoder_2d(cfg, x, epochs=1, root=tmp_path) is not None


def test_nearest_distance_and_off_data(digits):
    train, test = digits
    ref, q = train.images[:200], test.images[:20]
    brute = np.array([torch.sqrt(((ref.flatten(1) - img.flatten()) ** 2).mean(1)).min().item() for img in q])
    assert np.allclose(C.nearest_distance(q, ref), brute, atol=1e-6)
    mask, thr = C.off_data(test.images, train.images, test.images)
    assert 0.03 <= mask.mean() <= 0.06 and thr > 0                  # the test set itself: its own 5%
    noise = torch.rand((30, *train.shape), generator=torch.Generator().manual_seed(0))
    assert C.off_data(noise, train.images, test.images)[0].all()


def test_grid_codes_order():
    g = C.grid_codes((0.0, 1.0, -2.0, 2.0), 3)
    assert g.shape == (9, 2) and tuple(g[0]) == (0.0, 2.0) and tuple(g[2]) == (1.0, 2.0) and tuple(g[-1]) == (1.0, -2.0)
    assert C.data_box(np.array([[0.0, 0.0], [1.0, 2.0]]), pad=0.5) == (-0.5, 1.5, -1.0, 3.0)


def test_sweep_rows_cached_on_disk(digits, tmp_path, monkeypatch):
    train, test = digits
    cfg = VAEConfig(hidden=16, batch_size=128)
    tr, te = train.images[:256], test.images[:64]
    rows = list(C.cached_sweep(cfg, tr, te, sizes=(2, 3), epochs=1, root=tmp_path))
    assert [r["latent"] for r in rows] == [2, 3] and all(set(r) == {"latent", "pca", "ae", "vae"} for r in rows)
    for r in rows:                                                 # the PCA column, independently
        sk = SkPCA(r["latent"]).fit(tr.flatten(1).numpy())
        rec = sk.inverse_transform(sk.transform(te.flatten(1).numpy())).clip(0, 1)    # images, as the panel's
        assert np.isclose(r["pca"], ((rec - te.flatten(1).numpy()) ** 2).mean(), rtol=1e-5)
    assert rows[1]["pca"] < rows[0]["pca"]

    def no_training(*a, **k):
        raise AssertionError("the sweep should come from the cache")

    monkeypatch.setattr(C, "reconstruction_sweep", no_training)
    assert list(C.cached_sweep(cfg, tr, te, sizes=(2, 3), epochs=1, root=tmp_path)) == rows
    assert C.read_sweep(cfg, (2, 3), 1, len(tr), tmp_path) == rows
    assert C.read_sweep(cfg, (2, 4), 1, len(tr), tmp_path) is None
