"""FID/KID via torchmetrics against an independent numpy/scipy Fréchet distance; k-NN precision/recall."""

import os
import pickle

import numpy as np
import pytest
import scipy.linalg
import torch

from playground.errors import PlaygroundError
from playground.images.metrics import (
    ClassifierNet,
    FeatureExtractor,
    Scorer,
    fid_from_features,
    kid_from_features,
    load_extractor_file,
    precision_recall,
    random_extractor,
    save_extractor,
    train_classifier,
)
from playground.images.trainer import FORMAT
from playground.images.trainer import load_run_checkpoint as load_checkpoint
from playground.runs.checkpoints import save_checkpoint


def frechet_numpy(a: np.ndarray, b: np.ndarray) -> float:
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def features(n=600, d=8, seed=0, shift=0.0, scale=1.0):
    rng = np.random.default_rng(seed)
    mix = np.random.default_rng(100).normal(size=(d, d)) * 0.3 + np.eye(d)   # one distribution, many draws
    return torch.from_numpy(rng.normal(size=(n, d)) @ mix * scale + shift)


def test_fid_of_a_set_with_itself_is_zero():
    f = features()
    assert fid_from_features(f, f) == pytest.approx(0.0, abs=1e-6)
    assert frechet_numpy(f.numpy(), f.numpy()) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("shift,scale", [(0.5, 1.0), (0.0, 1.5), (2.0, 0.7)])
def test_fid_of_shifted_sets_matches_scipy(shift, scale):
    a, b = features(seed=1), features(seed=2, shift=shift, scale=scale)
    ours = fid_from_features(a, b)
    ref = frechet_numpy(a.numpy(), b.numpy())
    assert ours > 0.1
    assert ours == pytest.approx(ref, rel=1e-5, abs=1e-6)


def test_fid_grows_with_the_shift_and_kid_separates_sets():
    a = features(n=400, seed=1)
    fids = [fid_from_features(a, features(n=400, seed=2, shift=s)) for s in (0.0, 0.5, 1.0, 2.0)]
    assert fids == sorted(fids)
    assert fids[-1] == pytest.approx(8 * 4.0, rel=0.15)          # ||mu||^2 = d * shift^2 dominates
    same, _ = kid_from_features(a, features(n=400, seed=2), subsets=10)
    far = kid_from_features(a, features(n=400, seed=2, shift=1.0), subsets=10)
    assert abs(same) < 0.2 and far[0] > 10 * max(abs(same), 0.05)
    assert far == kid_from_features(a, features(n=400, seed=2, shift=1.0), subsets=10)   # seeded subsets


def _mmd2_unbiased(a: np.ndarray, b: np.ndarray) -> float:
    """KID written out: unbiased MMD² of k(x, y) = (x·y / m + 1)³, m = mean squared norm of the real set a."""
    m = (a ** 2).sum(1).mean()
    k = lambda u, v: (u @ v.T / m + 1.0) ** 3
    kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
    n = len(a)
    return float((kaa.sum() - np.trace(kaa)) / (n * (n - 1)) + (kbb.sum() - np.trace(kbb)) / (n * (n - 1))
                 - 2 * kab.mean())


def test_kid_is_the_unbiased_mmd_of_the_scaled_cubic_kernel_and_scale_free():
    a, b = features(n=300, seed=1, scale=40.0), features(n=300, seed=2, shift=20.0, scale=40.0)  # norms ~ 100
    ours, _ = kid_from_features(a, b, subsets=1)          # one subset of all 300: the full-set estimate
    assert ours == pytest.approx(_mmd2_unbiased(a.numpy(), b.numpy()), rel=1e-6)
    assert kid_from_features(a / 40, b / 40, subsets=1)[0] == pytest.approx(ours, rel=1e-9)
    same, _ = kid_from_features(a, features(n=300, seed=3, scale=40.0), subsets=1)
    assert abs(same) < 0.1 * ours                          # the same distribution: near 0


def test_kid_does_not_touch_the_global_rng():
    torch.manual_seed(3)
    expect = torch.rand(3)
    torch.manual_seed(3)
    kid_from_features(features(n=200, seed=1), features(n=200, seed=2), subsets=5)
    assert torch.equal(torch.rand(3), expect)


def test_precision_recall_on_constructed_cases():
    rng = np.random.default_rng(0)
    real = torch.from_numpy(rng.normal(size=(500, 2)))
    # identical distribution: both close to 1
    p, r = precision_recall(real, torch.from_numpy(rng.normal(size=(500, 2))))
    assert p > 0.85 and r > 0.85
    # far away fakes: nothing is covered either way
    p, r = precision_recall(real, torch.from_numpy(rng.normal(size=(500, 2)) + 50))
    assert p == 0.0 and r == 0.0
    # mode collapse: fakes all near the centre -> high precision, low recall
    p, r = precision_recall(real, torch.from_numpy(rng.normal(size=(500, 2)) * 0.05))
    assert p > 0.95 and r < 0.2
    # fakes cover the data and much more (too spread) -> low precision, high recall
    p, r = precision_recall(real, torch.from_numpy(rng.normal(size=(500, 2)) * 4))
    assert p < 0.35 and r > 0.9
    # exact hand-made case: k=1 balls
    real = torch.tensor([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [11.0, 0.0]])
    fake = torch.tensor([[0.5, 0.0], [5.0, 0.0]])
    p, r = precision_recall(real, fake, k=1)
    assert p == 0.5                 # (0.5, 0) lies in the unit ball of (0, 0); (5, 0) in none
    assert r == 0.5                 # the fakes' 1-NN radius is 4.5: reals 0 and 1 are covered, 10 and 11 not


def test_scorer_labels_scores_with_the_extractor_and_its_accuracy():
    g = torch.Generator().manual_seed(0)
    imgs = torch.rand(300, 1, 8, 8, generator=g)
    ex = random_extractor(1, 8)
    scores = Scorer(ex, imgs).score(imgs)
    assert scores["fid"] == pytest.approx(0.0, abs=1e-6) and scores["fid_features"].startswith("random-cnn")
    ex2 = FeatureExtractor("classifier:x", ex.net, ex.fn, ex.dim, accuracy=0.9)
    s2 = Scorer(ex2, imgs).score(1 - imgs)
    assert s2["fid"] > 0 and s2["fid_features"] == "classifier:x (test acc 0.900)" and s2["feature_accuracy"] == 0.9


def test_reference_features_are_extracted_once_per_extractor_and_images(tmp_path):
    from playground.images import metrics as M

    g = torch.Generator().manual_seed(0)
    imgs = torch.rand(50, 1, 8, 8, generator=g)
    calls = []

    def counted(ex):
        fn = ex.fn
        ex.fn = lambda m, x: calls.append(len(x)) or fn(m, x)
        return ex

    a = counted(random_extractor(1, 8, seed=0))
    first = Scorer(a, imgs).real
    assert Scorer(a, imgs.clone()).real is first and calls == [50]            # same extractor, same bytes
    other = imgs.clone()
    other[0, 0, 0, 0] += 0.5
    Scorer(a, other)
    assert calls == [50, 50]                                                   # one pixel differs: extracted
    b = counted(random_extractor(1, 8, seed=1))
    assert not torch.equal(Scorer(b, imgs).real, first) and calls == [50, 50, 50]   # another seed's features
    plain = lambda m, x: m.features(x)                                        # noqa: E731
    by_hand = counted(FeatureExtractor("random-cnn:seed0-8px-1ch", a.net, plain, a.dim))   # same name, no source
    Scorer(by_hand, imgs), Scorer(by_hand, imgs)
    assert len(calls) == 5                                                     # never cached
    net, acc = ClassifierNet(1, 8, 2), 0.5
    save_extractor(tmp_path / "f.pt", net, acc, "toy-8px-1ch")
    filed = counted(FeatureExtractor("classifier:toy", net, plain, a.dim, acc, str(tmp_path / "f.pt")))
    Scorer(filed, imgs), Scorer(filed, imgs)
    assert len(calls) == 6
    save_extractor(tmp_path / "f.pt", ClassifierNet(1, 8, 2), acc, "toy-8px-1ch")   # new weights, same path
    st = (tmp_path / "f.pt").stat()
    os.utime(tmp_path / "f.pt", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    Scorer(filed, imgs)
    assert len(calls) == 7 and len(M._REFERENCE_FEATURES) <= M.REFERENCE_CACHE_SIZE


def test_classifier_learns_and_its_file_round_trips(tmp_path):
    g = torch.Generator().manual_seed(0)
    # two classes: bright top half vs bright bottom half, with noise
    n = 120
    y = torch.arange(n) % 2
    x = torch.rand(n, 1, 8, 8, generator=g) * 0.3
    x[y == 0, :, :4] += 0.7
    x[y == 1, :, 4:] += 0.7
    net, acc = train_classifier(x[:90], y[:90], x[90:], y[90:], 2, steps=60)
    assert acc > 0.95
    sha = save_extractor(tmp_path / "f.pt", net, acc, "toy-8px-1ch")
    assert len(sha) == 64
    net2, acc2, key = load_extractor_file(tmp_path / "f.pt")
    assert acc2 == acc and key == "toy-8px-1ch"
    assert torch.equal(net2.features(x[:5]), net.features(x[:5]))


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_untrusted_checkpoint_is_rejected(tmp_path, capsys):
    bad = tmp_path / "latest.pt"
    torch.save({"format": "playground.images/1", "payload": Evil()}, bad)
    with pytest.raises(PlaygroundError, match="not a trusted checkpoint"):
        load_checkpoint(bad)
    with pytest.raises(PlaygroundError, match="not a feature-extractor file"):
        load_extractor_file(bad)
    assert "pwned" not in capsys.readouterr().out       # nothing was executed
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(PlaygroundError):
        load_checkpoint(raw)
    garbage = tmp_path / "g.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(PlaygroundError, match="not a trusted checkpoint"):
        load_checkpoint(garbage)
    foreign = tmp_path / "f.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(PlaygroundError, match="not a checkpoint of an image run"):
        load_checkpoint(foreign)
    good = tmp_path / "ok.pt"
    save_checkpoint(good, {"step": 3, "w": torch.ones(2)}, FORMAT)
    assert load_checkpoint(good)["step"] == 3


def test_classifier_net_shapes():
    for res in (8, 16, 32, 64):
        net = ClassifierNet(3, res, 5)
        assert net(torch.zeros(2, 3, res, res)).shape == (2, 5)
        assert net.features(torch.zeros(2, 3, res, res)).shape == (2, 64)
