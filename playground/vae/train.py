"""Training a VAE: epochs of Adam on the negative beta-ELBO, progress callbacks, run directories, resumption.

Batches and noise are drawn from generators seeded by (seed, epoch), so a run resumed from its checkpoint
continues exactly as if it had never stopped.
"""

from __future__ import annotations

import dataclasses
import os
import time
import traceback
from pathlib import Path
from typing import Callable

import torch

from playground.configs import to_dict
from playground.data import ImageDataset, load_dataset
from playground.errors import PlaygroundError
from playground.vae import runs
from playground.vae.checkpoint import model_from_checkpoint, read_checkpoint, save_checkpoint
from playground.vae.config import VAEConfig
from playground.vae.metrics import evaluate
from playground.vae.model import VAE, build_model, count_parameters

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


def train(cfg: VAEConfig, out: str | Path | None = None, *, progress: Progress | None = None, resume: bool = True,
          data: tuple[ImageDataset, ImageDataset] | None = None, final_eval: bool = True) -> dict:
    """Train (or resume) and evaluate. With `out`, writes the run directory as it goes.

    progress(info) is called after every epoch; returning False stops the run (as does a STOP file in `out`).
    Returns the final metrics with `seconds`, `epochs`, `params` and (with `out`) `checkpoint`.
    """
    cfg.validate()
    t_start = time.perf_counter()
    run = Path(out) if out else None
    if run is not None:
        run.mkdir(parents=True, exist_ok=True)
        (run / runs.STOP).unlink(missing_ok=True)
        runs.write_json_atomic(run / runs.CONFIG, to_dict(cfg))
        runs.write_status(run, state="loading", epoch=0, epochs=cfg.epochs, pid=os.getpid(), message="")
    try:
        return _train(cfg, run, progress, resume, data, final_eval, t_start)
    except PlaygroundError as e:
        if run is not None:
            runs.write_status(run, state="failed", message=str(e))
        raise
    except Exception as e:
        if run is not None:
            runs.write_status(run, state="failed", message=f"{type(e).__name__}: {e}")
            runs.log(run, traceback.format_exc())
        raise


def _train(cfg, run, progress, resume, data, final_eval, t_start) -> dict:
    train_ds, test_ds = data if data is not None else load_data(cfg)
    model = build_model(cfg, train_ds.shape, train_ds.num_classes)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    start_epoch, step = 0, 0
    ckpt_path = run / runs.CHECKPOINT if run is not None else None
    if ckpt_path is not None and resume and ckpt_path.exists():
        ckpt = read_checkpoint(ckpt_path)
        old = ckpt.get("config", {})
        differ = sorted(k for k, v in to_dict(cfg).items() if k not in RESUMABLE and old.get(k) != v)
        if differ:
            raise PlaygroundError(f"{run} holds a run with different settings ({', '.join(differ)}); "
                                  "choose a new --out or pass --no-resume")
        model = model_from_checkpoint(ckpt, ckpt_path.name)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        if "optimizer" in ckpt:
            opt.load_state_dict(ckpt["optimizer"])
        start_epoch, step = int(ckpt["epoch"]), int(ckpt.get("step", 0))
        runs.log(run, f"resumed from epoch {start_epoch}")
    if run is not None:
        if start_epoch == 0:
            (run / runs.METRICS).unlink(missing_ok=True)
        runs.write_status(run, state="running", epoch=start_epoch, epochs=cfg.epochs, step=step,
                          params=count_parameters(model), started=time.time())
        runs.log(run, f"training {cfg.dataset} latent={cfg.latent} beta={cfg.beta} from epoch {start_epoch}")
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
            if run is not None and b % 20 == 19 and runs.stop_requested(run):
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
            runs.append_metrics(run, row)
            now = time.perf_counter()
            if now - last_save > 10 or epoch == cfg.epochs:
                save_checkpoint(ckpt_path, model, optimizer=opt, epoch=epoch, step=step)
                last_save = now
            runs.write_status(run, state="running", epoch=epoch, step=step, last=row)
        if progress is not None and progress({**row, "epochs": cfg.epochs}) is False:
            stopped = True
            break
        if run is not None and runs.stop_requested(run):
            stopped = True
            break
    if run is not None and (stopped or epoch < cfg.epochs or not ckpt_path.exists()):
        save_checkpoint(ckpt_path, model, optimizer=opt, epoch=epoch, step=step)
    train_seconds = time.perf_counter() - t_start
    result: dict = {"epochs": epoch, "steps": step, "stopped": stopped, "params": count_parameters(model)}
    if final_eval:
        if run is not None:
            runs.write_status(run, state="evaluating")
        result.update(evaluate(model, test_ds.images, test_ds.labels, k=cfg.iwae_k, seed=cfg.seed,
                               factors=test_ds.factors))
    result["train_seconds"] = round(train_seconds, 3)
    result["seconds"] = round(time.perf_counter() - t_start, 3)
    if run is not None:
        save_checkpoint(ckpt_path, model, optimizer=opt, epoch=epoch, step=step, metrics=result)
        result["checkpoint"] = str(ckpt_path)
        result["out"] = str(run)
        runs.write_status(run, state="stopped" if stopped else "done", epoch=epoch, result=result)
        runs.log(run, f"finished: {result.get('test_elbo')} test ELBO")
    result["config"] = to_dict(cfg)
    result["model"] = model
    return result


def replace(cfg: VAEConfig, **changes) -> VAEConfig:
    new = dataclasses.replace(cfg, **changes)
    new.validate()
    return new
