"""Memorisation check: a 'model' that returns copies of training images is caught; real test images are not."""

import pytest
import torch

from playground.data import load_dataset
from playground.errors import PlaygroundError
from playground.images.memorisation import distance_summary, memorisation_check, nearest
from playground.images.metrics import make_extractor


def test_nearest_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    q, r = torch.randn(7, 1, 3, 3, generator=g), torch.randn(40, 1, 3, 3, generator=g)
    d, ix = nearest(q, r, k=3, chunk=2)
    for i in range(7):
        all_d = [float(((q[i] - r[j]) ** 2).sum().sqrt()) for j in range(40)]
        order = sorted(range(40), key=all_d.__getitem__)[:3]
        assert ix[i].tolist() == order
        assert torch.allclose(d[i], torch.tensor([all_d[j] for j in order], dtype=torch.float64), atol=1e-9)
    with pytest.raises(PlaygroundError):
        nearest(q, torch.randn(4, 1, 2, 2), 1)


def test_summary_on_known_numbers():
    s = distance_summary(torch.tensor([1.0, 2.0, 3.0]), torch.arange(1.0, 101.0))
    assert s["sample_median"] == 2.0 and s["test_median"] == 50.5
    assert s["share_below_test_q05"] == pytest.approx(1.0)        # all three are below q05 = 5.95


def test_copying_model_caught_and_test_images_not():
    tr, te = load_dataset("digits", "train"), load_dataset("digits", "test")
    ex = make_extractor("classifier", "digits", 8, 1)
    copies = tr.images[torch.arange(0, 200, 2)]
    m = memorisation_check(copies, te.images, tr.images, ex, k=2)
    assert len(m) == 2
    for space in m.values():
        assert space["sample_d"].max() < 1e-4          # float32 features round
        assert space["test_d"].median() > 0.1
        assert space["summary"]["share_below_test_q05"] == 1.0
    assert m["pixels"]["neighbours"][:, 0].tolist() == list(range(0, 200, 2))
    fresh = memorisation_check(te.images[:150], te.images[150:], tr.images)
    assert 0.5 < fresh["pixels"]["summary"]["ratio"] < 2.0       # unseen images look like other unseen images
    assert fresh["pixels"]["summary"]["share_below_test_q05"] < 0.2
