"""The image trainer: one process, or N under torchrun with DistributedDataParallel, writing one run directory.

Determinism: the data indices and noise of step t on rank r come from a generator reseeded with
(seed, rank, t), so a resumed run draws exactly what the uninterrupted run drew; with the weights,
optimiser moments, EMA and loss-scaler state restored from the checkpoint, a resumed CPU run is bit-for-bit
the uninterrupted one. Evaluation uses its own generators and never touches the training state.
Only rank 0 writes to the run directory (under its writer lock); the loop is in loop.py, the steps in steps.py.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch

from playground.configs import to_dict
from playground.errors import PlaygroundError
from playground.images import families, steps
from playground.images import models as M
from playground.images.likelihood import test_likelihood
from playground.images.config import ImageRunConfig
from playground.images.device import amp_dtype, pick_device
from playground.images.training_data import TrainingImages, load_at_run_resolution, load_training_data
from playground.runs import states
from playground.runs.checkpoints import load_checkpoint, save_checkpoint
from playground.runs.liveness import me
from playground.runs.rundir import RunDir

KIND = "images"
FORMAT = "playground.images/1"
EVAL_SEED = 0x5EED        # noise of every evaluation (same noise each time: scores track the weights only)


def _mix(*parts: int) -> int:
    """splitmix64 of the parts: well-spread 63-bit seeds for (seed, rank, step)."""
    x = 0x9E3779B97F4A7C15
    for p in parts:
        x = (x ^ (int(p) & 0xFFFFFFFFFFFFFFFF)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 31
    return x & 0x7FFFFFFFFFFFFFFF


def adam(params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    """Adam, fused (one kernel over all tensors; on CPU 2.5x faster than the default per-tensor loop on these
    small nets) where this torch build supports it for the parameters' device."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr, betas=betas, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr, betas=betas)


def load_run_checkpoint(path: Path | str) -> dict:
    """An image run's checkpoint (weights_only, format-checked)."""
    return load_checkpoint(path, FORMAT, what="checkpoint of an image run")


class Trainer:
    """Trains one run. `dataset` (an ImageDataset) may be given directly (tests); otherwise it is loaded.

    With `resume`, the run at `run_dir` continues from checkpoints/latest.pt, or from step 0 with its stored
    config if it was stopped before writing one."""

    def __init__(self, cfg: ImageRunConfig, run_dir: str | Path, *, resume: bool = False, dataset: Any = None,
                 quiet: bool = True):
        self.cfg = cfg
        self.quiet = quiet
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.main = self.rank == 0
        self.resuming = resume
        self.dist = None
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.device = pick_device(cfg.device, self.local_rank)
        self.run = self._take_run(run_dir, resume)
        try:
            self._init_dist()
            self._setup(dataset, resume and self.run.latest_path.exists())
        except BaseException as e:
            self.fail(e)
            self.close()
            raise

    # ------------------------------------------------------------------ set-up
    def _take_run(self, run_dir: str | Path, resume: bool) -> RunDir:
        """Rank 0 owns the directory: a new run is created, a resumed one taken under the writer lock."""
        if not self.main:
            return RunDir(run_dir)
        if not resume:
            run = RunDir.create(run_dir, to_dict(self.cfg), KIND)
        else:
            run = RunDir.open(run_dir).acquire()
            try:
                run.remove_temp_files()                 # left by a process killed mid-write
                if run.config() != to_dict(self.cfg):   # e.g. more steps: config.json follows
                    run.write_config(to_dict(self.cfg))
            except BaseException:
                run.release()
                raise
        run.write_status(state=states.RUNNING, phase="loading", kind=KIND, error=None, process_gone=None, **me())
        return run

    def _init_dist(self) -> None:
        if self.world <= 1:
            return
        import datetime

        import torch.distributed as dist

        if not dist.is_initialized():
            backend = "nccl" if self.device.type == "cuda" else "gloo"
            if self.device.type == "cuda":
                torch.cuda.set_device(self.device)
            dist.init_process_group(backend, timeout=datetime.timedelta(minutes=10))
        self.dist = dist

    def _setup(self, dataset: Any, from_checkpoint: bool) -> None:
        cfg, dev = self.cfg, self.device
        self.objective = cfg.objective if cfg.is_gan else None
        self.cuda = dev.type == "cuda"
        self.channels_last = self.cuda and cfg.channels_last
        self.memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        self.dataset_given = dataset is not None
        self.images = TrainingImages(dataset if dataset is not None else load_at_run_resolution(cfg), cfg, dev,
                                     self.memory_format)
        self.resolution, self.channels = self.images.resolution, self.images.channels
        self.n_data = self.images.n

        self.family = families.family_of(cfg)
        self.num_classes = self.images.num_classes
        torch.manual_seed(cfg.seed)                      # weight initialisation (identical on every rank)
        self.nets = families.build(cfg, self.channels, self.resolution, self.num_classes)
        for net in self.nets.values():
            net.to(dev, memory_format=self.memory_format)
        self.generator = families.sampler_of(cfg, self.nets)
        self.ema = copy.deepcopy(self.generator).eval().requires_grad_(False) if cfg.ema_decay > 0 else None
        # Tensor lists walked every step, gathered once (module traversal costs ~0.5 ms a step on small nets).
        if self.ema is not None:
            self._ema_params = (list(self.ema.parameters()), list(self.generator.parameters()))
            self._ema_buffers = list(zip(self.ema.buffers(), self.generator.buffers()))
        self.d_params = list(self.nets["D"].parameters()) if cfg.is_gan else []
        betas = (cfg.beta1, cfg.beta2)
        # GANs: G at g_lr, D at d_lr; every other family trains its one network at g_lr.
        self.opts = {k: adam(v.parameters(), cfg.d_lr if k == "D" else cfg.g_lr, betas) for k, v in self.nets.items()}
        self.amp_dtype = amp_dtype(dev, cfg.amp)
        fp16 = self.amp_dtype == torch.float16
        self.scalers = {k: torch.amp.GradScaler("cuda", enabled=fp16) for k in self.opts}

        # DistributedDataParallel wrappers for the updates that need gradient averaging.
        self.train_nets = dict(self.nets)
        if self.dist is not None:
            from torch.nn.parallel import DistributedDataParallel as DDP

            # Buffers (BN statistics) stay per rank, as with the older broadcast_buffers=False; the weights
            # start equal on every rank anyway (same seed), so the sync at construction changes nothing.
            ids = [dev.index] if self.cuda else None
            self.train_nets = {k: DDP(v, device_ids=ids, forward_sync_buffers=False) for k, v in self.nets.items()}

        self.gen = torch.Generator(device=dev)          # reseeded every step from (seed, rank, step)
        self.grid_rows, self.grid_cols, self.grid_labels = families.grid_layout(cfg, self.num_classes)
        self.step = 0
        self.best_fid: float | None = None
        self.last_scores: dict | None = None
        self.acc: dict[str, torch.Tensor] = {}
        self.acc_n = 0
        self.train_seconds = 0.0
        self.scorer = None
        self._step_fn = steps.STEPS[cfg.family]
        if from_checkpoint:
            self._load(load_run_checkpoint(self.run.latest_path))

    # ------------------------------------------------------------------ what the steps use
    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.latent_dim, generator=self.gen, device=self.device)

    def autocast(self):
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast("cuda", dtype=self.amp_dtype)

    def update(self, name: str, loss: torch.Tensor) -> None:
        opt, scaler = self.opts[name], self.scalers[name]
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    def d_requires_grad(self, flag: bool) -> None:
        for p in self.d_params:
            p.requires_grad_(flag)

    # ------------------------------------------------------------------ one training step
    def train_step(self) -> dict[str, torch.Tensor]:
        self.gen.manual_seed(_mix(self.cfg.seed, self.rank, self.step))
        out = self._step_fn(self)
        self._ema_update()
        self.step += 1
        return out

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
    def generate(self, n: int, seed: int, labels: torch.Tensor | None = None,
                 progress: Callable[[int, int], None] | None = None) -> torch.Tensor:
        """n images in [0, 1] (CPU) from the EMA sampler in eval mode, randomness from `seed` only."""
        net = self.sampler()
        was = net.training
        net.eval()
        try:
            return families.draw(self.cfg, net, n, torch.Generator().manual_seed(seed), labels,
                                 resolution=self.resolution, progress=progress)
        finally:
            net.train(was)

    def save_samples(self) -> None:
        """The fixed grid (same noise every time: one row per class for conditional models)."""
        cfg = self.cfg
        n = self.grid_rows * self.grid_cols
        if self.family.has_latent and self.grid_labels is not None:   # class x noise: one noise per column
            z = M.noise(self.grid_cols, cfg.latent_dim, torch.Generator().manual_seed(cfg.seed + 1))
            net = self.sampler()
            was = net.training
            net.eval()
            images = families.latent_images(cfg, net, z.repeat(self.grid_rows, 1), self.grid_labels)
            net.train(was)
        else:
            images = self.generate(n, cfg.seed + 1, self.grid_labels)
        self.run.save_samples(self.step, images.numpy(), nrow=self.grid_cols)

    def eval_labels(self, n: int) -> torch.Tensor | None:
        """Every class equally often in the scored samples of a conditional model."""
        return families.balanced_labels(n, self.num_classes) if self.cfg.is_conditional else None

    def evaluate(self, progress: Callable[[str], None] | None = None, final: bool = False) -> dict:
        """FID/KID/precision/recall of cfg.eval_samples images from fixed noise (this process only)."""
        from playground.images.metrics import Scorer, make_extractor

        cfg = self.cfg
        if self.scorer is None:
            if progress:
                progress("preparing the feature extractor")

            def load(split: str):
                return load_training_data(cfg, split, self.resolution)

            ex = make_extractor(cfg.features, cfg.dataset, self.resolution, self.channels, data_path=cfg.data_path,
                                load=load, device=self.device, log=self.log)
            self.scorer = Scorer(ex, self.images.reference)
        if progress:
            progress(f"generating {cfg.eval_samples} images")
        def drawn(done: int, n: int) -> None:
            if progress and done < n:
                progress(f"generating {n} images ({done} done)")

        fake = self.generate(cfg.eval_samples, EVAL_SEED + cfg.seed, self.eval_labels(cfg.eval_samples), drawn)
        if progress:
            progress("computing FID/KID/precision/recall")
        scores = self.scorer.score(fake)
        if progress and (self.family.likelihood or self.family.name == "vae"):
            progress("computing the test split's likelihood")
        scores.update(test_likelihood(self, marginal=final))
        self.last_scores = scores
        return self.last_scores

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
            "world_size": self.world, "num_classes": self.num_classes,
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
        save_checkpoint(self.run.checkpoint_path("latest"), state, FORMAT)
        if best:
            save_checkpoint(self.run.checkpoint_path("best"), state, FORMAT)
        self.run.write_status(checkpoint_step=self.step)

    # ------------------------------------------------------------------ the loop, the log, the end
    def fit(self, on_step: Callable[[Trainer], None] | None = None) -> dict:
        """Train to cfg.steps (or until a stop request); returns the final summary."""
        from playground.images.loop import fit

        return fit(self, on_step)

    def log(self, msg: str) -> None:
        if self.main:
            self.run.log(msg)
            if not self.quiet:
                print(msg, file=sys.stderr, flush=True)

    def fail(self, e: BaseException) -> None:
        """Record an error in status.json (rank 0): one line, plus the traceback in log.txt for real bugs."""
        if not self.main or not self.run.lock.held:
            return
        import traceback

        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if not isinstance(e, PlaygroundError):
            msg = f"{type(e).__name__}: {msg}"
            self.run.log(traceback.format_exc())
        self.run.write_status(state=states.FAILED, error=msg[:500], phase=None, **me())
        self.log(f"failed at step {getattr(self, 'step', 0)}: {msg}")

    def close(self) -> None:
        """Release the run directory's writer lock and leave the process group."""
        if self.main:
            self.run.release()
        if self.dist is not None and self.dist.is_initialized():
            self.dist.destroy_process_group()
