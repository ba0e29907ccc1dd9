"""`python -m playground toy train|eval|table|presets`: the GAN lab without a browser, same defaults."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from playground.cli import SEED, output_flags
from playground.configs import add_arguments, from_args, from_json, to_dict
from playground.errors import PlaygroundError
from playground.toy.config import DISTS_1D, ToyConfig
from playground.toy.presets import PRESETS
from playground.toy.userdata import load_points_csv, points_to_csv
from playground.userfiles import read_bounded

# torch and the targets are imported inside the commands: `python -m playground divergence` stays fast.

MAX_FILE = 5_000_000


def read_user_file(path: str) -> bytes:
    """A file named on the command line (config, points, samples), at most MAX_FILE bytes."""
    return read_bounded(path, MAX_FILE, path)


def _base_config(args: argparse.Namespace) -> ToyConfig | None:
    base = None
    if getattr(args, "preset", None):
        base = PRESETS[args.preset].config(ToyConfig)
    if getattr(args, "config", None):
        base = from_json(ToyConfig, read_user_file(args.config))
    return base


def _points(args: argparse.Namespace, cfg: ToyConfig) -> np.ndarray | None:
    if cfg.dist != "custom":
        return None
    if not args.data:
        raise PlaygroundError("dist=custom needs --data FILE.csv (columns x,y or x)")
    return load_points_csv(read_user_file(args.data))


def train_command(args: argparse.Namespace) -> int:
    import torch

    from playground.cli import emit
    from playground.toy.lab import eval_seed
    from playground.toy.metrics import evaluate
    from playground.toy.trainer import ToyGAN

    cfg = from_args(ToyConfig, args, _base_config(args))
    if args.steps < 0:
        raise PlaygroundError("--steps must be >= 0")
    if args.eval_every < 0:
        raise PlaygroundError("--eval-every must be >= 0 (0 = only the final evaluation)")
    if not 1 <= args.threads <= 256:
        raise PlaygroundError("--threads must be between 1 and 256")
    for flag, out in (("--samples-out", args.samples_out), ("--checkpoint-out", args.checkpoint_out)):
        if not out:
            continue
        p = Path(out).resolve()                       # fail now, not after training
        if p.is_dir():
            raise PlaygroundError(f"{flag}: {out} is a folder; give a file name")
        if not p.parent.is_dir():
            raise PlaygroundError(f"{flag}: the folder of {out} does not exist")
        if not os.access(p.parent, os.W_OK):
            raise PlaygroundError(f"{flag}: cannot write in the folder of {out}")
    torch.set_num_threads(args.threads)
    gan = ToyGAN(cfg, _points(args, cfg))
    history = []
    t0 = time.perf_counter()
    done = 0
    train_seconds = 0.0
    while done < args.steps:
        chunk = min(args.eval_every or args.steps, args.steps - done)
        t1 = time.perf_counter()
        gan.train(chunk)
        train_seconds += time.perf_counter() - t1
        done += chunk
        if args.eval_every and done < args.steps:
            history.append({"step": done, **evaluate(gan.target, gan.sample(gan.cfg.eval_samples,
                                                                              seed=eval_seed(done)))})
    seconds = time.perf_counter() - t0
    samples = gan.sample(gan.cfg.eval_samples, seed=eval_seed(gan.step) if args.eval_seed is None else args.eval_seed)
    metrics = evaluate(gan.target, samples)
    _, dl, gl = gan.losses()
    result = {
        "steps": gan.step,
        "seconds": round(seconds, 3),
        "steps_per_sec": round(gan.step / train_seconds, 1) if train_seconds > 0 else None,
        **{k: metrics.get(k) for k in ("modes_covered", "n_modes", "high_quality_frac", "mode_kl")},
        **{k: v for k, v in metrics.items() if k not in ("modes_covered", "n_modes", "high_quality_frac",
                                                         "mode_kl")},
        "d_loss": float(dl[-1]) if len(dl) else None,
        "g_loss": float(gl[-1]) if len(gl) else None,
        "config": to_dict(gan.cfg),
    }
    if history:
        result["history"] = history
    if args.samples_out:
        Path(args.samples_out).write_text(points_to_csv(samples))
    if args.checkpoint_out:
        ema = {"G_ema": gan.G_ema.state_dict()} if gan.G_ema is not None else {}
        torch.save({"G": gan.G.state_dict(), "D": gan.D.state_dict(), **ema, "config": to_dict(gan.cfg),
                    "step": gan.step, "torch": torch.__version__}, args.checkpoint_out)
    emit(result, args.json)
    return 0


def eval_command(args: argparse.Namespace) -> int:
    from playground.cli import emit
    from playground.toy.metrics import evaluate
    from playground.toy.targets import make_target

    cfg = from_args(ToyConfig, args, _base_config(args))
    target = make_target(cfg, _points(args, cfg))
    samples = load_points_csv(read_user_file(args.samples), dim=1 if cfg.dist in DISTS_1D else 2)
    result = {"n_samples": len(samples), **evaluate(target, samples), "config": to_dict(cfg)}
    emit(result, args.json)
    return 0


def table_command(args: argparse.Namespace) -> int:
    import sys

    import torch

    from playground.cli import emit
    from playground.toy.table import format_row, run_row

    if not 1 <= args.threads <= 256:
        raise PlaygroundError("--threads must be between 1 and 256")
    torch.set_num_threads(args.threads)

    def progress(r: dict) -> None:          # one line per trial on stderr: a long row shows it is alive
        print(f"trial seed {r['seed']}: modes {r['modes']}, high quality {r['hq']:.1f}%, reverse KL "
              f"{r['rkl'] if r['rkl'] is None else round(r['rkl'], 3)} ({r['seconds']} s)", file=sys.stderr, flush=True)

    result = run_row(args.protocol, args.target, args.variant, args.trials, args.steps, args.seed0,
                     progress=None if args.quiet else progress)
    if args.json:
        emit(result, True)
    else:
        print(format_row(result))
    return 0


def presets_command(args: argparse.Namespace) -> int:
    from playground.cli import emit

    emit({name: p.describe() for name, p in PRESETS.items()}, args.json)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    toy = sub.add_parser("toy", help="toy 1D/2D GANs (the GAN lab)")
    cmds = toy.add_subparsers(dest="command", required=True, metavar="<train|eval|table|presets>")

    train = cmds.add_parser("train", help="train a toy GAN with the page's defaults and print its metrics")
    add_arguments(train, ToyConfig)
    train.add_argument("--steps", type=int, default=10_000, help="iterations to train (default: 10000)")
    train.add_argument("--preset", choices=sorted(PRESETS), help="start from a lesson preset")
    train.add_argument("--config", help="start from a config JSON saved by the page")
    train.add_argument("--data", help="CSV of x,y (or x) points for --dist custom")
    train.add_argument("--threads", type=int, default=1, help="torch threads (tiny nets are fastest on 1)")
    train.add_argument("--eval-every", type=int, default=0, help="also record metrics every N steps")
    train.add_argument("--eval-seed", type=SEED, default=None, help="seed of the final evaluation's noise (default: "
                                                                  "the GAN lab's at that step)")
    train.add_argument("--samples-out", help="write the evaluation samples to this CSV")
    train.add_argument("--checkpoint-out", help="write G and D weights (torch.save of state dicts)")
    train.add_argument("--json", action="store_true", help="print one JSON object")
    train.set_defaults(func=train_command)

    ev = cmds.add_parser("eval", help="score a CSV of samples against a target with the lab's metrics")
    add_arguments(ev, ToyConfig)
    ev.add_argument("--samples", required=True, help="CSV of x,y (or x) samples to score")
    ev.add_argument("--preset", choices=sorted(PRESETS), help="target from a lesson preset")
    ev.add_argument("--config", help="target from a config JSON")
    ev.add_argument("--data", help="CSV of points for --dist custom")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(func=eval_command)

    from playground.toy.table import PROTOCOLS, TARGETS, VARIANTS

    tb = cmds.add_parser("table", help="one row of the PacGAN / VEEGAN toy tables: trials, mean ± s.e., published rows")
    tb.add_argument("--protocol", choices=sorted(PROTOCOLS), default="pacgan")
    tb.add_argument("--target", choices=sorted(TARGETS), default="ring")
    tb.add_argument("--variant", choices=sorted(VARIANTS), default="gan")
    tb.add_argument("--trials", type=int, default=None,
                    help="seeds to train (default: the protocol's, as published: PacGAN 10, VEEGAN 5)")
    tb.add_argument("--steps", type=int, default=None, help="updates per trial (default: the protocol's)")
    tb.add_argument("--seed0", type=int, default=0, help="first seed; trials use seed0, seed0 + 1, ...")
    output_flags(tb, quiet="no per-trial progress lines on stderr")
    tb.set_defaults(func=table_command)

    pr = cmds.add_parser("presets", help="list the lesson presets")
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(func=presets_command)
