"""Per-class scores of a class-conditional model: does asking for class y give images of class y, and how good?

For each class y the model draws n images with label y; they are scored against the real images of class y
(FID, KID in the dataset classifier's features) and classified by that classifier: `class_accuracy` is the
fraction classified as y (chance is 1/K; real test images of class y score about the classifier's accuracy).
A model that ignores its label scores near 1/K however sharp its images are, which FID alone would not show.
"""

from __future__ import annotations

import torch

from playground.errors import PlaygroundError
from playground.images.inception_score import classifier_logits
from playground.images.metrics import fid_from_features, kid_from_features


def per_class_scores(gen, real_images: torch.Tensor, real_labels: torch.Tensor, extractor, n: int = 100,
                     seed: int = 0) -> dict:
    """{"per_class": [{"class", "class_accuracy", "fid", "kid", "n_real", "n_fake"}, ...], "class_accuracy": mean,
    "fid_mean": mean FID} for a conditional `gen` (a sampling.LoadedModel, or anything with cfg, num_classes and
    sample(n, seed, labels)); class y's images come from seed + y."""
    if not gen.num_classes:
        raise PlaygroundError("per-class scores need a class-conditional model (cgan, or conditional pixelcnn, "
                              "diffusion, flow_matching)")
    if n < 2:
        raise PlaygroundError("per-class scores need at least 2 images per class")
    real_feats = extractor(real_images)
    rows = []
    for y in range(int(gen.num_classes)):
        mine = real_labels == y
        if int(mine.sum()) < 2:
            continue
        fake = gen.sample(n, seed + y, torch.full((n,), y, dtype=torch.long))
        fake_feats = extractor(fake)
        predicted = classifier_logits(extractor, fake).argmax(1)
        kid, _ = kid_from_features(real_feats[mine], fake_feats, subsets=20, seed=seed)
        rows.append({"class": y, "class_accuracy": float((predicted == y).double().mean()),
                     "fid": fid_from_features(real_feats[mine], fake_feats), "kid": kid,
                     "n_real": int(mine.sum()), "n_fake": n})
    if not rows:
        raise PlaygroundError("the reference images have fewer than 2 images of every class")
    return {"per_class": rows, "class_accuracy": sum(r["class_accuracy"] for r in rows) / len(rows),
            "fid_mean": sum(r["fid"] for r in rows) / len(rows), "per_class_features": extractor.label}
