"""The image-model trainer: one process, or N under torchrun with DistributedDataParallel, one run directory.

    python -m playground.images.train --dataset digits --model dcgan --steps 2000 --out runs/demo
    torchrun --nproc_per_node=2 -m playground.images.train --dataset digits --model dcgan --out runs/ddp
    python -m playground.images.train --resume runs/demo            # continue from checkpoints/latest.pt

Determinism: the data indices and noise of step t on rank r come from a generator reseeded with
(seed, rank, t), so a resumed run draws exactly what the uninterrupted run drew; with the weights,
optimiser moments, EMA and loss-scaler state restored from the checkpoint, a resumed CPU run is bit-for-bit
the uninterrupted one. Evaluation uses its own generators and never touches the training state.
Only rank 0 writes to the run directory; the stop request reaches the other ranks through an all-reduce.
"""

from __future__ import annotations

import argparse
import copy
import os
import signal
import socket
import sys
import time
import traceback
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable

import torch

from playground.configs import add_arguments, from_args, from_dict, to_dict
from playground.errors import PlaygroundError
from playground.numerics import dumps
from playground.images import models as M
from playground.images.config import PRESETS, ImageRunConfig, resolve_resolution
from playground.images.rundir import RunDir, atomic_write_json, load_checkpoint, new_run_name, save_checkpoint

GRID = 64                 # images in each sample grid
EVAL_SEED = 0x5EED        # noise of every evaluation (same noise each time: scores track the weights only)


def _mix(*parts: int) -> int:
    """splitmix64 of the parts: well-spread 63-bit seeds for (seed, rank, step)."""
    x = 0x9E3779B97F4A7C15
    for p in parts:
        x = (x ^ (int(p) & 0xFFFFFFFFFFFFFFFF)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 31
    return x & 0x7FFFFFFFFFFFFFFF


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            name = "mps"
        else:
            name = "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise PlaygroundError("device cuda requested but no CUDA GPU is available (use --device auto or cpu)")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if name == "mps":
        if not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
            raise PlaygroundError("device mps requested but Apple's MPS is not available here")
        return torch.device("mps")
    return torch.device("cpu")


def device_info(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda:{device.index} ({torch.cuda.get_device_name(device)})"
    return device.type


def load_training_data(cfg: ImageRunConfig, split: str = "train", resolution: int | None = None):
    from playground.data import load_dataset

    ds = load_dataset(cfg.dataset, split=split, resolution=resolution, data_root=cfg.data_root, seed=0)
    if len(ds) < 2:
        raise PlaygroundError(f"dataset {cfg.dataset} has {len(ds)} image(s) in split {split}; need at least 2")
    return ds


def adam(params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    """Adam, fused (one kernel over all tensors; on CPU 2.5x faster than the default per-tensor loop on these
    small nets) where this torch build supports it for the parameters' device."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr, betas=betas, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr, betas=betas)


class Trainer:
    """Trains one run. `dataset` (an ImageDataset) may be given directly (tests); otherwise it is loaded."""

    def __init__(self, cfg: ImageRunConfig, run_dir: str | Path, *, resume: bool = False, dataset: Any = None,
                 quiet: bool = True):
        self.cfg = cfg
        self.quiet = quiet
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.main = self.rank == 0
        self.dist = None
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.device = pick_device(cfg.device, self.local_rank)
        if self.world > 1:
            import datetime

            import torch.distributed as dist

            if not dist.is_initialized():
                backend = "nccl" if self.device.type == "cuda" else "gloo"
                if self.device.type == "cuda":
                    torch.cuda.set_device(self.device)
                dist.init_process_group(backend, timeout=datetime.timedelta(minutes=10))
            self.dist = dist
        self.run = RunDir(run_dir)
        if self.main:
            if resume:
                self.run = RunDir.open(run_dir)
                self.run.remove_temp_files()                # left by a process killed mid-write
                if self.run.config() != to_dict(cfg):       # e.g. more steps: config.json follows
                    atomic_write_json(self.run.config_path, to_dict(cfg))
            else:
                self.run = RunDir.create(run_dir, to_dict(cfg))
        self._setup(dataset, resume)

    # ------------------------------------------------------------------ set-up
    def _setup(self, dataset: Any, resume: bool) -> None:
        cfg, dev = self.cfg, self.device
        if dataset is None:
            native = load_training_data(cfg)
            res = resolve_resolution(cfg.resolution, native.resolution)
            dataset = native if native.resolution == res else load_training_data(cfg, resolution=res)
        self.dataset = dataset
        self.resolution = resolve_resolution(cfg.resolution, int(dataset.images.shape[-1]))
        images = dataset.images
        if images.shape[-1] != self.resolution or images.shape[-2] != self.resolution:
            from playground.data import resize_images

            images = resize_images(images, self.resolution)
        self.channels = int(images.shape[1])
        self.n_data = int(images.shape[0])
        self.reference = images                          # [0, 1], CPU: the scores' reference set
        self.cuda = dev.type == "cuda"
        self.channels_last = self.cuda and cfg.channels_last
        self.memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        # Small datasets live on the device as one tensor; big ones as uint8 there (4x smaller).
        big = images.numel() > 50_000_000
        data = (images * 255).round().to(torch.uint8) if big else images.float()
        self.data = data.to(dev).contiguous(memory_format=self.memory_format)
        self.data_uint8 = big

        torch.manual_seed(cfg.seed)                      # weight initialisation (identical on every rank)
        self.nets = M.build_for(cfg, self.channels, self.resolution)
        for net in self.nets.values():
            net.to(dev, memory_format=self.memory_format)
        self.generator = M.generator_of(cfg.model, self.nets)
        self.ema = copy.deepcopy(self.generator).eval().requires_grad_(False) if cfg.ema_decay > 0 else None
        # Tensor lists walked every step, gathered once (module traversal costs ~0.5 ms a step on small nets).
        if self.ema is not None:
            self._ema_params = (list(self.ema.parameters()), list(self.generator.parameters()))
            self._ema_buffers = list(zip(self.ema.buffers(), self.generator.buffers()))
        self._d_params = list(self.nets["D"].parameters()) if cfg.is_gan else []
        betas = (cfg.beta1, cfg.beta2)
        if cfg.is_gan:
            self.opts = {"G": adam(self.nets["G"].parameters(), cfg.g_lr, betas),
                         "D": adam(self.nets["D"].parameters(), cfg.d_lr, betas)}
        else:
            self.opts = {"vae": adam(self.nets["vae"].parameters(), cfg.g_lr, betas)}

        # Mixed precision on CUDA: bfloat16 where supported (no loss scaling), else float16 with GradScalers.
        self.amp_dtype = None
        if self.cuda and cfg.amp:
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        fp16 = self.amp_dtype == torch.float16
        self.scalers = {k: torch.amp.GradScaler("cuda", enabled=fp16) for k in self.opts}

        # DistributedDataParallel wrappers for the updates that need gradient averaging.
        self.train_nets = dict(self.nets)
        if self.dist is not None:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [dev.index] if self.cuda else None
            self.train_nets = {k: DDP(v, device_ids=ids, broadcast_buffers=False) for k, v in self.nets.items()}

        self.gen = torch.Generator(device=dev)          # reseeded every step from (seed, rank, step)
        self.fixed_z = M.noise(GRID, cfg.z_dim, torch.Generator().manual_seed(cfg.seed + 1)).to(dev)
        self.step = 0
        self.best_fid: float | None = None
        self.last_scores: dict | None = None
        self.acc: dict[str, torch.Tensor] = {}
        self.acc_n = 0
        self.train_seconds = 0.0
        self.scorer = None
        if resume:
            self._load(load_checkpoint(self.run.latest_path))

    # ------------------------------------------------------------------ random draws
    def _reseed(self) -> None:
        self.gen.manual_seed(_mix(self.cfg.seed, self.rank, self.step))

    def _real_batch(self, unit: bool = False) -> torch.Tensor:
        idx = torch.randint(0, self.n_data, (self.cfg.batch,), generator=self.gen, device=self.device)
        x = self.data[idx]
        x = x.float() / 255.0 if self.data_uint8 else x
        if not unit:
            x = x * 2.0 - 1.0
        return x.contiguous(memory_format=self.memory_format)

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.z_dim, generator=self.gen, device=self.device)

    def _autocast(self):
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast("cuda", dtype=self.amp_dtype)

    def _update(self, name: str, loss: torch.Tensor) -> None:
        opt, scaler = self.opts[name], self.scalers[name]
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    # ------------------------------------------------------------------ one training step
    def train_step(self) -> dict[str, torch.Tensor]:
        self._reseed()
        if self.cfg.is_gan:
            out = self._gan_step()
        else:
            out = self._vae_step()
        self._ema_update()
        self.step += 1
        return out

    def _gan_step(self) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        G, D = self.train_nets["G"], self.train_nets["D"]
        G_raw, D_raw = self.nets["G"], self.nets["D"]
        d_loss_fn, g_loss_fn = M.LOSSES[cfg.model]
        B = cfg.batch
        fake = None
        out: dict[str, torch.Tensor] = {}
        self._d_requires_grad(True)
        for i in range(cfg.d_steps):
            real = self._real_batch()
            z = self._noise(B)
            if cfg.d_steps == 1:
                with self._autocast():                # one G forward serves the D and the G update (DCGAN)
                    fake = G(z)
                fake_d = fake.detach()
            else:
                with torch.no_grad(), self._autocast():
                    fake_d = G_raw(z)
            if cfg.model == "wgan_gp":
                d_loss, gp, d_real, d_fake = self._wgan_gp_d(D, real, fake_d)
                out["gp"] = gp.detach()
            else:
                with self._autocast():
                    d_real = D(real).float()
                    d_fake = D(fake_d).float()
                    d_loss = d_loss_fn(d_real, d_fake)
            self._update("D", d_loss)
        out["d_loss"] = d_loss.detach()
        out["d_real"] = d_real.detach().mean()
        out["d_fake"] = d_fake.detach().mean()
        # Generator update through the plain D (its weights frozen): no DDP reduction of D's gradients.
        self._d_requires_grad(False)
        if fake is None:
            with self._autocast():
                fake = G(self._noise(B))
        with self._autocast():
            g_loss = g_loss_fn(D_raw(fake).float())
        self._update("G", g_loss)
        self._d_requires_grad(True)
        out["g_loss"] = g_loss.detach()
        return out

    def _d_requires_grad(self, flag: bool) -> None:
        for p in self._d_params:
            p.requires_grad_(flag)

    def _wgan_gp_d(self, D, real: torch.Tensor, fake: torch.Tensor):
        """Critic loss with the gradient penalty, in one critic forward over [real, fake, interpolates]."""
        B = real.shape[0]
        alpha = torch.rand(B, 1, 1, 1, generator=self.gen, device=self.device)
        interp = (alpha * real + (1 - alpha) * fake.float()).detach().requires_grad_(True)
        x = torch.cat([real, fake.to(real.dtype), interp]).contiguous(memory_format=self.memory_format)
        with self._autocast():
            scores = D(x).float()
        d_real, d_fake, d_interp = scores[:B], scores[B:2 * B], scores[2 * B:]
        scaler = self.scalers["D"]
        if scaler.is_enabled():                       # float16: differentiate the scaled output, then unscale
            (g,) = torch.autograd.grad(scaler.scale(d_interp.sum()), interp, create_graph=True)
            g = g / scaler.get_scale()
        else:
            (g,) = torch.autograd.grad(d_interp.sum(), interp, create_graph=True)
        gp = (g.float().flatten(1).norm(dim=1) - 1.0).pow(2).mean()
        loss = M.wgan_d_loss(d_real, d_fake) + self.cfg.gp_weight * gp
        return loss, gp, d_real, d_fake

    def _vae_step(self) -> dict[str, torch.Tensor]:
        x = self._real_batch(unit=True)
        eps = self._noise(x.shape[0])
        with self._autocast():
            logits, mu, logvar = self.train_nets["vae"](x, eps)
        loss, rec, kl = M.vae_loss(logits, x, mu, logvar, self.cfg.kl_weight)
        self._update("vae", loss)
        return {"loss": loss.detach(), "rec": rec.detach(), "kl": kl.detach()}

    @torch.no_grad()
    def _ema_update(self) -> None:
        if self.ema is None:
            return
        decay = min(self.cfg.ema_decay, (1.0 + self.step) / (10.0 + self.step))
        ema_p, live_p = self._ema_params
        torch._foreach_lerp_(ema_p, [p.detach() for p in live_p], 1.0 - decay)
        for b_ema, b in self._ema_buffers:
            b_ema.copy_(b)

    # ------------------------------------------------------------------ sampling and scores
    def sampler(self) -> torch.nn.Module:
        return self.ema if self.ema is not None else self.generator

    @torch.no_grad()
    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] (CPU) from noise z, with the EMA generator in eval mode."""
        net = self.sampler()
        was = net.training
        net.eval()
        out = []
        for i in range(0, len(z), 500):
            out.append(M.to_unit(self.cfg.model, net(z[i:i + 500].to(self.device))).cpu())
        net.train(was)
        return torch.cat(out)

    def save_samples(self) -> None:
        self.run.save_samples(self.step, self.generate(self.fixed_z).numpy())

    def evaluate(self, progress: Callable[[str], None] | None = None) -> dict:
        from playground.images.metrics import Scorer, make_extractor

        cfg = self.cfg
        if self.scorer is None:
            if progress:
                progress("preparing the feature extractor")

            def load(split: str):
                return load_training_data(cfg, split, self.resolution)

            ex = make_extractor(cfg.features, cfg.dataset, self.resolution, self.channels, data_root=cfg.data_root,
                                load=load, device=self.device, log=self._log)
            self.scorer = Scorer(ex, self.reference)
        g = torch.Generator().manual_seed(EVAL_SEED + cfg.seed)
        z = M.noise(cfg.eval_samples, cfg.z_dim, g)
        if progress:
            progress(f"generating {cfg.eval_samples} images")
        fake = self.generate(z)
        if progress:
            progress("computing FID/KID/precision/recall")
        scores = self.scorer.score(fake)
        self.last_scores = scores
        return scores

    # ------------------------------------------------------------------ checkpoints
    def state(self) -> dict:
        return {
            "config": to_dict(self.cfg), "step": self.step, "resolution": self.resolution,
            "channels": self.channels, "nets": {k: v.state_dict() for k, v in self.nets.items()},
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "opts": {k: v.state_dict() for k, v in self.opts.items()},
            "scalers": {k: v.state_dict() for k, v in self.scalers.items()},
            "acc": {k: v.detach().cpu() for k, v in self.acc.items()}, "acc_n": self.acc_n,
            "best_fid": self.best_fid, "train_seconds": self.train_seconds,
            "rng": {"torch": torch.get_rng_state(), "gen": self.gen.get_state(),
                    "cuda": torch.cuda.get_rng_state(self.device) if self.cuda else None},
            "versions": {"torch": str(torch.__version__), "python": sys.version.split()[0]},
            "world_size": self.world,
        }

    def _load(self, ck: dict) -> None:
        if ck.get("config", {}).get("model") != self.cfg.model:
            raise PlaygroundError("the checkpoint was written for another model than this run's config")
        try:
            for k, v in self.nets.items():
                v.load_state_dict(ck["nets"][k])
            if self.ema is not None and ck.get("ema") is not None:
                self.ema.load_state_dict(ck["ema"])
            for k, v in self.opts.items():
                v.load_state_dict(ck["opts"][k])
            for k, v in self.scalers.items():
                if ck.get("scalers", {}).get(k):
                    v.load_state_dict(ck["scalers"][k])
        except (KeyError, RuntimeError) as e:
            raise PlaygroundError(f"the checkpoint does not fit this run's networks: {str(e).splitlines()[0]}"
                                  ) from None
        self.step = int(ck["step"])
        self.acc = {k: v.to(self.device) for k, v in ck.get("acc", {}).items()}
        self.acc_n = int(ck.get("acc_n", 0))
        self.best_fid = ck.get("best_fid")
        self.train_seconds = float(ck.get("train_seconds", 0.0))
        torch.set_rng_state(ck["rng"]["torch"])
        if self.cuda and ck["rng"].get("cuda") is not None:
            torch.cuda.set_rng_state(ck["rng"]["cuda"], self.device)

    def save_checkpoint(self, best: bool = False) -> None:
        state = self.state()
        save_checkpoint(self.run.latest_path, state)
        if best:
            save_checkpoint(self.run.best_path, state)
        self.run.write_status(checkpoint_step=self.step)

    # ------------------------------------------------------------------ the loop
    def _log(self, msg: str) -> None:
        if self.main:
            self.run.log(msg)
            if not self.quiet:
                print(msg, file=sys.stderr, flush=True)

    def _stop_wanted(self) -> bool:
        local = self._signal_stop or (self.main and self.run.stop_requested())
        if self.dist is None:
            return local
        flag = torch.tensor([1.0 if local else 0.0], device=self.device)
        self.dist.all_reduce(flag)
        return bool(flag.item() > 0)

    def _on_signal(self, signum, frame) -> None:  # noqa: ARG002
        self._signal_stop = True

    def fit(self, on_step: Callable[["Trainer"], None] | None = None) -> dict:
        """Train to cfg.steps (or until a stop request); returns the final summary."""
        cfg, run = self.cfg, self.run
        self._signal_stop = False
        previous = {}
        if self.main and threading_is_main():       # SIGTERM / Ctrl-C: finish the step, checkpoint, `stopped`
            for s in (signal.SIGTERM, signal.SIGINT):
                try:
                    previous[s] = signal.signal(s, self._on_signal)
                except (ValueError, OSError):
                    pass
        try:
            return self._fit(on_step)
        finally:
            for s, h in previous.items():
                signal.signal(s, h)

    def _fit(self, on_step: Callable[["Trainer"], None] | None) -> dict:
        cfg, run = self.cfg, self.run
        start_step = self.step
        resumed = start_step > 0
        if self.main:
            if resumed:
                run.truncate_metrics(start_step)
                run.drop_samples_after(start_step)
                self._log(f"resumed from step {start_step}")
            run.clear_stop()
            run.write_status(state="running", step=self.step, total_steps=cfg.steps, pid=os.getpid(),
                             host=socket.gethostname(), device=device_info(self.device), world_size=self.world,
                             resolution=self.resolution, channels=self.channels, started=time.time(),
                             error=None, phase="training", amp=str(self.amp_dtype).replace("torch.", "")
                             if self.amp_dtype else None, channels_last=self.channels_last)
            self._log(f"training {cfg.model} on {cfg.dataset} ({self.n_data} images, {self.resolution}px, "
                      f"{self.channels}ch) on {device_info(self.device)} x{self.world}, steps {self.step}->{cfg.steps}")
        imgs_per_step = cfg.batch * self.world * (cfg.d_steps if cfg.is_gan else 1)
        t_last_status = 0.0
        rate = None
        window_t0, window_steps = time.perf_counter(), 0
        state = "completed"
        check_every = 1 if self.dist is None else 10
        t_run0 = time.perf_counter()
        try:
            while self.step < cfg.steps:
                if self.step % check_every == 0 and self.step > start_step and self._stop_wanted():
                    state = "stopped"
                    break
                t0 = time.perf_counter()
                losses = self.train_step()
                for k, v in losses.items():
                    self.acc[k] = self.acc[k] + v if k in self.acc else v.clone()
                self.acc_n += 1
                window_steps += 1
                self.train_seconds += time.perf_counter() - t0
                if on_step is not None:
                    on_step(self)
                if not self.main:
                    continue
                s = self.step
                if s % cfg.log_every == 0:
                    row = {"step": s, **{k: float(v) / self.acc_n for k, v in self.acc.items()}}
                    self.acc, self.acc_n = {}, 0
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
                    self.save_samples()
                if cfg.eval_every and s % cfg.eval_every == 0 and s != cfg.steps:
                    self._evaluate_and_record()
                if s % cfg.checkpoint_every == 0 and s != cfg.steps:
                    self.save_checkpoint()
                now = time.perf_counter()
                if now - t_last_status > 0.5 or s == cfg.steps:
                    eta = (cfg.steps - s) / rate if rate else None
                    run.write_status(step=s, eta_s=round(eta, 1) if eta is not None else None,
                                     steps_per_sec=round(rate, 3) if rate else None,
                                     images_per_sec=round(rate * imgs_per_step, 1) if rate else None)
                    t_last_status = now
            if state == "completed" and self.main and cfg.final_eval:
                self._evaluate_and_record(final=True)
        except BaseException as e:
            if self.main:
                msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                if not isinstance(e, PlaygroundError):
                    msg = f"{type(e).__name__}: {msg}"
                    run.log(traceback.format_exc())
                run.write_status(state="failed", error=msg[:500], phase=None, pid=os.getpid())
                self._log(f"failed at step {self.step}: {msg}")
            raise
        seconds = time.perf_counter() - t_run0
        if self.main:
            if self.step % cfg.sample_every and state == "stopped":
                self.save_samples()
            self.save_checkpoint(best=False)
            ips = (self.step - start_step) * imgs_per_step / max(1e-9, seconds)
            run.write_status(state=state, step=self.step, eta_s=0 if state == "completed" else None, phase=None,
                             finished=time.time(), images_per_sec=round(ips, 1))
            self._log(f"{state} at step {self.step}")
        sc = self.last_scores or {}
        return {"run_dir": str(run.path), "state": state, "steps": self.step, "seconds": round(seconds, 3),
                "images_per_sec": round((self.step - start_step) * imgs_per_step / max(1e-9, seconds), 1),
                "train_seconds": round(self.train_seconds, 3), "device": device_info(self.device),
                "world_size": self.world, "resolution": self.resolution, "fid": sc.get("fid"), "kid": sc.get("kid"),
                "precision": sc.get("precision"), "recall": sc.get("recall"),
                "fid_features": sc.get("fid_features"), "feature_accuracy": sc.get("feature_accuracy"),
                "resumed_from": start_step if resumed else None}

    def _evaluate_and_record(self, final: bool = False) -> None:
        run = self.run

        def progress(text: str) -> None:
            run.write_status(phase=f"evaluating: {text}")

        scores = self.evaluate(progress)
        run.append_metrics({"step": self.step, **{k: v for k, v in scores.items()}, "final": final})
        self._log(f"step {self.step}: FID {scores['fid']:.3f}, KID {scores['kid']:.4f}, precision "
                  f"{scores['precision']:.3f}, recall {scores['recall']:.3f} [{scores['fid_features']}]")
        improved = self.best_fid is None or scores["fid"] < self.best_fid
        if improved:
            self.best_fid = scores["fid"]
            self.save_checkpoint(best=True)
        run.write_status(phase="training", fid=scores["fid"], kid=scores["kid"], best_fid=self.best_fid,
                         fid_features=scores["fid_features"])

    def close(self) -> None:
        if self.dist is not None and self.dist.is_initialized():
            self.dist.destroy_process_group()


def threading_is_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


# ------------------------------------------------------------------ entry points
def config_for_resume(run_dir: str | Path, overrides: dict | None = None) -> ImageRunConfig:
    """The run's own config; only `steps` (train longer) and hardware settings may change on resume."""
    run = RunDir.open(run_dir)
    data = run.config()
    allowed = {"steps", "device", "threads", "amp", "channels_last"}
    for k, v in (overrides or {}).items():
        if k not in allowed:
            raise PlaygroundError(f"--{k.replace('_', '-')} cannot change when resuming (only "
                                  f"{', '.join(sorted(allowed))})")
        data[k] = v
    return from_dict(ImageRunConfig, data)


def train(cfg: ImageRunConfig, out: str | Path | None = None, *, resume: str | Path | None = None,
          dataset: Any = None, quiet: bool = True, on_step: Callable | None = None) -> dict:
    """Train a new run at `out` (default runs_dir/<name>), or resume the run at `resume`."""
    if resume is not None:
        run_dir = Path(resume)
        if not RunDir(run_dir).latest_path.exists():
            RunDir.open(run_dir)          # a clear error if it is not a run at all
            raise PlaygroundError(f"{run_dir} has no checkpoint to resume from (checkpoints/latest.pt)")
    else:
        run_dir = Path(out) if out else Path(cfg.runs_dir) / new_run_name(to_dict(cfg))
    trainer = Trainer(cfg, run_dir, resume=resume is not None, dataset=dataset, quiet=quiet)
    try:
        return trainer.fit(on_step=on_step)
    finally:
        trainer.close()


def build_parser() -> argparse.ArgumentParser:
    from playground.cli import OneLineParser

    p = OneLineParser(prog="python -m playground.images.train", description=__doc__,
                      formatter_class=argparse.RawDescriptionHelpFormatter)
    add_train_arguments(p)
    return p


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    add_arguments(p, ImageRunConfig)
    p.add_argument("--out", help="run directory to create (default: RUNS_DIR/<dataset>-<model>-<time>)")
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its latest checkpoint")
    p.add_argument("--preset", choices=sorted(PRESETS), help="start from a known-good preset")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")


def run_from_args(args: argparse.Namespace) -> dict:
    given = {f: getattr(args, f) for f in to_dict(ImageRunConfig()) if getattr(args, f, None) is not None}
    if args.resume:
        cfg = config_for_resume(args.resume, given)
        return train(cfg, resume=args.resume, quiet=args.json)
    base = from_dict(ImageRunConfig, PRESETS[args.preset].overrides) if args.preset else None
    cfg = from_args(ImageRunConfig, args, base)
    return train(cfg, args.out, quiet=args.json)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rank0 = int(os.environ.get("RANK", "0")) == 0
    try:
        result = run_from_args(args)
    except PlaygroundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if rank0:
        if args.json:
            print(dumps(result))
        else:
            for k, v in result.items():
                print(f"{k}: {v}")
    return 0 if result["state"] in ("completed", "stopped") else 1


if __name__ == "__main__":
    sys.exit(main())
