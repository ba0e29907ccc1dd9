"""The test split's likelihood numbers of a run: pixelcnn's exact NLL, the VAE's ELBO and importance-weighted bound.

Both are in nats per image on the same test split at the run's resolution, binarised when the run trains on
bits (pixelcnn always; a vae with `binarize`), so a pixelcnn's exact -log p(x) and a binarised VAE's bounds on
log p(x) are numbers about the same images: the likelihood-vs-bound lesson with numbers.
"""

from __future__ import annotations

import math

import torch

IWAE_K = 64          # importance samples of the VAE's bound (the VAE lab's test_iwae uses the same)


def test_images(tr) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(images in [0, 1], labels) of the test split at the run's resolution, binarised like the training data.
    A trainer given its images directly (tests, scripts) has no test split: its training images stand in."""
    if getattr(tr, "_test_split", None) is None and tr.dataset_given:
        labels = tr.images.labels.cpu() if tr.images.labels is not None else None
        tr._test_split = (tr.images.reference, labels)
    if getattr(tr, "_test_split", None) is None:
        from playground.data import resize_images
        from playground.images.pixelcnn import binarize
        from playground.images.training_data import load_training_data

        ds = load_training_data(tr.cfg, "test", tr.resolution)
        images = ds.images if ds.images.shape[-1] == tr.resolution else resize_images(ds.images, tr.resolution)
        if tr.cfg.binarized:
            images = binarize(images)
        tr._test_split = (images, ds.labels)
    return tr._test_split


@torch.no_grad()
def test_likelihood(tr, marginal: bool = True) -> dict:
    """{"test_nll_nats", "test_nll_bits_per_dim"} for pixelcnn (a conditional one: -log p(x | y), and the exact
    marginal of its class mixture, with the training split's class frequencies as p(y), as
    "test_marginal_nll_nats"), {"elbo_nats", "iwae_nats", ...} for the vae, {} for models without a likelihood
    (GANs, and the denoisers, whose likelihood this project does not compute on images). The marginal takes
    one pass per class, so runs compute it at their final evaluation only (`marginal`)."""
    cfg = tr.cfg
    if cfg.family == "pixelcnn":
        from playground.images.pixelcnn import likelihood_scores

        images, labels = test_images(tr)
        net = tr.sampler()
        was = net.training
        prior = class_frequencies(tr) if cfg.is_conditional and marginal else None
        out = likelihood_scores(net, images, labels if cfg.is_conditional else None, prior=prior)
        net.train(was)
        return {**out, "likelihood_split": _split_name(tr)}
    if cfg.family == "vae":
        from playground.vae.metrics import evaluate

        images, _ = test_images(tr)
        vae = tr.nets["vae"].vae
        if next(vae.parameters()).device.type != "cpu":     # its importance samples are drawn on the CPU
            import copy

            vae = copy.deepcopy(vae).cpu()
        was = vae.training
        res = evaluate(vae, images, k=IWAE_K, seed=0)
        vae.train(was)
        dims = images[0].numel()
        return {"elbo_nats": res["test_elbo"], "iwae_nats": res["test_iwae"], "iwae_k": IWAE_K,
                "elbo_bits_per_dim": -res["test_elbo"] / (dims * math.log(2.0)),
                "likelihood_split": _split_name(tr)}
    return {}


def class_frequencies(tr) -> torch.Tensor:
    """p(y) of a conditional model: the share of each class among its training images."""
    labels = tr.images.labels.cpu().long()
    return torch.bincount(labels, minlength=int(tr.num_classes)).double() / len(labels)


def given_label(config: dict | None) -> bool:
    """Whether a run's `test_nll_*` is -log p(x | y), given the label: a conditional PixelCNN's (from its
    config, so runs scored before the marginal existed are labelled right too)."""
    config = config or {}
    return config.get("model") == "pixelcnn" and bool(config.get("conditional"))


def _split_name(tr) -> str:
    split = "train (the images given to the trainer)" if tr.dataset_given else f"{tr.cfg.dataset}:test"
    return split + (", binarised" if tr.cfg.binarized else "")


def likelihood_table(runs: list[dict]) -> list[dict]:
    """The likelihood-vs-bound lesson as rows, from run summaries (rundir.list_runs): for each run scored on a
    split, -log p(x) in nats and bits/dim, exact for pixelcnn and upper bounds (-ELBO, -IWAE) for the VAE,
    sorted by split then value. Only numbers on the same split (same images, same binarisation) compare."""
    rows = []
    for r in runs:
        split, dims = r.get("likelihood_split"), _dims(r)
        given = given_label(r.get("config"))
        entries = [("exact -log p(x | y), given the label" if given else "exact -log p(x)", r.get("test_nll_nats")),
                   ("exact -log p(x), its mixture over the labels", r.get("test_marginal_nll_nats")),
                   ("-ELBO (a bound)", _neg(r.get("elbo_nats"))),
                   (f"-IWAE K={IWAE_K} (a tighter bound)", _neg(r.get("iwae_nats")))]
        for what, nats in entries:
            if split and nats is not None:
                rows.append({"split": split, "run": r.get("name"), "model": r.get("model"), "number": what,
                             "nats": round(float(nats), 2),
                             "bits/dim": round(float(nats) / (dims * math.log(2.0)), 4) if dims else None})
    return sorted(rows, key=lambda row: (row["split"], row["nats"]))


def _neg(v):
    return None if v is None else -float(v)


def _dims(summary: dict) -> int | None:
    res, ch = summary.get("resolution"), summary.get("channels")
    return int(res) ** 2 * int(ch) if res and ch else None
