"""Speed of every families-lab model's training step (our trainer) against a bare PyTorch loop of the same
networks.

    python bench/families_speed.py                                  # all six families, about 3.5 minutes
    python bench/families_speed.py --models gan,vae --windows 5 --seconds 3
    python bench/families_speed.py --no-lockstep                    # only the CLI path against the bare loop

For each family at the FamilyConfig defaults (dist ring8, batch 512, 3x128 MLPs, Adam at the family's
learning rate with the cosine schedule over 10,000 steps; the GAN at the GAN lab's defaults), on one torch
thread (`--threads`), three ways of making one training step run in interleaved windows (their order rotated
from window to window), so all see the same machine load:

  trainer   `FamilyTrainer.train_step()`, the step `python -m playground families train` loops over
            (playground/families/runs.py; its run-directory writes every 25 steps are not timed): a fresh
            target batch from the trainer's generator, the cosine learning rate written into Adam, the
            family's `training_loss` (all its noise from that generator), zero_grad, backward, Adam (foreach)
            step, `float(loss)`, the loss appended to the history and the step timed. The GAN instead makes
            one GAN-lab iteration (`GANFamily.train_step` -> `ToyGAN.train(1)`: the batch behind `StepBatch`,
            D update with R1, G update, history record, learning-rate half-life) and reads its losses back.
  lockstep  `Lockstep([cfg]).tick()`, the page's step (the families worker's `LiveLab.train_chunk` ->
            `Lockstep.advance` -> `tick`): the batch from the lockstep's generator, model.train(), the
            trainer's `train_step(batch)`, model.eval().
  bare      what one would write by hand over the SAME modules (built by `families.base.build` from the
            same config, so the same initial weights), the same target and batch size and the same loss math:
            sample a batch from the target, the loss, zero_grad, backward, the same Adam (foreach=True, same
            learning rate) step, the same learning-rate schedule (cosine, or the GAN's half-life); no
            history, no timing, no `float(loss)`. Per family: gan: D update (non-saturating BCE + R1 0.1 on
            the real batch, fakes from G under no_grad) then G update (-log D(G(z)) on fresh noise), the GAN
            lab's defaults; vae: the one-sample ELBO written out over the encoder and decoder MLPs; flow and
            autoregressive: -log q(x) through the density module itself (the flow's layers / the mixture
            density network are the networks); diffusion: the noise-prediction MSE over the TimeMLP;
            flow_matching: the straight-path velocity MSE over the TimeMLP. Noise is drawn from a seeded
            generator in the trainer's order, so `compare` can check that from identical state the bare loop
            computes the same losses and ends at the same parameters (reported per family as `check`).

Medians of steps/s and their ratios (trainer / bare, lockstep / bare; target >= 0.9) are reported by wall clock
and per CPU second of this process. Prints one JSON object (machine, date, load average, results, summary).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F

from playground.families.base import build
from playground.families.config import FamilyConfig
from playground.families.lockstep import Lockstep
from playground.families.trainer import FamilyTrainer
from playground.families.vae2d import _MIN_STD as VAE_MIN_STD
from playground.machine import describe, load_average
from playground.toy.config import ToyConfig
from playground.toy.targets import Target, make_target

MODELS = ("gan", "vae", "flow", "autoregressive", "diffusion", "flow_matching")
TARGET_RATIO = 0.9
_LOG_2PI = math.log(2 * math.pi)


def bench_config(model: str, **changes) -> FamilyConfig:
    """The family's FamilyConfig defaults (ring8), with `changes`."""
    cfg = FamilyConfig(model=model, **changes)
    cfg.validate()
    return cfg


# ------------------------------------------------------------------ the bare loops
class BareLoop(NamedTuple):
    """A hand-written training step over the modules `build(cfg, target)` makes. `step()` returns the loss
    tensor (the GAN: (d_loss, g_loss)); `model` holds the networks, `rng` the generator of batches and noise."""

    step: Callable[[], object]
    model: torch.nn.Module
    rng: torch.Generator
    optimizers: tuple


def bare_loop(cfg: FamilyConfig, target: Target) -> BareLoop:
    model = build(cfg, target)
    model.train()
    rng = torch.Generator().manual_seed(cfg.seed)
    B = cfg.batch_size
    if cfg.model == "gan":
        return _bare_gan(cfg, model, target, rng)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, foreach=True)
    group, lr0, total = opt.param_groups[0], cfg.lr, cfg.steps
    k = 0

    def update(loss: torch.Tensor) -> torch.Tensor:
        nonlocal k
        group["lr"] = lr0 * 0.5 * (1 + math.cos(math.pi * min(k, total) / total))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        k += 1
        return loss

    if cfg.model == "vae":
        enc, dec, mean, spread = model.encoder, model.decoder, model.scale.mean, model.scale.spread

        def step() -> torch.Tensor:
            x = (target.sample(B, rng) - mean) / spread
            mu, raw = enc(x).chunk(2, dim=-1)
            s = F.softplus(raw) + VAE_MIN_STD
            m, raw_sd = dec(mu + s * torch.randn(mu.shape, generator=rng)).chunk(2, dim=-1)
            sd = F.softplus(raw_sd) + VAE_MIN_STD
            log_px = (-0.5 * ((x - m) / sd) ** 2 - torch.log(sd) - 0.5 * _LOG_2PI).sum(-1)
            kl = 0.5 * (mu**2 + s**2 - 1 - 2 * torch.log(s)).sum(-1)
            return update(-(log_px - kl).mean())
        return BareLoop(step, model, rng, (opt,))

    if cfg.model == "flow":
        if cfg.flow_objective != "forward_kl":
            raise SystemExit("the bare flow loop is maximum likelihood (flow_objective forward_kl)")
        dim = model.dim

        def step() -> torch.Tensor:
            z, log_det = model.to_noise(target.sample(B, rng))
            return update(-(-0.5 * (z * z).sum(dim=1) - 0.5 * dim * _LOG_2PI + log_det).mean())
        return BareLoop(step, model, rng, (opt,))

    if cfg.model == "autoregressive":
        def step() -> torch.Tensor:
            return update(-model.log_prob(target.sample(B, rng)).mean())
        return BareLoop(step, model, rng, (opt,))

    net, mean, spread = model.net, model.scale.mean, model.scale.spread
    if cfg.model == "diffusion":
        T = model.timesteps
        ab_all = model.alpha_bar.float()

        def step() -> torch.Tensor:
            z0 = (target.sample(B, rng) - mean) / spread
            i = torch.randint(1, T + 1, (B,), generator=rng)
            eps = torch.randn(z0.shape, generator=rng)
            ab = ab_all[i].unsqueeze(1)
            pred = net(ab.sqrt() * z0 + (1 - ab).sqrt() * eps, i.float() / T)
            return update(((pred - eps) ** 2).sum(1).mean())
        return BareLoop(step, model, rng, (opt,))

    if cfg.model == "flow_matching":
        if cfg.fm_ot:
            raise SystemExit("the bare flow-matching loop pairs noise and data at random (fm_ot off)")

        def step() -> torch.Tensor:
            z1 = (target.sample(B, rng) - mean) / spread
            z0 = torch.randn(z1.shape, generator=rng)
            t = torch.rand(B, generator=rng)
            tt = t.unsqueeze(1)
            v = net((1 - tt) * z0 + tt * z1, t)
            return update(((v - (z1 - z0)) ** 2).sum(1).mean())
        return BareLoop(step, model, rng, (opt,))
    raise SystemExit(f"no bare loop for {cfg.model!r}")


def _bare_gan(cfg: FamilyConfig, model, target: Target, rng: torch.Generator) -> BareLoop:
    """The GAN lab's default iteration: one D update (non-saturating BCE + R1 on the real batch), one G update
    (-log D(G(z))), learning rates halving every lr_half_life iterations."""
    c = cfg.toy_config()
    default = ToyConfig()
    fixed = ("loss", "d_opt", "g_opt", "d_steps", "g_steps", "pack", "spectral_norm", "g_batchnorm", "d_maxout",
             "minibatch_std", "feature_matching", "real_label", "instance_noise", "hist_avg", "unrolled_steps",
             "g_ema", "noise")
    changed = [k for k in fixed if getattr(c, k) != getattr(default, k)]
    if changed:
        raise SystemExit(f"the bare GAN loop is the GAN lab's default iteration; changed: {', '.join(changed)}")
    G, D = model.G, model.D
    betas = (c.beta1, 0.999)
    d_opt = torch.optim.Adam(D.parameters(), lr=c.d_lr, betas=betas, foreach=True)
    g_opt = torch.optim.Adam(G.parameters(), lr=c.g_lr, betas=betas, foreach=True)
    d_group, g_group = d_opt.param_groups[0], g_opt.param_groups[0]
    B, nz, r1, half_life = c.batch_size, c.latent_dim, c.r1, c.lr_half_life
    k = 0

    def step() -> tuple[torch.Tensor, torch.Tensor]:
        nonlocal k
        real = target.sample(B, rng)
        with torch.no_grad():
            fake = G(torch.randn(B, nz, generator=rng))
        if r1 > 0:
            real.requires_grad_(True)
        real_out = D(real)
        d_loss = (-F.logsigmoid(real_out) - F.logsigmoid(-D(fake))).mean()
        if r1 > 0:
            (grad,) = torch.autograd.grad(real_out.sum(), real, create_graph=True)
            d_loss = d_loss + r1 * (0.5 * grad.pow(2).sum(dim=1).mean())
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        g_loss = -F.logsigmoid(D(G(torch.randn(B, nz, generator=rng)))).mean()
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        k += 1
        if half_life:
            f = 0.5 ** (k / half_life)
            d_group["lr"], g_group["lr"] = c.d_lr * f, c.g_lr * f
        return d_loss.detach(), g_loss.detach()
    return BareLoop(step, model, rng, (d_opt, g_opt))


# ------------------------------------------------------------------ same work?
def _max_diff(a: torch.nn.Module, b: torch.nn.Module) -> float:
    sa, sb = a.state_dict(), b.state_dict()
    if sa.keys() != sb.keys():
        return float("inf")
    return max((float((sa[k].double() - sb[k].double()).abs().max()) for k in sa if sa[k].numel()), default=0.0)


def compare(cfg: FamilyConfig, steps: int = 3, target: Target | None = None,
            bare_cfg: FamilyConfig | None = None) -> dict:
    """From identical state (a fresh trainer and a fresh bare loop of `cfg`), `steps` steps of each: the
    largest differences of the initial weights, of the losses step by step (the GAN: D's and G's) and of the
    weights after the steps. All zero up to rounding when the bare loop does the trainer's work. `bare_cfg`
    (default `cfg`) builds the bare loop from another config: a control that the check sees a difference."""
    target = target if target is not None else make_target(cfg)
    tr = FamilyTrainer(cfg, target=target)
    tr.model.train()
    bare = bare_loop(bare_cfg or cfg, target)
    init = _max_diff(tr.model, bare.model)
    losses, rel = [], 0.0
    for _ in range(steps):
        ours = tr.train_step()
        if cfg.model == "gan":
            _, d_hist, g_hist = tr.model.gan.losses()
            ours = (float(d_hist[-1]), float(g_hist[-1]))
        else:
            ours = (ours,)
        out = bare.step()
        theirs = tuple(float(v.detach()) for v in (out if isinstance(out, tuple) else (out,)))
        losses.append({"trainer": ours, "bare": theirs})
        rel = max(rel, max(abs(a - b) / max(abs(a), 1e-12) for a, b in zip(ours, theirs)))
    return {"steps": steps, "initial_weights_max_abs_diff": init, "loss_max_rel_diff": rel,
            "weights_max_abs_diff": _max_diff(tr.model, bare.model), "losses": losses}


# ------------------------------------------------------------------ timing
def timed(step: Callable[[], object], seconds: float, warmup: int) -> dict:
    """Steps run for `seconds` after `warmup` steps: steps/s by wall clock and per process-CPU second."""
    for _ in range(warmup):
        step()
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while n == 0 or time.perf_counter() - t0 < seconds:
        step()
        n += 1
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    return {"steps": n, "steps_per_sec": n / dt, "steps_per_cpu_sec": n / max(dc, 1e-9)}


def _pair(runs: dict[str, list[dict]], key: str) -> dict:
    med = {side: statistics.median(r[key] for r in rs) for side, rs in runs.items()}
    out: dict = {side: round(v, 1) for side, v in med.items()}
    for side in runs:
        if side != "bare":
            out[f"{side}_ratio"] = round(med[side] / med["bare"], 3)
            out[f"{side}_ratio_per_window"] = [round(a[key] / b[key], 3) for a, b in zip(runs[side], runs["bare"])]
    return out


def measure(model: str, *, seconds: float, windows: int, warmup: int = 20, lockstep: bool = True,
            check: bool = True, **changes) -> dict:
    """One family: trainer (and lockstep) against bare in `windows` interleaved windows of `seconds` each."""
    cfg = bench_config(model, **changes)
    target = make_target(cfg)
    tr = FamilyTrainer(cfg, target=target)
    tr.model.train()                                  # as runs._train: train mode once, then train_step()
    sides: dict[str, Callable[[], object]] = {"trainer": tr.train_step}
    ls = None
    if lockstep:
        ls = Lockstep([cfg], target=target)
        sides["lockstep"] = ls.tick
    bare = bare_loop(cfg, target)
    sides["bare"] = bare.step
    runs: dict[str, list[dict]] = {side: [] for side in sides}
    names = list(sides)
    for w in range(windows):                          # interleaved, order rotated: all see the same load
        for side in names[w % len(names):] + names[:w % len(names)]:
            runs[side].append(timed(sides[side], seconds, warmup if w == 0 else 0))
    row = {"model": model, "batch": cfg.batch_size, "lr": cfg.lr,
           "parameters": sum(p.numel() for p in tr.model.parameters()), "windows": windows, "seconds": seconds,
           "ms_per_step": {side: round(1000 / statistics.median(r["steps_per_sec"] for r in rs), 3)
                           for side, rs in runs.items()},
           "steps": {side: sum(r["steps"] for r in rs) for side, rs in runs.items()},
           "steps_per_sec": _pair(runs, "steps_per_sec"),
           "steps_per_cpu_sec": _pair(runs, "steps_per_cpu_sec")}
    if check:
        c = compare(cfg, target=target)
        row["check"] = {k: v for k, v in c.items() if k != "losses"}
    return row


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated, of " + ", ".join(MODELS))
    ap.add_argument("--windows", type=int, default=4, help="interleaved windows of each side")
    ap.add_argument("--seconds", type=float, default=3.0, help="length of each window")
    ap.add_argument("--warmup", type=int, default=20, help="untimed steps of each side before its first window")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--no-lockstep", action="store_true", help="skip the page's Lockstep.tick side")
    ap.add_argument("--no-check", action="store_true", help="skip the same-losses check of each family")
    args = ap.parse_args(argv)
    models = [m for m in args.models.split(",") if m]
    bad = [m for m in models if m not in MODELS]
    if bad or args.windows < 1 or not args.seconds > 0 or args.warmup < 0 or args.threads < 1:
        ap.error(f"models must be among {', '.join(MODELS)}; --windows >= 1, --seconds > 0, --warmup >= 0, "
                 "--threads >= 1")
    torch.set_num_threads(args.threads)
    start, load0 = time.strftime("%Y-%m-%d %H:%M:%S %Z"), load_average()
    t0 = time.perf_counter()
    results, loads = [], []
    for m in models:
        results.append(measure(m, seconds=args.seconds, windows=args.windows, warmup=args.warmup,
                               lockstep=not args.no_lockstep, check=not args.no_check))
        loads.append(load_average())
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    summary = {}
    for r in results:
        s = {"trainer_ratio_wall": r["steps_per_sec"]["trainer_ratio"],
             "trainer_ratio_cpu": r["steps_per_cpu_sec"]["trainer_ratio"]}
        if "lockstep_ratio" in r["steps_per_sec"]:
            s.update(lockstep_ratio_wall=r["steps_per_sec"]["lockstep_ratio"],
                     lockstep_ratio_cpu=r["steps_per_cpu_sec"]["lockstep_ratio"])
        s["meets_target"] = min(v for k, v in s.items() if k.endswith("_wall")) >= TARGET_RATIO
        summary[r["model"]] = s
    out = {"bench": "families_speed", "date": start, "machine": describe(),
           "load_average": {"start": load0, "after_each_family": loads, "end": load_average()},
           "wall_s": round(time.perf_counter() - t0, 1),
           "settings": {"windows": args.windows, "seconds": args.seconds, "warmup": args.warmup,
                        "threads": args.threads, "config": "FamilyConfig defaults (dist ring8)",
                        "target_ratio": TARGET_RATIO},
           "summary": summary, "results": results}
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
