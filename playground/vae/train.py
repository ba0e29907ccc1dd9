"""Training a VAE: epochs of Adam on the negative beta-ELBO, progress callbacks, run directories, resumption.

    python -m playground.vae.train --dataset digits --latent-dim 2 --epochs 50 --out runs/vae-demo
    python -m playground.vae.train --resume runs/vae-demo --epochs 80      # the same as `playground vae train`

Batches and noise are drawn from generators seeded by (seed, epoch), so a run resumed from its checkpoint
continues exactly as if it had never stopped. With `out`, the run directory is written through the run
layer (playground.runs): states queued/running/completed/failed/stopped, checkpoints/latest.pt.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import torch

from playground.configs import to_dict
from playground.data import ImageDataset, load_dataset
from playground.errors import PlaygroundError
from playground.runs import states
from playground.runs.liveness import me
from playground.runs.rundir import RunDir
from playground.vae.checkpoint import model_from_checkpoint, read_checkpoint, save_checkpoint
from playground.vae.config import VAEConfig
from playground.vae.metrics import evaluate
from playground.vae.model import VAE, build_model, count_parameters

KIND = "vae"
Progress = Callable[[dict], "bool | None"]
QUICK_EVAL = 500          # test images used for the per-epoch curve
# settings that may differ when resuming (they do not change what was trained so far)
RESUMABLE = {"epochs", "iwae_k"}


def load_data(cfg: VAEConfig) -> tuple[ImageDataset, ImageDataset]:
    train_ds = load_dataset(cfg.dataset, **cfg.data_kwargs("train"))
    test_ds = load_dataset(cfg.dataset, **cfg.data_kwargs("test"))
    if cfg.conditional and train_ds.labels is None:
        raise PlaygroundError(f"a conditional VAE needs labels; {cfg.dataset} has none")
    return train_ds, test_ds


def _epoch_seed(cfg: VAEConfig, epoch: int) -> int:
    return (cfg.seed * 1_000_003 + epoch * 7919 + 17) % (2**63)


@torch.no_grad()
def quick_eval(model: VAE, test: ImageDataset, seed: int = 0) -> dict:
    """One-sample ELBO terms on (at most QUICK_EVAL) test images: the curve drawn while training."""
    model.eval()
    x = test.images[:QUICK_EVAL]
    y = None if test.labels is None or not model.num_classes else test.labels[:QUICK_EVAL]
    t = model.elbo_terms(x, y, torch.Generator().manual_seed(seed))
    recon, kl = float(t["recon"].mean()), float(t["kl"].mean())
    return {"test_elbo": round(recon - kl, 4), "test_recon": round(recon, 4), "test_kl": round(kl, 4),
            "kl_per_dim": [round(float(v), 4) for v in t["kl_dims"].mean(0)]}


def _take(out: str | Path, cfg: VAEConfig, resume: bool) -> tuple[RunDir, dict | None]:
    """The run directory at `out`, under this process's writer lock, and the checkpoint to resume from (or None:
    a fresh start, which clears what an earlier attempt left)."""
    run = RunDir(out)
    run.path.mkdir(parents=True, exist_ok=True)
    run.acquire()
    try:
        if run.config_path.is_file() and run.kind not in (KIND, None):
            raise PlaygroundError(f"{run.path} holds a run of another kind ({run.kind}): choose another --out")
        ckpt = None
        if resume and run.latest_path.exists():
            ckpt = read_checkpoint(run.latest_path, sha256="")
            old = ckpt.get("config", {})
            differ = sorted(k for k, v in to_dict(cfg).items() if k not in RESUMABLE and old.get(k) != v)
            if differ:
                raise PlaygroundError(f"{run.path} holds a run with different settings ({', '.join(differ)}); "
                                      "choose a new --out or pass --no-resume")
            run.clear_stop()
        else:
            for p in (run.metrics_path, run.checkpoint_path("latest"), run.checkpoint_path("best")):
                p.unlink(missing_ok=True)
        run.remove_temp_files()
        run.checkpoints_dir.mkdir(exist_ok=True)
        run.write_config(to_dict(cfg))
        run.write_status(state=states.RUNNING, phase="loading", kind=KIND, epoch=0, epochs=cfg.epochs, error=None,
                         process_gone=None, **me())
    except BaseException:
        run.release()
        raise
    return run, ckpt


def train(cfg: VAEConfig, out: str | Path | None = None, *, progress: Progress | None = None, resume: bool = True,
          data: tuple[ImageDataset, ImageDataset] | None = None, final_eval: bool = True) -> dict:
    """Train (or resume) and evaluate. With `out`, writes the run directory as it goes.

    progress(info) is called after every epoch; returning False stops the run (as does a STOP file in `out`).
    Returns the final metrics with `seconds`, `epochs`, `params` and (with `out`) `checkpoint`.
    """
    cfg.validate()
    t_start = time.perf_counter()
    run, ckpt = _take(out, cfg, resume) if out else (None, None)
    try:
        return _train(cfg, run, ckpt, progress, data, final_eval, t_start)
    except BaseException as e:
        if run is not None:
            msg = str(e) if isinstance(e, PlaygroundError) else f"{type(e).__name__}: {e}"
            run.write_status(state=states.FAILED, phase=None, error=msg[:500], message=msg[:500])
            if not isinstance(e, PlaygroundError):
                run.log(traceback.format_exc())
        raise
    finally:
        if run is not None:
            run.release()


def _train(cfg, run: RunDir | None, ckpt, progress, data, final_eval, t_start) -> dict:
    train_ds, test_ds = data if data is not None else load_data(cfg)
    model = build_model(cfg, train_ds.shape, train_ds.num_classes)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    start_epoch, step = 0, 0
    if ckpt is not None:
        model = model_from_checkpoint(ckpt, run.latest_path.name)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        if "optimizer" in ckpt:
            opt.load_state_dict(ckpt["optimizer"])
        start_epoch, step = int(ckpt["epoch"]), int(ckpt.get("step", 0))
        run.truncate_metrics(start_epoch, key="epoch")     # epochs after the checkpoint are trained again
        run.log(f"resumed from epoch {start_epoch}")
    ckpt_path = run.checkpoint_path("latest") if run is not None else None
    if ckpt_path is not None and ckpt_path.parent != run.checkpoints_dir:
        ckpt_path = run.checkpoints_dir / "latest.pt"          # an old run's checkpoint.pt moves to the new place
    if run is not None:
        run.write_status(phase="training", epoch=start_epoch, epochs=cfg.epochs, step=step,
                         params=count_parameters(model), started=time.time())
        run.log(f"training {cfg.dataset} latent_dim={cfg.latent_dim} kl_weight={cfg.kl_weight} "
                f"from epoch {start_epoch}")
    x_all, y_all = train_ds.images, train_ds.labels
    use_y = bool(model.num_classes)
    n = len(x_all)
    stopped = False
    last_save = time.perf_counter()
    epoch = start_epoch
    for epoch in range(start_epoch + 1, cfg.epochs + 1):
        model.train()
        g = torch.Generator().manual_seed(_epoch_seed(cfg, epoch))
        perm = torch.randperm(n, generator=g)
        sums = {"loss": 0.0, "recon": 0.0, "kl": 0.0}
        seen = 0
        t_epoch = time.perf_counter()
        for b, s in enumerate(range(0, n, cfg.batch_size)):
            idx = perm[s:s + cfg.batch_size]
            x = x_all[idx]
            y = y_all[idx] if use_y else None
            loss, terms = model.loss(x, y, generator=g)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            for k_ in sums:
                sums[k_] += terms[k_] * len(idx)
            seen += len(idx)
            if run is not None and b % 20 == 19 and run.stop_requested():
                stopped = True
                break
        if stopped:
            epoch -= 1  # the partial epoch is not saved; resuming redoes it
            break
        row = {"epoch": epoch, "step": step, "train_loss": round(sums["loss"] / seen, 4),
               "train_recon": round(sums["recon"] / seen, 4), "train_kl": round(sums["kl"] / seen, 4),
               **quick_eval(model, test_ds, seed=epoch), "epoch_seconds": round(time.perf_counter() - t_epoch, 3),
               "seconds": round(time.perf_counter() - t_start, 3)}
        if run is not None:
            run.append_metrics(row)
            now = time.perf_counter()
            if now - last_save > 10 or epoch == cfg.epochs:
                save_checkpoint(ckpt_path, model, optimizer=opt, epoch=epoch, step=step)
                run.write_status(checkpoint_step=epoch)
                last_save = now
            run.write_status(epoch=epoch, step=step, last=row)
        if progress is not None and progress({**row, "epochs": cfg.epochs}) is False:
            stopped = True
            break
        if run is not None and run.stop_requested():
            stopped = True
            break
    if run is not None and (stopped or epoch < cfg.epochs or not ckpt_path.exists()):
        save_checkpoint(ckpt_path, model, optimizer=opt, epoch=epoch, step=step)
    train_seconds = time.perf_counter() - t_start
    result: dict = {"epochs": epoch, "steps": step, "stopped": stopped, "params": count_parameters(model)}
    if final_eval:
        if run is not None:
            run.write_status(phase="evaluating")
        result.update(evaluate(model, test_ds.images, test_ds.labels, k=cfg.iwae_k, seed=cfg.seed,
                               factors=test_ds.factors))
    result["train_seconds"] = round(train_seconds, 3)
    result["seconds"] = round(time.perf_counter() - t_start, 3)
    if run is not None:
        save_checkpoint(ckpt_path, model, optimizer=opt, epoch=epoch, step=step, metrics=result)
        result["checkpoint"] = str(ckpt_path)
        result["out"] = str(run.path)
        if stopped:
            run.clear_stop()
        run.write_status(state=states.STOPPED if stopped else states.COMPLETED, phase=None, epoch=epoch,
                         checkpoint_step=epoch, result=result, finished=time.time())
        run.log(f"finished: {result.get('test_elbo')} test ELBO")
    result["config"] = to_dict(cfg)
    result["model"] = model
    return result


def resume_config(run_dir: str | Path, requested: dict | None = None) -> VAEConfig:
    """The stored config of the run at `run_dir`; flags equal to it pass, `epochs`/`iwae_k` may change."""
    from playground.runs.resume import resume_config as stored

    return stored(RunDir.open(run_dir), VAEConfig, requested, RESUMABLE)


def main(argv: list[str] | None = None) -> int:
    """`python -m playground.vae.train ARGS` is `python -m playground vae train ARGS`: one parser for both."""
    from playground.cli import main as cli_main

    return cli_main(["vae", "train", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
