"""Inception-style score: closed forms (uniform -> 1, balanced one-hot over k classes -> k), splits, labels."""

import math

import pytest
import torch

from playground.errors import PlaygroundError
from playground.images import inception_score as IS
from playground.images.metrics import ClassifierNet, FeatureExtractor, random_extractor


def test_uniform_predictions_score_one():
    mean, std = IS.inception_score_from_probs(torch.full((200, 10), 0.1))
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("k", [2, 5, 10])
def test_balanced_one_hot_scores_k(k):
    probs = torch.eye(k).repeat(30, 1)                       # each split of 3k rows holds every class equally
    mean, std = IS.inception_score_from_probs(probs, splits=10, seed=None)
    assert mean == pytest.approx(k, rel=1e-12) and std == pytest.approx(0.0, abs=1e-9)


def test_one_class_only_scores_one_and_logits_agree_with_probs():
    assert IS.inception_score_from_probs(torch.eye(4)[[2] * 40])[0] == pytest.approx(1.0)
    logits = torch.randn(100, 7, generator=torch.Generator().manual_seed(0)) * 3
    a = IS.inception_score_from_logits(logits)
    b = IS.inception_score_from_probs(torch.softmax(logits.double(), 1))
    assert a[0] == pytest.approx(b[0], rel=1e-9) and a[1] == pytest.approx(b[1], rel=1e-6)


def test_two_point_closed_form_and_split_statistics():
    """Rows (p, 1-p) and (1-p, p) in equal numbers: p(y) is uniform, so log IS = log 2 - H(p)."""
    p = 0.8
    probs = torch.tensor([[p, 1 - p], [1 - p, p]]).repeat(10, 1)
    h = -(p * math.log(p) + (1 - p) * math.log(1 - p))
    assert IS.inception_score_from_probs(probs, splits=1)[0] == pytest.approx(math.exp(math.log(2) - h))
    # two splits, one of confident one-hot rows (IS 2), one of uniform rows (IS 1): mean 1.5, std 0.5
    mixed = torch.cat([torch.eye(2).repeat(5, 1), torch.full((10, 2), 0.5)])
    mean, std = IS.inception_score_from_probs(mixed, splits=2, seed=None)
    assert (mean, std) == (pytest.approx(1.5), pytest.approx(0.5))


def test_parts_are_shuffled_so_class_sorted_sets_score_k():
    """One-hot rows sorted by class: parts in order would each hold one class (IS 1); shuffled, about k."""
    probs = torch.eye(10).repeat_interleave(100, 0)
    assert IS.inception_score_from_probs(probs, seed=None)[0] == pytest.approx(1.0)
    mean, std = IS.inception_score_from_probs(probs)
    assert 9.0 < mean <= 10.0 and std < 0.6
    assert IS.inception_score_from_probs(probs, seed=3) != IS.inception_score_from_probs(probs, seed=4)


def test_bad_inputs_are_plain_errors():
    with pytest.raises(PlaygroundError):
        IS.inception_score_from_probs(torch.full((5, 3), 0.5))          # rows do not sum to 1
    with pytest.raises(PlaygroundError):
        IS.inception_score_from_logits(torch.zeros(3, 4), splits=10)   # fewer images than splits
    with pytest.raises(PlaygroundError, match="classifier"):
        IS.inception_score(random_extractor(1, 8), torch.rand(20, 1, 8, 8))


def test_score_through_a_classifier_extractor_is_labelled():
    torch.manual_seed(0)
    net = ClassifierNet(1, 28, 10).eval()
    ex = FeatureExtractor("classifier:test-28px-1ch", net, lambda m, x: m.features(x), 64, 0.5, "test")
    images = torch.rand(40, 1, 28, 28)
    out = IS.inception_score(ex, images)
    expect = IS.inception_score_from_logits(net(images).double())
    assert out["is"] == pytest.approx(expect[0]) and 1.0 <= out["is"] <= 10.0
    assert out["is_features"].startswith("classifier:test-28px-1ch") and out["is_splits"] == 10
