"""`python -m playground vae train|eval|traverse`: the VAE lab without a browser, same config and metrics."""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from pathlib import Path

from playground.cli import output_flags
from playground.configs import add_arguments, from_args, from_json
from playground.errors import PlaygroundError
from playground.userfiles import read_bounded
from playground.vae.config import PRESETS, VAEConfig

MAX_CONFIG = 100_000
MAX_IMAGE = 20_000_000
INVERT = {"auto": None, "yes": True, "no": False}     # --invert: upload_pick's invert


def _threads(n: int) -> None:
    import torch

    torch.set_num_threads(max(1, int(n)))


def _public(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "model"}


def train_command(args: argparse.Namespace) -> int:
    from playground.cli import emit
    from playground.vae.train import train

    if args.resume:                    # the stored config; flags equal to it pass, epochs/iwae_k may change
        from playground.vae.train import resume_config

        if args.config or args.preset or args.no_resume or (
                args.out and Path(args.out).resolve() != Path(args.resume).resolve()):
            raise PlaygroundError("--resume takes the run's own config and directory: drop --config, --preset, "
                                  "--out and --no-resume")
        given = {f.name: getattr(args, f.name) for f in dataclasses.fields(VAEConfig)
                 if getattr(args, f.name, None) is not None}
        cfg, args.out = resume_config(args.resume, given), args.resume
    else:
        base = PRESETS[args.preset] if args.preset else None
        if args.config:
            base = from_json(VAEConfig, read_bounded(args.config, MAX_CONFIG, f"--config {args.config}"))
        cfg = from_args(VAEConfig, args, base)
    _threads(args.threads)
    if not args.json and not args.quiet:
        def progress(info: dict) -> None:
            print(f"epoch {info['epoch']}/{info['epochs']}  loss {info['train_loss']:.3f}  "
                  f"test elbo {info['test_elbo']:.3f} (recon {info['test_recon']:.3f}, kl {info['test_kl']:.3f})",
                  flush=True)
    else:
        progress = None
    result = train(cfg, out=args.out, progress=progress, resume=not args.no_resume)
    emit(_public(result), args.json)
    return 0


def eval_command(args: argparse.Namespace) -> int:
    from playground.cli import emit
    from playground.vae.checkpoint import load_checkpoint
    from playground.vae.metrics import evaluate
    from playground.vae.train import load_data

    _threads(args.threads)
    t0 = time.perf_counter()
    model, ckpt = load_checkpoint(args.checkpoint, sha256=args.sha256)
    cfg = model.cfg
    if args.data_path:
        cfg = dataclasses.replace(cfg, data_path=args.data_path)
    _, test = load_data(cfg)
    if test.shape != model.shape:
        raise PlaygroundError(f"the test images are {test.shape} but the model expects {model.shape}")
    k = args.iwae_k or cfg.iwae_k
    result = evaluate(model, test.images, test.labels, k=k, seed=args.seed, factors=test.factors)
    result["seconds"] = round(time.perf_counter() - t0, 3)
    result["epochs"] = int(ckpt.get("epoch", 0))
    result["checkpoint"] = str(args.checkpoint)
    result["config"] = ckpt["config"]
    emit(result, args.json)
    return 0


def traverse_command(args: argparse.Namespace) -> int:
    import numpy as np
    import torch
    from torchvision.utils import save_image

    from playground.cli import emit
    from playground.vae.checkpoint import load_checkpoint
    from playground.vae.latent import encode, traversal_values, traverse

    _threads(args.threads)
    model, _ = load_checkpoint(args.checkpoint, sha256=args.sha256)
    if args.steps < 2 or args.steps > 64:
        raise PlaygroundError("--steps must be between 2 and 64")
    if not 0 < args.span <= 10:
        raise PlaygroundError("--span must be in (0, 10]")
    z0 = np.zeros(model.latent, dtype=np.float32)
    y = args.label
    if args.index is not None:
        from playground.vae.train import load_data

        _, test = load_data(model.cfg)
        if not 0 <= args.index < len(test):
            raise PlaygroundError(f"--index {args.index} is outside 0..{len(test) - 1}")
        x = test.images[args.index:args.index + 1]
        if y is None and test.labels is not None and model.num_classes:
            y = int(test.labels[args.index])
        z0 = encode(model, x, y)[0][0]
    if model.num_classes and y is not None and not 0 <= y < model.num_classes:
        raise PlaygroundError(f"--label must be in 0..{model.num_classes - 1}")
    dims = list(range(model.latent)) if args.dim == -1 else [args.dim]
    values = traversal_values(args.steps, args.span)
    rows = torch.cat([traverse(model, z0, d, values, y) for d in dims])
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise PlaygroundError("--out must end in .png or .jpg")
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.scale > 1:
        rows = rows.repeat_interleave(args.scale, 2).repeat_interleave(args.scale, 3)
    save_image(rows, out, nrow=args.steps, padding=1, pad_value=0.3)
    emit({"out": str(out), "dims": dims, "steps": args.steps, "values": [round(float(v), 4) for v in values],
          "z0": [round(float(v), 4) for v in z0]}, args.json)
    return 0


VIEWS = ("manifold", "interpolate", "class-swap", "decode")


def view_command(args: argparse.Namespace) -> int:
    """The VAE lab's decoder views as a PNG, with the page's defaults: the 2D manifold through the prior's
    quantiles, the interpolation between two test images' codes, a conditional model's class swap, one decoded z."""
    import numpy as np
    import torch
    from torchvision.utils import save_image

    from playground.cli import emit
    from playground.vae import latent as L
    from playground.vae.checkpoint import load_checkpoint

    _threads(args.threads)
    model, _ = load_checkpoint(args.checkpoint, sha256=args.sha256)
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise PlaygroundError("--out must end in .png or .jpg")
    y = args.label
    if y is not None and not (model.num_classes and 0 <= y < model.num_classes):
        raise PlaygroundError(f"--label needs a conditional model and a class in 0..{(model.num_classes or 1) - 1}")
    info: dict = {"view": args.view}
    if args.view == "manifold":
        dims = tuple(args.dims)
        if len(dims) != 2 or dims[0] == dims[1] or not all(0 <= d < model.latent for d in dims):
            raise PlaygroundError(f"--dims takes two different latent dimensions in 0..{model.latent - 1}")
        images, nrow = L.grid_2d(model, dims, n=args.n, y=y)[0], args.n
    elif args.view == "decode":
        if len(args.z) != model.latent:
            raise PlaygroundError(f"--z takes {model.latent} numbers (the latent dimension)")
        images, nrow = L.decode(model, np.asarray(args.z, dtype=np.float32)[None], y), 1
    else:
        test = _splits(model, args)[1]
        idx = list(args.images) if args.view == "class-swap" else list(args.images[:2])
        if len(idx) < (1 if args.view == "class-swap" else 2) or not all(0 <= i < len(test) for i in idx):
            raise PlaygroundError(f"--images: test image numbers in 0..{len(test) - 1}")
        labels = test.labels
        if args.view == "class-swap":
            ix = torch.tensor(idx)
            images, nrow = L.class_swap(model, test.images[ix], labels[ix] if labels is not None else None), \
                model.num_classes
        else:
            of = (lambda i: int(labels[i]) if labels is not None and model.num_classes else None)
            mu = L.encode(model, test.images[idx], labels[idx] if labels is not None and model.num_classes
                          else None)[0]
            images = L.interpolate(model, mu[0], mu[1], args.steps, args.method, of(idx[0]), of(idx[1]))
            nrow = args.steps
        info["images"] = idx
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.scale > 1:
        images = images.repeat_interleave(args.scale, 2).repeat_interleave(args.scale, 3)
    save_image(images, out, nrow=nrow, padding=1, pad_value=0.3)
    emit({**info, "out": str(out), "tiles": len(images)}, args.json)
    return 0


def _model_2d(args: argparse.Namespace):
    from playground.vae.checkpoint import load_checkpoint
    from playground.vae.posterior import check_2d

    _threads(args.threads)
    model, _ = load_checkpoint(args.checkpoint, sha256=args.sha256)
    check_2d(model)
    return model


def _splits(model, args: argparse.Namespace):
    from playground.vae.train import load_data

    cfg = dataclasses.replace(model.cfg, data_path=args.data_path) if args.data_path else model.cfg
    return load_data(cfg)


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


def _checkpoint_flags(p: argparse.ArgumentParser, what: str = "a VAE") -> None:
    p.add_argument("--checkpoint", required=True, help=f"{what} (a run's checkpoints/latest.pt or a pretrained/*.pt)")
    p.add_argument("--sha256", help="refuse the file unless it has this sha256 (default: its card's, if any)")


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


def register(sub: argparse._SubParsersAction) -> None:
    from playground.vae.inspector import InspectorConfig

    vae = sub.add_parser("vae", help="variational autoencoders: train, evaluate, traverse the latent space")
    cmds = vae.add_subparsers(dest="command", required=True,
                              metavar="<train|eval|traverse|view|encode|posterior|amortise|gradients|aggregate|compare|outlier>")

    t = cmds.add_parser("train", help="train a VAE and print its test metrics")
    add_arguments(t, VAEConfig)
    t.add_argument("--config", help="JSON file with VAEConfig fields (flags override it)")
    t.add_argument("--preset", choices=list(PRESETS), help="start from a named setting (the VAE lab's form opens on "
                                                          "sprites_bvae); --config and flags override it")
    t.add_argument("--out", help="run directory (playground.runs): config.json, status.json, metrics.jsonl, "
                                 "checkpoints/latest.pt; a run already there is continued")
    t.add_argument("--resume", metavar="DIR", help="continue the run in DIR with its stored config (from epoch 0 "
                                                   "if it has no checkpoint yet); --epochs may lengthen it")
    t.add_argument("--no-resume", action="store_true", help="start afresh even if --out holds a checkpoint")
    output_flags(t, quiet="no per-epoch lines")
    t.set_defaults(func=train_command)

    e = cmds.add_parser("eval", help="evaluate a checkpoint on its dataset's test split")
    e.add_argument("--checkpoint", required=True, help="a run's checkpoints/latest.pt (or a pretrained/*.pt)")
    e.add_argument("--sha256", help="refuse the file unless it has this sha256 (default: its card's, if any)")
    e.add_argument("--iwae-k", type=int, default=None, help="importance samples (default: the model's config)")
    e.add_argument("--data-path", default=None, help="override where the dataset is read from")
    e.add_argument("--seed", type=int, default=0, help="seed of the importance samples")
    output_flags(e)
    e.set_defaults(func=eval_command)

    from playground.vae import latent as L

    v = cmds.add_parser("view", help="the VAE lab's decoder views as a PNG (the page's defaults): manifold, "
                                     "interpolate, class-swap, decode")
    _checkpoint_flags(v)
    v.add_argument("--view", required=True, choices=VIEWS)
    v.add_argument("--dims", type=int, nargs=2, default=[0, 1], help="manifold: the two latent dimensions")
    v.add_argument("--n", type=int, default=L.MANIFOLD_N, choices=range(5, 21), metavar="5..20",
                   help=f"manifold: grid cells per side (default {L.MANIFOLD_N})")
    v.add_argument("--images", type=int, nargs="+", default=list(L.SWAP_IMAGES),
                   help="interpolate: the two test images (default 0 1); class-swap: up to 8 (default 0 1 2 3)")
    v.add_argument("--steps", type=int, default=L.INTERP_STEPS, choices=range(3, 17), metavar="3..16",
                   help=f"interpolate: images along the path (default {L.INTERP_STEPS})")
    v.add_argument("--method", default="linear", choices=("linear", "spherical"), help="interpolate: the path")
    v.add_argument("--z", type=float, nargs="+", default=[], help="decode: the code, one number per dimension")
    v.add_argument("--label", type=int, default=None, help="manifold, decode: class (conditional models)")
    v.add_argument("--scale", type=int, default=4, choices=range(1, 17), metavar="1..16", help="pixel upscaling")
    v.add_argument("--data-path", default=None)
    v.add_argument("--out", required=True, help="output .png")
    output_flags(v)
    v.set_defaults(func=view_command)

    r = cmds.add_parser("traverse", help="write a strip of decoded images as one latent dimension moves")
    r.add_argument("--checkpoint", required=True)
    r.add_argument("--sha256")
    r.add_argument("--dim", type=int, default=0, help="latent dimension to move (-1: all, one row each)")
    r.add_argument("--steps", type=int, default=11, help="images in the strip")
    r.add_argument("--span", type=float, default=3.0, help="move from -span to +span prior std devs")
    r.add_argument("--index", type=int, default=None, help="start from this test image's code (default: z = 0)")
    r.add_argument("--label", type=int, default=None, help="class for a conditional model")
    r.add_argument("--scale", type=int, default=4, help="nearest-neighbour upscaling of the pixels")
    r.add_argument("--out", required=True, help="output .png")
    output_flags(r)
    r.set_defaults(func=traverse_command)

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
