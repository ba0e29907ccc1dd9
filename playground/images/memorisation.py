"""Memorisation check: each generated sample's nearest training images (in pixels and in features), and the
sample-to-train nearest distances against the test-to-train ones.

A model that copies its training set puts its samples much closer to training images than unseen test images
are; a model that generalises gives two overlapping distributions.
"""

from __future__ import annotations

import torch

from playground.errors import PlaygroundError


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(len(x), -1).double()


def nearest(queries: torch.Tensor, reference: torch.Tensor, k: int = 1, chunk: int = 1024
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Euclidean distances (Q, k) and indices (Q, k) of each query's k nearest rows of `reference`, closest first.
    Images are flattened to vectors first."""
    q, r = _flat(queries), _flat(reference)
    if q.shape[1] != r.shape[1]:
        raise PlaygroundError(f"samples ({tuple(queries.shape[1:])}) and training images "
                              f"({tuple(reference.shape[1:])}) differ in shape")
    if not 1 <= k <= len(r):
        raise PlaygroundError(f"k must be between 1 and {len(r)}, got {k}")
    ds, ix = [], []
    for i in range(0, len(q), chunk):
        d, j = torch.cdist(q[i:i + chunk], r).topk(k, dim=1, largest=False)
        ds.append(d)
        ix.append(j)
    return torch.cat(ds), torch.cat(ix)


def distance_summary(sample_d: torch.Tensor, test_d: torch.Tensor) -> dict:
    """Median nearest distances, their ratio, and the share of samples closer to the training set than the 5%
    closest test images (about 0.05 for a model that does not copy; near 1 for one that does)."""
    s, t = sample_d.double(), test_d.double()
    t5 = float(torch.quantile(t, 0.05))
    med_s, med_t = float(torch.quantile(s, 0.5)), float(torch.quantile(t, 0.5))   # midpoint for even counts
    return {"sample_median": med_s, "test_median": med_t, "ratio": med_s / med_t if med_t > 0 else float("inf"),
            "test_q05": t5, "share_below_test_q05": float((s < t5).double().mean())}


def memorisation_check(samples: torch.Tensor, test_images: torch.Tensor, train_images: torch.Tensor,
                       extractor=None, k: int = 3) -> dict:
    """For pixels (and features, when an extractor is given): each sample's k nearest training images
    (`neighbours` (S, k) indices, `neighbour_d`), each sample's and each test image's nearest training distance
    (`sample_d`, `test_d`), and their `summary`."""
    if len(samples) == 0 or len(test_images) == 0:
        raise PlaygroundError("need samples and test images to compare")
    spaces = {"pixels": (samples, test_images, train_images)}
    if extractor is not None:
        spaces[f"features ({extractor.label})"] = (extractor(samples), extractor(test_images),
                                                   extractor(train_images))
    out = {}
    for name, (s, te, tr) in spaces.items():
        d, ix = nearest(s, tr, k)
        td, _ = nearest(te, tr, 1)
        out[name] = {"neighbours": ix, "neighbour_d": d, "sample_d": d[:, 0], "test_d": td[:, 0],
                     "summary": distance_summary(d[:, 0], td[:, 0])}
    return out
