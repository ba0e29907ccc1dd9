"""`python -m playground families train|sample|logprob`: the model families lab without a browser.

    families train --model flow --dist ring8 --steps 2000 --seed 0 --out runs/f --json
    families sample --run runs/f --n 2500 --seed 0 --out samples.csv
    families logprob --run runs/f --points points.csv --json      # {"log_prob": [...]} in the file's order

Flags of `train` come from FamilyConfig (the page's widgets come from the same fields, with the same defaults
and bounds). A model without a density (GAN, diffusion) has no `logprob`: exit 2 naming the model.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from playground.cli import output_flags
from playground.configs import add_arguments, from_args, from_json
from playground.errors import PlaygroundError
from playground.families.config import FamilyConfig

MAX_FILE = 5_000_000
MAX_SAMPLES = 1_000_000


def _threads(n: int) -> None:
    import torch

    if not 1 <= n <= 256:
        raise PlaygroundError("--threads must be between 1 and 256")
    torch.set_num_threads(n)


def _read(path: str, what: str) -> bytes:
    from playground.userfiles import read_bounded

    return read_bounded(path, MAX_FILE, f"{what} {path}")


def train_command(args: argparse.Namespace) -> int:
    from playground.cli import emit
    from playground.families.runs import train_run

    if args.eval_every < 0:
        raise PlaygroundError("--eval-every must be >= 0 (0: only the final evaluation)")
    _threads(args.threads)
    progress = None
    if not args.json and not args.quiet:
        def progress(row: dict) -> None:
            print(f"step {row['step']}  loss {row['loss']:.4f}  ({row['seconds']:.1f} s)", flush=True)
    if args.resume:
        if args.config or args.points or args.image or (args.out and Path(args.out).resolve() !=
                                                         Path(args.resume).resolve()):
            raise PlaygroundError("--resume takes the run's own config, data and directory: drop --config, "
                                  "--points, --image and --out")
        given = {f.name: getattr(args, f.name) for f in dataclasses.fields(FamilyConfig)
                 if getattr(args, f.name, None) is not None}
        result = train_run(FamilyConfig(), args.resume, resume=True, requested=given, eval_every=args.eval_every,
                           progress=progress)
    else:
        if not args.out:
            raise PlaygroundError("--out DIR is required (the run directory to write)")
        base = from_json(FamilyConfig, _read(args.config, "--config")) if args.config else None
        cfg = from_args(FamilyConfig, args, base)
        points = picture = None
        if args.points:
            if cfg.dist != "custom":
                raise PlaygroundError(f"--points is for --dist custom (this run trains on {cfg.dist})")
            from playground.toy.userdata import load_points_csv

            points = load_points_csv(_read(args.points, "--points"))
        if args.image:
            if cfg.dist != "image":
                raise PlaygroundError(f"--image is for --dist image (this run trains on {cfg.dist})")
            from playground.toy.targets.picture import picture_darkness

            picture = picture_darkness(_read(args.image, "--image"))
        result = train_run(cfg, args.out, points=points, picture=picture, eval_every=args.eval_every,
                           progress=progress)
    emit(result, args.json)
    return 0


def sample_command(args: argparse.Namespace) -> int:
    import torch

    from playground.cli import emit
    from playground.families.runs import load_trainer
    from playground.runs.files import atomic_write_bytes
    from playground.toy.userdata import points_to_csv

    if not 1 <= args.n <= MAX_SAMPLES:
        raise PlaygroundError(f"--n must be between 1 and {MAX_SAMPLES:,}")
    if args.seed < 0:
        raise PlaygroundError("--seed must be >= 0")
    _threads(args.threads)
    tr, cfg = load_trainer(args.run)
    with torch.no_grad():
        x = tr.model.sample(args.n, torch.Generator().manual_seed(args.seed)).double().numpy()
    out = Path(args.out)
    if out.is_dir():
        raise PlaygroundError(f"--out {out} is a folder: give a file name such as samples.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, points_to_csv(x).encode())
    emit({"out": str(out), "n": args.n, "seed": args.seed, "model": cfg.model, "dist": cfg.dist,
          "step": tr.step, "columns": ["x", "y"][:x.shape[1]]}, args.json)
    return 0


def logprob_command(args: argparse.Namespace) -> int:
    import torch

    from playground.cli import emit
    from playground.families.runs import load_trainer
    from playground.toy.userdata import load_points_csv

    _threads(args.threads)
    tr, cfg = load_trainer(args.run)
    if tr.model.likelihood == "none":
        raise PlaygroundError(f"the {cfg.model} model of {args.run} has no density (it can only be judged by "
                              "its samples): logprob needs a flow, autoregressive, flow_matching or vae run")
    points = load_points_csv(_read(args.points, "--points"), dim=tr.target.dim)
    with torch.no_grad():
        log_q = tr.model.log_prob(torch.as_tensor(points, dtype=torch.float32)).double().numpy()
    result = {"log_prob": [float(v) for v in log_q], "n": len(log_q), "model": cfg.model,
              "likelihood": tr.model.likelihood, "step": tr.step}
    if tr.model.likelihood == "bound":
        result["note"] = f"a lower bound on log q(x): the importance-weighted bound with K={cfg.vae_iwae_k}"
    emit(result, args.json)
    return 0


def animate_command(args: argparse.Namespace) -> int:
    """Train several families side by side in lockstep (the lab's Play) and write the history as a GIF or MP4,
    as the page's export does: every frame's main views side by side."""
    from playground.cli import emit
    from playground.configs import from_args
    from playground.families.live import LiveLab

    from playground.families.setup import DEFAULT_MODELS

    models = [m.strip() for chunk in (args.models or [",".join(DEFAULT_MODELS)]) for m in chunk.split(",")
              if m.strip()]
    if not 1 <= len(models) <= 4:
        raise PlaygroundError("--models takes 1 to 4 families, comma-separated")
    out = Path(args.out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("gif", "mp4"):
        raise PlaygroundError("--out must end in .gif or .mp4")
    if out.parent and not out.parent.exists():
        raise PlaygroundError(f"folder {out.parent} does not exist")
    _threads(args.threads)
    base = from_args(FamilyConfig, args)
    lab = LiveLab([dataclasses.replace(base, model=m) for m in models])
    ticks = max(1, base.steps // args.frames)
    while not lab.done:
        lab.step_once(min(ticks, base.steps - lab.step))
        if lab.error:
            raise PlaygroundError(lab.error)
    data = lab.animation(fmt, fps=args.fps)
    out.write_bytes(data)
    emit({"out": str(out), "models": models, "steps": lab.step, "frames": len(lab.history.entries),
          "bytes": len(data)}, args.json)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    fam = sub.add_parser("families", help="every family of generative model on the toy targets: train, sample, "
                                          "log density")
    cmds = fam.add_subparsers(dest="command", required=True, metavar="<train|sample|logprob|animate>")

    t = cmds.add_parser("train", help="train one model into a run directory and print its scoreboard row")
    add_arguments(t, FamilyConfig)
    t.add_argument("--config", help="JSON file with FamilyConfig fields (e.g. saved from the page; flags override)")
    t.add_argument("--points", help="CSV of your points (columns x,y or x) for --dist custom")
    t.add_argument("--image", help="a picture (PNG, JPEG...) whose darkness is the density, for --dist image")
    t.add_argument("--out", help="run directory to create (playground.runs)")
    t.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its latest checkpoint; "
                                                   "--steps may lengthen it")
    t.add_argument("--eval-every", type=int, default=0, help="scoreboard row every N steps (default 0: at the end)")
    output_flags(t, quiet="no progress lines")
    t.set_defaults(func=train_command)

    s = cmds.add_parser("sample", help="draw samples from a trained run into a CSV of x,y (or x) rows")
    s.add_argument("--run", required=True, help="a families run directory")
    s.add_argument("--n", type=int, default=2500, help="number of samples (default 2500)")
    s.add_argument("--seed", type=int, default=0, help="seed of the sampling noise (default 0)")
    s.add_argument("--out", required=True, help="CSV file to write")
    output_flags(s)
    s.set_defaults(func=sample_command)

    lp = cmds.add_parser("logprob", help="the model's log density at each point of a CSV file")
    lp.add_argument("--run", required=True, help="a families run directory")
    lp.add_argument("--points", required=True, help="CSV of points (columns x,y or x)")
    output_flags(lp)
    lp.set_defaults(func=logprob_command)

    an = cmds.add_parser("animate", help="train families side by side in lockstep and write the history as a GIF "
                                         "or MP4 (the lab's export)")
    add_arguments(an, FamilyConfig, only=[f.name for f in dataclasses.fields(FamilyConfig) if f.name != "model"])
    an.add_argument("--models", action="append", help="families side by side, comma-separated (default: the "
                                                      "lab's opening pair, flow,flow_matching)")
    an.add_argument("--frames", type=int, default=40, help="frames recorded over the run (default 40)")
    an.add_argument("--fps", type=float, default=8.0, help="frames per second (default 8, as the page)")
    an.add_argument("--out", required=True, help="the .gif or .mp4 to write")
    output_flags(an)
    an.set_defaults(func=animate_command)
