"""The training loop of an image run: steps, metrics lines, sample grids, scores, checkpoints, status, stop.

Rank 0 writes everything; the other ranks only train. A stop (STOP file, SIGTERM, Ctrl-C) reaches every rank
through an all-reduce, checked every step (every 10 under torchrun). Evaluation runs on rank 0 alone, with
metrics that never synchronise across ranks, and all ranks meet at a barrier before they leave, so a
distributed run ends only after rank 0 has scored and checkpointed it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from playground.images.device import device_info
from playground.images.signals import stop_on_signals
from playground.runs import states

# The likelihood numbers a family's summary carries (likelihood.py): exact for pixelcnn, bounds for the VAE.
LIKELIHOOD_KEYS = {"gan": (), "denoiser": (), "pixelcnn": ("test_nll_nats", "test_nll_bits_per_dim",
                                                 "test_marginal_nll_nats", "test_marginal_nll_bits_per_dim"),
                   "vae": ("elbo_nats", "iwae_nats")}


def _stop_wanted(tr, signalled: bool) -> bool:
    local = signalled or (tr.main and tr.run.stop_requested())
    if tr.dist is None:
        return local
    flag = torch.tensor([1.0 if local else 0.0], device=tr.device)
    tr.dist.all_reduce(flag)
    return bool(flag.item() > 0)


def fit(tr, on_step: Callable | None = None) -> dict:
    """Train `tr` (a Trainer) to cfg.steps or until a stop request; returns the final summary."""
    with stop_on_signals(tr.main) as flag:
        try:
            return _fit(tr, on_step, flag)
        except BaseException as e:
            tr.fail(e)
            raise


def _start(tr) -> None:
    cfg, run = tr.cfg, tr.run
    if tr.resuming:
        run.truncate_metrics(tr.step)                 # what came after the checkpoint is trained again
        run.drop_samples_after(tr.step)
        run.clear_stop()
        tr.log(f"resumed from step {tr.step}" if tr.step else "resumed from step 0 (no checkpoint had been written)")
    amp = str(tr.amp_dtype).replace("torch.", "") if tr.amp_dtype else None
    run.write_status(state=states.RUNNING, phase="training", step=tr.step, total_steps=cfg.steps,
                     device=device_info(tr.device), world_size=tr.world, resolution=tr.resolution,
                     channels=tr.channels, started=time.time(), error=None, amp=amp, channels_last=tr.channels_last,
                     loss=cfg.loss)
    tr.log(f"training {cfg.model}" + (f" ({cfg.loss})" if cfg.loss else "") + f" on {cfg.dataset} ({tr.n_data} "
           f"images, {tr.resolution}px, {tr.channels}ch) on {device_info(tr.device)} x{tr.world}, steps "
           f"{tr.step}->{cfg.steps}")


def _fit(tr, on_step, flag) -> dict:
    cfg, run = tr.cfg, tr.run
    start_step = tr.step
    if tr.main:
        _start(tr)
    imgs_per_step = cfg.batch_size * tr.world * (cfg.d_steps if cfg.is_gan else 1)
    t_last_status = 0.0
    rate = None
    window_t0, window_steps = time.perf_counter(), 0
    state = states.COMPLETED
    check_every = 1 if tr.dist is None else 10
    t_run0 = time.perf_counter()
    while tr.step < cfg.steps:
        if tr.step % check_every == 0 and tr.step > start_step and _stop_wanted(tr, flag.raised):
            state = states.STOPPED
            break
        t0 = time.perf_counter()
        losses = tr.train_step()
        for k, v in losses.items():
            tr.acc[k] = tr.acc[k] + v if k in tr.acc else v.clone()
        tr.acc_n += 1
        window_steps += 1
        tr.train_seconds += time.perf_counter() - t0
        if on_step is not None:
            on_step(tr)
        if not tr.main:
            continue
        s = tr.step
        if s % cfg.log_every == 0:
            row = {"step": s, **{k: float(v) / tr.acc_n for k, v in tr.acc.items()}}
            tr.acc, tr.acc_n = {}, 0
            now = time.perf_counter()
            dt = now - window_t0
            if dt > 0:
                r = window_steps / dt
                rate = r if rate is None else 0.7 * rate + 0.3 * r
                row["steps_per_sec"] = round(r, 3)
                row["images_per_sec"] = round(r * imgs_per_step, 1)
            window_t0, window_steps = now, 0
            row["time"] = round(time.time(), 3)
            run.append_metrics(row)
        if s % cfg.sample_every == 0 or s == cfg.steps:
            tr.save_samples()
        if cfg.eval_every and s % cfg.eval_every == 0 and s != cfg.steps:
            _evaluate_and_record(tr)
        if s % cfg.checkpoint_every == 0 and s != cfg.steps:
            tr.save_checkpoint()
        now = time.perf_counter()
        if now - t_last_status > 0.5 or s == cfg.steps:
            eta = (cfg.steps - s) / rate if rate else None
            run.write_status(step=s, eta_s=round(eta, 1) if eta is not None else None,
                             steps_per_sec=round(rate, 3) if rate else None,
                             images_per_sec=round(rate * imgs_per_step, 1) if rate else None)
            t_last_status = now
    if state == states.COMPLETED and tr.main and cfg.final_eval:
        _evaluate_and_record(tr, final=True)
    seconds = time.perf_counter() - t_run0
    ips = (tr.step - start_step) * imgs_per_step / max(1e-9, seconds)
    if tr.main:
        if tr.step % cfg.sample_every and state == states.STOPPED:
            tr.save_samples()
        tr.save_checkpoint(best=False)
        if state == states.STOPPED:
            run.clear_stop()                          # honoured
        run.write_status(state=state, step=tr.step, eta_s=0 if state == states.COMPLETED else None, phase=None,
                         finished=time.time(), images_per_sec=round(ips, 1))
        tr.log(f"{state} at step {tr.step}")
    if tr.dist is not None:
        tr.dist.barrier()                             # the others wait for rank 0's scores and checkpoint
    sc = tr.last_scores or {}
    return {"run_dir": str(run.path), "state": state, "steps": tr.step, "seconds": round(seconds, 3),
            "images_per_sec": round(ips, 1), "train_seconds": round(tr.train_seconds, 3),
            "device": device_info(tr.device), "world_size": tr.world, "resolution": tr.resolution,
            "loss": cfg.loss, "fid": sc.get("fid"), "kid": sc.get("kid"), "precision": sc.get("precision"),
            "recall": sc.get("recall"), "fid_features": sc.get("fid_features"),
            "feature_accuracy": sc.get("feature_accuracy"), "is": sc.get("is"), "is_features": sc.get("is_features"),
            **{k: sc.get(k) for k in LIKELIHOOD_KEYS[cfg.family]},
            "resumed_from": start_step if tr.resuming else None}


def _evaluate_and_record(tr, final: bool = False) -> None:
    run = tr.run

    def progress(text: str) -> None:
        run.write_status(phase=f"evaluating: {text}")

    scores = tr.evaluate(progress, final)
    run.append_metrics({"step": tr.step, **scores, "final": final})
    extra = "".join(f", {k} {scores[k]:.3f}" for k in ("is", *LIKELIHOOD_KEYS[tr.cfg.family])
                    if scores.get(k) is not None)
    tr.log(f"step {tr.step}: FID {scores['fid']:.3f}, KID {scores['kid']:.4f}, precision "
           f"{scores['precision']:.3f}, recall {scores['recall']:.3f}{extra} [{scores['fid_features']}]")
    if tr.best_fid is None or scores["fid"] < tr.best_fid:
        tr.best_fid = scores["fid"]
        tr.save_checkpoint(best=True)
    run.write_status(phase="training", fid=scores["fid"], kid=scores["kid"], best_fid=tr.best_fid,
                     fid_features=scores["fid_features"], **{"is": scores.get("is")},
                     **{k: scores.get(k) for k in (*LIKELIHOOD_KEYS[tr.cfg.family], "likelihood_split")
                        if k in scores})   # the runs list and the likelihood table show them
