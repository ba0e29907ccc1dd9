"""Training an image model: the entry points (one process, or N under torchrun, one run directory).

    python -m playground.images.train --dataset digits --model dcgan --steps 2000 --out runs/demo
    torchrun --nproc_per_node=2 -m playground.images.train --dataset digits --model dcgan --out runs/ddp
    python -m playground.images.train --resume runs/demo            # continue from checkpoints/latest.pt

`python -m playground.images.train ARGS` is `python -m playground images train ARGS` (one parser, in cli.py).
The pieces: device.py (where), training_data.py (what), steps.py (one GAN or VAE step under any objective),
trainer.py (state, checkpoints, scores), loop.py (the loop), signals.py (graceful stop).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playground.configs import from_dict, to_dict
from playground.errors import PlaygroundError
from playground.images.config import PRESETS, ImageRunConfig
from playground.images.trainer import KIND, Trainer
from playground.runs.resume import resume_config
from playground.runs.root import runs_root
from playground.runs.rundir import RunDir, new_run_name

# What may differ from the stored config when a run is resumed: its length and the hardware it runs on.
MAY_CHANGE_ON_RESUME = {"steps", "device", "threads", "amp", "channels_last"}


def config_for_resume(run_dir: str | Path, requested: dict | None = None) -> ImageRunConfig:
    """The run's own config; requested values equal to it pass, only MAY_CHANGE_ON_RESUME may differ."""
    return resume_config(RunDir.open(run_dir), ImageRunConfig, requested, MAY_CHANGE_ON_RESUME)


def train(cfg: ImageRunConfig, out: str | Path | None = None, *, resume: str | Path | None = None,
          dataset: Any = None, quiet: bool = True, on_step: Callable | None = None) -> dict:
    """Train a new run at `out` (default runs_root()/<name>), or resume the run at `resume` (from its latest
    checkpoint, or from step 0 with its config if it was killed before writing one)."""
    if resume is not None:
        run_dir = Path(resume)
        RunDir.open(run_dir)                      # a clear error if it is not a run at all
    else:
        run_dir = Path(out) if out else runs_root() / new_run_name(to_dict(cfg), KIND)
    trainer = Trainer(cfg, run_dir, resume=resume is not None, dataset=dataset, quiet=quiet)
    try:
        return trainer.fit(on_step=on_step)
    finally:
        trainer.close()


def run_from_args(args) -> dict:
    """What `images train` does with its parsed flags (a preset, then flags; or --resume DIR)."""
    given = {f: getattr(args, f) for f in to_dict(ImageRunConfig()) if getattr(args, f, None) is not None}
    preset = dict(PRESETS[args.preset].overrides) if args.preset else {}
    if args.resume:
        if args.out and Path(args.out).resolve() != Path(args.resume).resolve():
            raise PlaygroundError(f"--out {args.out} and --resume {args.resume} name different runs: give only "
                                  "--resume")
        from playground.runs.launcher import resume_length

        if given.get("steps") is None and (longer := resume_length(args.resume)):
            given["steps"] = longer                  # a completed run trains on to twice its steps, as the page
        cfg = config_for_resume(args.resume, {**preset, **given})
        return train(cfg, resume=args.resume, quiet=args.json)
    cfg = from_dict(ImageRunConfig, {**preset, **given})
    return train(cfg, args.out, quiet=args.json)


def main(argv: list[str] | None = None) -> int:
    from playground.cli import main as cli_main

    return cli_main(["images", "train", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
