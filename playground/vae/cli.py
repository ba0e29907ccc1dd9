"""`python -m playground vae train|eval|traverse|view`: the VAE lab without a browser, same config and metrics; the
image commands (encode, posterior, ...) are in inspect_cli.py."""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from playground.cli import output_flags
from playground.configs import add_arguments, from_args, from_json
from playground.errors import PlaygroundError
from playground.userfiles import read_bounded
from playground.vae.config import PRESETS, VAEConfig

MAX_CONFIG = 100_000


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


def _splits(model, args: argparse.Namespace):
    from playground.vae.train import load_data

    cfg = dataclasses.replace(model.cfg, data_path=args.data_path) if args.data_path else model.cfg
    return load_data(cfg)


def _checkpoint_flags(p: argparse.ArgumentParser, what: str = "a VAE") -> None:
    p.add_argument("--checkpoint", required=True, help=f"{what} (a run's checkpoints/latest.pt or a pretrained/*.pt)")
    p.add_argument("--sha256", help="refuse the file unless it has this sha256 (default: its card's, if any)")


def register(sub: argparse._SubParsersAction) -> None:
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

    from playground.vae import inspect_cli

    inspect_cli.register(cmds)
