"""A families training as a run directory (playground.runs), and loading one back to sample or score it.

    python -m playground.families.runs --model flow --dist ring8 --steps 2000 --out runs/flow-ring8 --json
    python -m playground.families.runs --resume runs/flow-ring8 --steps 4000 --json   # = `playground families train`

The run directory: config.json (the FamilyConfig), status.json (queued/running/completed/failed/stopped),
metrics.jsonl (a loss row every few steps, a scoreboard row `{"eval": true, ...}` at every evaluation and at
the end), checkpoints/latest.pt (format FORMAT, loaded weights-only), and the user's data when the target
needs it (data_points.csv for dist=custom, picture.npy for dist=image). A resumed run continues bit for bit
where its checkpoint left it (weights, optimiser moments, generator states).
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np

from playground.configs import from_dict, to_dict
from playground.errors import PlaygroundError
from playground.families.config import FamilyConfig
from playground.runs import states
from playground.runs.checkpoints import load_checkpoint, save_checkpoint, versions
from playground.runs.liveness import me
from playground.runs.rundir import RunDir

KIND = "families"
FORMAT = "playground.families/1"
# What a resumed run may change: its length, the evaluation size and the live settings (sampling, batch).
RESUMABLE = {"steps", "eval_samples", "batch_size", "sample_steps", "diffusion_sampler", "fm_solver",
             "fm_logprob_steps", "vae_iwae_k"}
POINTS_FILE, PICTURE_FILE = "data_points.csv", "picture.npy"
CHECKPOINT_EVERY_S = 10.0
MAX_PICTURE_BYTES = 1_000_000
Progress = Callable[[dict], None]


def build_target(cfg: FamilyConfig, points: np.ndarray | None = None, picture: np.ndarray | None = None):
    """The run's target: cfg's built-in one, the user's points (dist=custom) or picture (dist=image)."""
    from playground.toy.targets import make_target

    if cfg.dist == "custom" and points is None:
        raise PlaygroundError("dist=custom needs your points: --points FILE.csv (columns x,y or x)")
    return make_target(cfg, points if cfg.dist == "custom" else None,
                       image=picture if cfg.dist == "image" else None)


def _save_data(run: RunDir, points, picture) -> None:
    from playground.runs.files import atomic_write_bytes
    from playground.toy.userdata import points_to_csv

    if points is not None:
        atomic_write_bytes(run.path / POINTS_FILE, points_to_csv(points).encode())
    if picture is not None:
        import io

        buf = io.BytesIO()
        np.save(buf, np.asarray(picture, dtype=np.float64), allow_pickle=False)
        atomic_write_bytes(run.path / PICTURE_FILE, buf.getvalue())


def _load_data(run: RunDir, cfg: FamilyConfig) -> tuple[np.ndarray | None, np.ndarray | None]:
    from playground.toy.userdata import load_points_csv
    from playground.userfiles import read_bounded

    points = picture = None
    if cfg.dist == "custom":
        points = load_points_csv(read_bounded(run.path / POINTS_FILE, 5_000_000, f"{run.name}/{POINTS_FILE}"))
    p = run.path / PICTURE_FILE
    if cfg.dist == "image" and p.is_file():
        import io

        picture = np.load(io.BytesIO(read_bounded(p, MAX_PICTURE_BYTES, f"{run.name}/{PICTURE_FILE}")),
                          allow_pickle=False)
        if picture.ndim != 2 or picture.dtype.kind != "f":
            raise PlaygroundError(f"{run.name}/{PICTURE_FILE} is not a darkness picture (a 2D float array)")
    return points, picture


def open_run(path: Path | str) -> RunDir:
    """The families run at `path` (a run of another kind is refused, naming its kind)."""
    run = RunDir.open(path)
    if run.kind != KIND:
        raise PlaygroundError(f"{run.path} is a run of kind {run.kind!r}, not a families run: use the "
                              f"command of its own area")
    return run


def load_trainer(path: Path | str):
    """(FamilyTrainer at the run's latest checkpoint, its config) for sampling and scoring."""
    from playground.families.lockstep import restore
    from playground.families.trainer import FamilyTrainer

    run = open_run(path)
    try:
        cfg = from_dict(FamilyConfig, run.config())
    except PlaygroundError as e:
        raise PlaygroundError(f"{run.path}/config.json is not a families config: {e}") from None
    if not run.latest_path.exists():
        raise PlaygroundError(f"{run.path} has no checkpoint yet (state {run.effective_status().get('state')})")
    ckpt = load_checkpoint(run.latest_path, FORMAT, what="families checkpoint")
    points, picture = _load_data(run, cfg)
    tr = FamilyTrainer(cfg, target=build_target(cfg, points, picture))
    restore(tr, ckpt["trainer"])
    return tr, cfg


def _take(out: Path | str, cfg: FamilyConfig, resume: bool, requested: dict | None):
    """(run under this process's lock, config, checkpoint or None, points, picture)."""
    if not resume:
        run = RunDir.create(out, to_dict(cfg), KIND)
        return run, cfg, None, None, None
    from playground.runs.resume import resume_config

    run = open_run(out)
    run.acquire()
    try:
        cfg = resume_config(run, FamilyConfig, requested, RESUMABLE)
        ckpt = None
        if run.latest_path.exists():
            ckpt = load_checkpoint(run.latest_path, FORMAT, what="families checkpoint")
        run.clear_stop()
        run.write_config(to_dict(cfg))
        points, picture = _load_data(run, cfg)
    except BaseException:
        run.release()
        raise
    return run, cfg, ckpt, points, picture


def train_run(cfg: FamilyConfig, out: Path | str, *, points: np.ndarray | None = None,
              picture: np.ndarray | None = None, eval_every: int = 0, resume: bool = False,
              requested: dict | None = None, progress: Progress | None = None) -> dict:
    """Train (or, with `resume`, continue the run at `out` with `requested` changes) and score the model.
    Returns the final scoreboard row with `run_dir`, `dist`, `seconds` (training time) and `wall_seconds`."""
    cfg.validate()
    t_start = time.perf_counter()
    target = None if resume else build_target(cfg, points, picture)      # bad data: refused before any folder
    run, cfg, ckpt, stored_points, stored_picture = _take(out, cfg, resume, requested)
    try:
        if resume:
            target = build_target(cfg, stored_points, stored_picture)
        else:
            _save_data(run, points if cfg.dist == "custom" else None, picture if cfg.dist == "image" else None)
        return _train(cfg, run, ckpt, target, eval_every, progress, t_start)
    except BaseException as e:
        msg = str(e) if isinstance(e, PlaygroundError) else f"{type(e).__name__}: {e}"
        run.write_status(state=states.FAILED, phase=None, error=msg[:500])
        if not isinstance(e, PlaygroundError):
            run.log(traceback.format_exc())
        raise
    finally:
        run.release()


def _checkpoint(run: RunDir, cfg: FamilyConfig, tr) -> None:
    from playground.families.lockstep import capture

    save_checkpoint(run.checkpoint_path("latest"), {"config": to_dict(cfg), "trainer": capture(tr),
                                                    "step": tr.step, "versions": versions()}, FORMAT)
    run.write_status(checkpoint_step=tr.step)


def _train(cfg: FamilyConfig, run: RunDir, ckpt, target, eval_every: int, progress, t_start: float) -> dict:
    from playground.families.lockstep import restore
    from playground.families.scoreboard import scoreboard
    from playground.families.trainer import FamilyTrainer

    tr = FamilyTrainer(cfg, target=target)
    if ckpt is not None:
        restore(tr, ckpt["trainer"])
        run.truncate_metrics(tr.step)          # what came after the checkpoint is trained again
        run.log(f"resumed from step {tr.step}")
    params = int(sum(p.numel() for p in tr.model.parameters()))
    run.write_status(state=states.RUNNING, phase="training", kind=KIND, step=tr.step, total_steps=cfg.steps,
                     params=params, error=None, process_gone=None, started=time.time(), **me())
    run.log(f"training {cfg.model} on {cfg.dist} from step {tr.step} to {cfg.steps}")
    log_every = max(1, cfg.steps // 200)
    last_save, stopped = time.perf_counter(), False
    tr.model.train()
    while tr.step < cfg.steps:
        loss = tr.train_step()
        if tr.step % log_every == 0 or tr.step == cfg.steps:
            row = {"step": tr.step, "loss": loss, "seconds": round(tr.seconds, 4)}
            run.append_metrics(row)
            if progress is not None:
                progress(row)
        if eval_every and tr.step % eval_every == 0 and tr.step < cfg.steps:
            run.write_status(phase="evaluating", step=tr.step)
            run.append_metrics({"eval": True, "step": tr.step, **scoreboard(
                tr.model, target, n=cfg.eval_samples, steps=tr.step, seconds=tr.seconds)})
            run.write_status(phase="training")
        if tr.step % 25 == 0:
            if run.stop_requested():
                stopped = True
                break
            if time.perf_counter() - last_save > CHECKPOINT_EVERY_S:
                _checkpoint(run, cfg, tr)
                last_save = time.perf_counter()
            run.write_status(step=tr.step)
    tr.model.eval()
    _checkpoint(run, cfg, tr)
    run.write_status(phase="evaluating", step=tr.step)
    row = scoreboard(tr.model, target, n=cfg.eval_samples, steps=tr.step, seconds=tr.seconds)
    run.append_metrics({"eval": True, "step": tr.step, **row})
    result = {"run_dir": str(run.path), "dist": cfg.dist, **row, "seconds": round(tr.seconds, 4),
              "wall_seconds": round(time.perf_counter() - t_start, 4), "stopped": stopped}
    if stopped:
        run.clear_stop()
    run.write_status(state=states.STOPPED if stopped else states.COMPLETED, phase=None, step=tr.step,
                     result=result, finished=time.time())
    run.log(f"finished at step {tr.step}: kl {row.get('kl')}, grid JS {row.get('grid_js')}")
    return result


def main(argv: list[str] | None = None) -> int:
    """`python -m playground.families.runs ARGS` is `python -m playground families train ARGS` (the launcher's
    entry point)."""
    from playground.cli import main as cli_main

    return cli_main(["families", "train", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
