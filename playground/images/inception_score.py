"""Inception-style score in a dataset classifier's features: IS = exp(E_x KL(p(y|x) || p(y))).

p(y|x) is the softmax of the project's feature classifier for the dataset (pretrained/features), not of
Inception-v3, so the number is labelled with the classifier it came from (`is_features`, like `fid_features`)
and is comparable only with scores in the same classifier. It lies between 1 (every image gets the same class
distribution) and the number of classes (each image is confidently one class and the classes are used equally).
As usual (Salimans et al. 2016) the samples are cut into `splits` parts; the score is the mean and standard
deviation of the parts' IS. The parts are drawn by a seeded shuffle, not cut in order: a set sorted by class
(real images often are) would otherwise put one class in each part and score near 1.
"""

from __future__ import annotations

import math

import torch

from playground.errors import PlaygroundError

DEFAULT_SPLITS = 10


def _log_is(log_p: torch.Tensor) -> float:
    """log IS of one part: E_x KL(p(y|x) || p(y)) with p(y) the part's mean of p(y|x), in the log domain."""
    log_marginal = torch.logsumexp(log_p, 0) - math.log(len(log_p))
    terms = log_p.exp() * (log_p - log_marginal)
    kl = torch.where(torch.isneginf(log_p), torch.zeros_like(terms), terms).sum(1)   # 0 log 0 = 0
    return float(kl.mean())


def inception_score_from_log_probs(log_p: torch.Tensor, splits: int = DEFAULT_SPLITS, seed: int | None = 0
                                   ) -> tuple[float, float]:
    """(mean, std) of IS over `splits` parts of log p(y|x), a (N, K) tensor of log probabilities; the rows are
    shuffled with `seed` first (None: parts in the given order)."""
    if log_p.ndim != 2 or len(log_p) < 1:
        raise PlaygroundError(f"inception score needs (N, classes) probabilities, got shape {tuple(log_p.shape)}")
    splits = int(splits)
    if not 1 <= splits <= len(log_p):
        raise PlaygroundError(f"inception score: {splits} splits need at least {splits} images, got {len(log_p)}")
    log_p = log_p.detach().double()
    if seed is not None:
        log_p = log_p[torch.randperm(len(log_p), generator=torch.Generator().manual_seed(seed))]
    parts = [math.exp(_log_is(part)) for part in torch.tensor_split(log_p, splits)]
    mean = sum(parts) / len(parts)
    std = math.sqrt(sum((v - mean) ** 2 for v in parts) / len(parts))
    return mean, std


def inception_score_from_logits(logits: torch.Tensor, splits: int = DEFAULT_SPLITS, seed: int | None = 0
                                ) -> tuple[float, float]:
    return inception_score_from_log_probs(torch.log_softmax(logits.double(), 1), splits, seed)


def inception_score_from_probs(probs: torch.Tensor, splits: int = DEFAULT_SPLITS, seed: int | None = 0
                               ) -> tuple[float, float]:
    """From probabilities (rows summing to 1); zeros are fine (their log is -inf and contributes nothing)."""
    probs = probs.double()
    if (probs < 0).any() or not torch.allclose(probs.sum(1), torch.ones(len(probs), dtype=probs.dtype),
                                               atol=1e-6):
        raise PlaygroundError("inception score: each row of probabilities must be non-negative and sum to 1")
    return inception_score_from_log_probs(probs.log(), splits, seed)


@torch.no_grad()
def classifier_logits(extractor, images: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """The dataset classifier's logits for images in [0, 1]; only a `classifier:` extractor has a class head
    that means anything (a random CNN's head is untrained, Inception's was removed)."""
    if not str(extractor.name).startswith("classifier:"):
        raise PlaygroundError(f"the inception-style score needs the dataset's classifier; {extractor.name} has no "
                              "trained class head (use --features classifier on a labelled dataset)")
    net = extractor.net
    dev = next(net.parameters()).device
    return torch.cat([net(images[i:i + batch].to(dev, torch.float32)).double().cpu()
                      for i in range(0, len(images), batch)])


def inception_score(extractor, images: torch.Tensor, splits: int = DEFAULT_SPLITS, seed: int = 0) -> dict:
    """{"is", "is_std", "is_splits", "is_features"} for `images` in the extractor's classifier."""
    mean, std = inception_score_from_logits(classifier_logits(extractor, images), min(splits, len(images)), seed)
    return {"is": mean, "is_std": std, "is_splits": min(splits, len(images)),
            "is_features": f"{extractor.label} softmax"}
