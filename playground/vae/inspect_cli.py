"""`python -m playground vae encode|posterior|amortise|gradients|aggregate|compare|outlier`: the VAE pages'
questions about one image or one latent space (the Encode view, the inference page's views), without a browser."""

from __future__ import annotations

import argparse
import math
import time

from playground.cli import output_flags
from playground.configs import add_arguments, from_args
from playground.errors import PlaygroundError
from playground.userfiles import read_bounded
from playground.vae.cli import _checkpoint_flags, _splits, _threads

MAX_IMAGE = 20_000_000
INVERT = {"auto": None, "yes": True, "no": False}     # --invert: upload_pick's invert


def _model_2d(args: argparse.Namespace):
    from playground.vae.checkpoint import load_checkpoint
    from playground.vae.posterior import check_2d

    _threads(args.threads)
    model, _ = load_checkpoint(args.checkpoint, sha256=args.sha256)
    check_2d(model)
    return model


def encode_command(args: argparse.Namespace) -> int:
    """The VAE lab's Encode view: q(z|x)'s mean and standard deviation for one test image or picture; --out
    writes the image beside its reconstruction (and, for a Gaussian decoder, its per-pixel σ scaled to white)."""
    import torch

    from playground.cli import emit
    from playground.vae.checkpoint import load_checkpoint
    from playground.vae.latent import decode, decode_std, encode

    _threads(args.threads)
    model, _ = load_checkpoint(args.checkpoint, sha256=args.sha256)
    if args.label is not None and model.num_classes and not 0 <= args.label < model.num_classes:
        raise PlaygroundError(f"--label must be in 0..{model.num_classes - 1}")
    x, y = _image(model, args)
    mu, sd = encode(model, x, y)
    recon = decode(model, mu, y)
    out = {"source": f"image {args.image}" if args.image else f"test image {_inspector(args).index}", "label": y,
           "mean": mu[0].tolist(), "std": sd[0].tolist(),
           "reconstruction_mse": float((recon.double() - x.double()).pow(2).mean())}
    if args.out:
        from torchvision.utils import save_image

        tiles = [x, recon]
        sigma = decode_std(model, mu, y)
        if sigma is not None:
            out["decoder_std_max"] = float(sigma.max())
            tiles.append(sigma / sigma.max())
        images = torch.cat(tiles).repeat_interleave(args.scale, 2).repeat_interleave(args.scale, 3)
        save_image(images, args.out, nrow=len(tiles), padding=1, pad_value=0.3)
        out["out"] = str(args.out)
    emit(out, args.json)
    return 0


def _inspector(args: argparse.Namespace):
    """The InspectorConfig of the flags given (--index, --grid): the inference page's fields and bounds."""
    from playground.vae.inspector import InspectorConfig

    return from_args(InspectorConfig, args)


def _image(model, args: argparse.Namespace):
    """(x, y) of --image (a user's file: bounded, read and inverted as the page reads an upload; class 0 for a
    conditional model) or of test image --index."""
    from playground.vae.inspector import test_pick, upload_pick

    if args.image:
        data = read_bounded(args.image, MAX_IMAGE, f"--image {args.image}")
        pick = upload_pick(model, data, args.image, INVERT[args.invert], max_bytes=MAX_IMAGE,
                           label=getattr(args, "label", None) or 0)
    else:
        pick = test_pick(model, _splits(model, args)[1], _inspector(args).index)
    return pick.x, pick.y


def posterior_command(args: argparse.Namespace) -> int:
    from playground.cli import emit
    from playground.vae.posterior import check_ks, inspect

    ks = check_ks(args.k, args.samples)
    model = _model_2d(args)
    x, y = _image(model, args)
    t0 = time.perf_counter()
    _, report = inspect(model, x, y, n=_inspector(args).grid, ks=ks, samples=args.samples, seed=args.seed,
                        scan=args.scan)
    report["seconds"] = round(time.perf_counter() - t0, 3)
    report["source"] = f"image {args.image}" if args.image else f"test image {_inspector(args).index}"
    emit(report, args.json)
    return 0


def amortise_command(args: argparse.Namespace) -> int:
    """The page's amortisation view: q fitted to one image by SVI, the best Gaussian, and the gap's split."""
    from playground.cli import emit
    from playground.vae import amortisation as A
    from playground.vae.posterior import DEFAULT_SCAN, posterior_grid

    model = _model_2d(args)
    x, y = _image(model, args)
    pg = posterior_grid(model, x, y, n=_inspector(args).grid, scan=DEFAULT_SCAN)
    hist = list(A.optimise_q(model, x, pg, y, steps=args.steps, samples=args.samples, seed=args.seed))
    best = A.best_gaussian(pg, elbo=A.elbo_of(model, x, y))
    g = A.gaps(pg, hist[-1], best, A.elbo_of(model, x, y))
    emit({**g, "optimised_q": {"mu": hist[-1]["mu"].tolist(), "logvar": hist[-1]["logvar"].tolist()},
          "best_gaussian": {"mu": best["mu"].tolist(), "logvar": best["logvar"].tolist()},
          "elbo_by_step": [[h["step"], h["elbo"]] for h in hist]}, args.json)
    return 0


def gradients_command(args: argparse.Namespace) -> int:
    """The page's gradient-estimator view: reparameterised vs score-function gradients of the ELBO in q's mean
    and log-variance for one image, beside the exact gradient (quadrature)."""
    from playground.cli import emit
    from playground.vae import estimators as E
    from playground.vae.posterior import encoder_q

    model = _model_2d(args)
    x, y = _image(model, args)
    mu, logvar = encoder_q(model, x, y)
    s = E.summarise(E.per_sample_gradients(model, x, mu, logvar, y, samples=args.samples, seed=args.seed))
    snr = E.snr(s)
    emit({"parameters": list(E.PARAMS), "exact": E.exact_gradient(model, x, mu, logvar, y).tolist(),
          **{k: {"mean": v["mean"].tolist(), "se": v["se"].tolist(), "variance_one_sample": v["var"].tolist(),
                 "snr": snr[k]} for k, v in s.items()}, "samples": args.samples}, args.json)
    return 0


def aggregate_command(args: argparse.Namespace) -> int:
    """The page's aggregate-posterior view: q(z) over the training codes against the prior."""
    from playground.cli import emit
    from playground.vae.latent import encode
    from playground.vae.aggregate import AGGREGATE_GRID, aggregate_posterior, prior_holes

    model = _model_2d(args)
    train = _splits(model, args)[0]
    mu, std = encode(model, train.images, train.labels if model.num_classes else None)
    agg = aggregate_posterior(mu, std, n=AGGREGATE_GRID)
    holes = prior_holes(agg, mu, std, samples=args.samples, seed=args.seed)
    emit({"n_codes": len(mu), "kl_aggregate_prior": agg["kl"], "hole_fraction": holes["fraction"],
          "hdr": agg["hdr"], "mean_kl": holes["mean_kl"], "mutual_information": holes["mutual_information"],
          "mutual_information_max": float(math.log(len(mu)))}, args.json)
    return 0


def compare_command(args: argparse.Namespace) -> int:
    """The page's AE vs VAE vs PCA view: each 2D latent space's test codes box, the share of the images decoded
    over it that lie off the data, its reconstruction error; --sweep adds the error against latent size (the
    page's cached sweep); --out writes the three decoded grids side by side (PCA | autoencoder | VAE)."""
    import torch

    from playground.cli import emit
    from playground.vae import compare as C

    model = _model_2d(args)
    train, test = _splits(model, args)[:2]
    ae = C.autoencoder_2d(model.cfg, train.images)              # the page's, from the same disk cache
    pca2 = C.PCA(2).fit(train.images.flatten(1).numpy())
    panels = C.three_latents(model, pca2, ae, train.images, test.images, args.n)
    out = {kind: {"off_data": p["off_data"], "reconstruction_mse": p["mse"], "box": list(p["box"])}
           for kind, p in panels.items()}
    out["grid"] = args.n
    if args.sweep:
        out["sweep"] = list(C.cached_sweep(model.cfg, train.images, test.images, C.SWEEP_SIZES))
    if args.out:
        from torchvision.utils import make_grid, save_image

        grids = [make_grid(p["grid"], nrow=args.n, padding=1, pad_value=0.3) for p in panels.values()]
        gap = torch.full((grids[0].shape[0], grids[0].shape[1], 8), 1.0)
        save_image(torch.cat([grids[0], gap, grids[1], gap, grids[2]], 2), args.out)
        out["out"] = str(args.out)
    emit(out, args.json)
    return 0


def outlier_command(args: argparse.Namespace) -> int:
    """The page's outlier view: one image's ELBO placed among the test split's."""
    import torch

    from playground.cli import emit
    from playground.vae.aggregate import OUTLIER_SAMPLES, elbo_per_image, outlier_score

    model = _model_2d(args)
    test = _splits(model, args)[1]
    x, y = _image(model, args)
    ref = elbo_per_image(model, test.images, test.labels if model.num_classes else None, samples=OUTLIER_SAMPLES)
    value = float(elbo_per_image(model, x, None if y is None else torch.tensor([y]), samples=OUTLIER_SAMPLES)[0])
    emit({"elbo": value, **outlier_score(value, ref), "test_images": len(ref),
          "source": f"image {args.image}" if args.image else f"test image {_inspector(args).index}"}, args.json)
    return 0


def _image_flags(p: argparse.ArgumentParser, what: str = "a 2-latent VAE") -> None:
    from playground.vae.inspector import InspectorConfig

    _checkpoint_flags(p, what)
    add_arguments(p, InspectorConfig, only=("index",))
    p.add_argument("--image", help="an image file instead of a test image (resized to the model's size)")
    p.add_argument("--invert", choices=list(INVERT), default="auto",
                   help="--image: invert it (dark strokes on light paper); auto (the page's default): when it is "
                        "mostly bright")
    p.add_argument("--data-path", default=None, help="override where the dataset is read from")


def _ks(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k takes integers separated by commas, not {text!r}") from None


def register(cmds) -> None:
    """The image commands under `vae` (cmds: its subparsers)."""
    from playground.vae.inspector import InspectorConfig

    en = cmds.add_parser("encode", help="q(z|x) of one test image or picture (the VAE lab's Encode view): its "
                                        "mean and standard deviation, the reconstruction")
    _image_flags(en, "a VAE")
    en.add_argument("--label", type=int, default=None, help="--image: its class for a conditional model "
                                                            "(default 0, as the page's sidebar)")
    en.add_argument("--scale", type=int, default=8, choices=range(1, 17), metavar="1..16", help="pixel upscaling")
    en.add_argument("--out", help="write image | reconstruction (| decoder σ) as a .png")
    output_flags(en)
    en.set_defaults(func=encode_command)

    from playground.vae.posterior import DEFAULT_KS, DEFAULT_SAMPLES, DEFAULT_SCAN

    p = cmds.add_parser("posterior", help="a 2-latent model's exact posterior for one image: log p(x) by "
                                          "quadrature, the ELBO, its gap KL(q || p(z|x)), IWAE for each K")
    _image_flags(p)
    add_arguments(p, InspectorConfig, only=("grid",))
    p.add_argument("--scan", type=int, default=DEFAULT_SCAN,
                   help=f"cells per side of the scan that places the grid (default {DEFAULT_SCAN}, the page's)")
    p.add_argument("--k", type=_ks, default=list(DEFAULT_KS), help="IWAE sample counts, e.g. 1,10,100,5000")
    p.add_argument("--samples", type=int, default=DEFAULT_SAMPLES, help="importance samples shared by every K")
    p.add_argument("--seed", type=int, default=0, help="seed of the importance samples")
    output_flags(p)
    p.set_defaults(func=posterior_command)

    a = cmds.add_parser("amortise", help="fit q to one image by itself (SVI) beside the best Gaussian: the "
                                         "amortisation and family gaps (the inference page's view)")
    _image_flags(a)
    a.add_argument("--steps", type=int, default=300, help="Adam steps (default 300, as the page)")
    a.add_argument("--samples", type=int, default=16, help="draws per step (default 16, as the page)")
    add_arguments(a, InspectorConfig, only=("grid",))
    a.add_argument("--seed", type=int, default=0)
    output_flags(a)
    a.set_defaults(func=amortise_command)
    from playground.vae.estimators import MAX_SAMPLES, POOL

    gr = cmds.add_parser("gradients", help="reparameterised vs score-function ELBO gradients for one image beside "
                                           "the exact one (the inference page's estimator view)")
    _image_flags(gr)
    gr.add_argument("--samples", type=int, default=POOL, help=f"per-sample gradients (default {POOL}, as the page; "
                                                              f"at most {MAX_SAMPLES})")
    gr.add_argument("--seed", type=int, default=0)
    output_flags(gr)
    gr.set_defaults(func=gradients_command)
    g = cmds.add_parser("aggregate", help="the aggregate posterior q(z) of the training codes against the prior: "
                                          "holes, KL, mutual information")
    _checkpoint_flags(g, "a 2-latent VAE")
    g.add_argument("--samples", type=int, default=400, help="prior draws tested for holes (default 400)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--data-path", default=None)
    output_flags(g)
    g.set_defaults(func=aggregate_command)
    from playground.vae.compare import GRID_N

    c = cmds.add_parser("compare", help="autoencoder vs VAE vs PCA with a 2D latent (the inference page's view): "
                                        "holes in each latent space, reconstruction error, --sweep over sizes")
    _checkpoint_flags(c, "a 2-latent VAE")
    c.add_argument("--n", type=int, default=GRID_N, choices=range(6, 21), metavar="6..20",
                   help=f"decoded grid cells per side (default {GRID_N}, as the page)")
    c.add_argument("--sweep", action="store_true", help="also the reconstruction error against latent size "
                                                        "(trains small models once; cached like the page's)")
    c.add_argument("--out", help="write the three decoded grids as one .png")
    c.add_argument("--data-path", default=None)
    output_flags(c)
    c.set_defaults(func=compare_command)
    o = cmds.add_parser("outlier", help="an image's ELBO among the test split's (percentile, z-score)")
    _image_flags(o)
    output_flags(o)
    o.set_defaults(func=outlier_command)
