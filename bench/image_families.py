"""Speed of every new image family's training step against a bare PyTorch loop of the same networks, and what
sampling and one evaluation cost a user.

    python bench/image_families.py                          # CPU, all four families (about 5 minutes on 2 cores)
    python bench/image_families.py --models pixelcnn --windows 5 --seconds 10
    python bench/image_families.py --device cuda

For cgan, pixelcnn, diffusion and flow_matching at their mnist5k presets (28x28, one channel, 4,000 random
images with random labels 0..9: the shape of mnist5k's training split, no files needed), our `Trainer.train_step`
(EMA, loss bookkeeping, per-step seeded draws) and a bare loop over the SAME modules (built by
`families.build`, same seed) with the same loss math (sample a batch, loss, zero_grad, backward, Adam step)
run in interleaved windows, so both see the same machine load; medians and their ratio are reported, by
wall clock and per CPU second of this process. Then, once per family, the seconds to draw 64 images from the
EMA sampler (cgan one pass, pixelcnn 784 one-pixel steps, diffusion 50 DDIM steps, flow matching 25 midpoint steps)
and one evaluation as the trainer runs it (mnist5k classifier features; 64 images by default, so its drawing
is the 64-image figure; `--eval-samples 0` draws the preset's 100 to 500, minutes on CPU), split into
phases. Prints one JSON object (machine, date, load average, results).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from playground.data import ImageDataset
from playground.images import families
from playground.images.config import ImageRunConfig, preset_config
from playground.images.device import pick_device
from playground.images.trainer import Trainer
from playground.machine import describe, load_average

MODELS = ("cgan", "pixelcnn", "diffusion", "flow_matching")
TRAIN_IMAGES, TEST_IMAGES, CLASSES, RES = 4000, 1000, 10, 28      # mnist5k's splits
SAMPLE_N = 64


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def fake_mnist5k(n: int = TRAIN_IMAGES, seed: int = 0) -> ImageDataset:
    """Random images in [0, 1] and labels 0..9 of mnist5k's shape."""
    g = torch.Generator().manual_seed(seed)
    return ImageDataset(name="bench", images=torch.rand(n, 1, RES, RES, generator=g),
                        labels=torch.randint(0, CLASSES, (n,), generator=g), num_classes=CLASSES)


def bench_config(model: str, device: torch.device, threads: int, eval_samples: int | None = None
                 ) -> ImageRunConfig:
    """The family's mnist5k preset, with nothing written during training (no grids, checkpoints, evaluations);
    `eval_samples` (None: the preset's) only changes what one evaluation draws."""
    extra = {"eval_samples": eval_samples} if eval_samples else {}
    return preset_config(f"{model}_mnist5k", device=device.type, threads=threads, eval_every=0,
                         sample_every=10**6, checkpoint_every=10**6, log_every=10**5, **extra)


# ------------------------------------------------------------------ the bare loops
def bare_step(cfg: ImageRunConfig, data: ImageDataset, device: torch.device, return_nets: bool = False):
    """One training step as a user would write it over the modules `families.build` makes for this config:
    plain Adam, the global RNG, no EMA, no logging, data pre-scaled once. With `return_nets`: (step, nets)."""
    step, nets = _bare_step(cfg, data, device)
    return (step, nets) if return_nets else step


def _bare_step(cfg: ImageRunConfig, data: ImageDataset, device: torch.device
               ) -> tuple[Callable[[], None], dict[str, torch.nn.Module]]:
    torch.manual_seed(cfg.seed)
    nets = {k: v.to(device) for k, v in families.build(cfg, data.channels, data.resolution, CLASSES).items()}
    opts = {k: torch.optim.Adam(v.parameters(), cfg.d_lr if k == "D" else cfg.g_lr, betas=(cfg.beta1, cfg.beta2))
            for k, v in nets.items()}
    x_unit = data.images.to(device)
    labels = data.labels.to(device)
    B, N = cfg.batch_size, len(x_unit)
    cond = cfg.is_conditional

    def batch(x_all: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        idx = torch.randint(0, N, (B,), device=device)
        return x_all[idx], (labels[idx] if cond else None)

    def update(name: str, loss: torch.Tensor) -> None:
        opts[name].zero_grad(set_to_none=True)
        loss.backward()
        opts[name].step()

    if cfg.model == "cgan":                      # hinge loss (the preset's), D then G on the same fakes
        G, D, x_gan = nets["G"], nets["D"], x_unit * 2 - 1

        def step() -> None:
            real, y = batch(x_gan)
            fake = G(torch.randn(B, cfg.latent_dim, device=device), y)
            update("D", F.relu(1 - D(real, y)).mean() + F.relu(1 + D(fake.detach(), y)).mean())
            update("G", -D(fake, y).mean())
        return step, nets

    if cfg.model == "pixelcnn":                  # exact NLL of {0, 1} pixels, nats per image
        net, bits = nets["pixelcnn"], (x_unit > 0.5).float()

        def step() -> None:
            x, y = batch(bits)
            nll = F.binary_cross_entropy_with_logits(net(x, y), x, reduction="none").flatten(1).sum(1).mean()
            update("pixelcnn", nll)
        return step, nets

    model, x_model = nets["denoiser"], x_unit * 2 - 1
    unet = model.net
    if cfg.model == "diffusion":                 # noise-prediction MSE at levels i uniform on 1..T
        T = model.timesteps
        ab_all = model.alpha_bar.float()

        def step() -> None:
            z0, y = batch(x_model)
            i = torch.randint(1, T + 1, (B,), device=device)
            eps = torch.randn_like(z0)
            ab = ab_all[i].view(B, 1, 1, 1)
            err = unet(ab.sqrt() * z0 + (1 - ab).sqrt() * eps, i.float() / T, y) - eps
            update("denoiser", err.square().flatten(1).sum(1).mean())
        return step, nets

    def step() -> None:                          # flow matching: regress z1 - z0 on the straight path
        z1, y = batch(x_model)
        z0 = torch.randn_like(z1)
        t = torch.rand(B, device=device)
        tt = t.view(B, 1, 1, 1)
        err = unet((1 - tt) * z0 + tt * z1, t, y) - (z1 - z0)
        update("denoiser", err.square().flatten(1).sum(1).mean())
    return step, nets


# ------------------------------------------------------------------ timing
def timed(step: Callable[[], None], images_per_step: int, seconds: float, warmup: int,
          device: torch.device) -> dict:
    """Steps run for `seconds` after `warmup` steps: steps/s, images/s and images per CPU second."""
    for _ in range(warmup):
        step()
    _sync(device)
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while n == 0 or time.perf_counter() - t0 < seconds:
        step()
        n += 1
        if device.type == "cuda" and n % 10 == 0:
            _sync(device)
    _sync(device)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    return {"steps": n, "steps_per_sec": n / dt, "images_per_sec": n * images_per_step / dt,
            "images_per_cpu_sec": n * images_per_step / max(dc, 1e-9)}


def _pair(ours: list[dict], bare: list[dict], key: str) -> dict:
    a, b = [r[key] for r in ours], [r[key] for r in bare]
    ma, mb = statistics.median(a), statistics.median(b)
    return {"ours": round(ma, 1), "bare": round(mb, 1), "ratio": round(ma / mb, 3),
            "ratio_per_window": [round(x / y, 3) for x, y in zip(a, b)]}


def measure(model: str, *, seconds: float, windows: int, warmup: int = 2, device: torch.device | None = None,
            threads: int = 1, extras: bool = False, eval_samples: int | None = SAMPLE_N,
            data: ImageDataset | None = None) -> dict:
    """One family: ours vs bare in `windows` interleaved windows of `seconds` each; with `extras`, also one
    evaluation (trainer.evaluate) of `eval_samples` images (None: the preset's) and the time to draw 64 images
    (the evaluation's own drawing when it draws 64: the same trainer.generate call)."""
    device = device or torch.device("cpu")
    cfg = bench_config(model, device, threads, eval_samples)
    data = data if data is not None else fake_mnist5k()
    ours, bare = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tr = Trainer(cfg, Path(tmp) / "run", dataset=data)
        try:
            step = bare_step(cfg, data, device)
            for _ in range(windows):                 # interleaved: both see the same machine load
                ours.append(timed(tr.train_step, cfg.batch_size, seconds, warmup, device))
                bare.append(timed(step, cfg.batch_size, seconds, warmup, device))
                warmup = 0 if device.type == "cpu" else warmup   # later windows continue warm
            row = {"model": model, "preset": f"{model}_mnist5k", "batch": cfg.batch_size,
                   "parameters": sum(p.numel() for net in tr.nets.values() for p in net.parameters()),
                   "windows": windows, "seconds": seconds,
                   "ms_per_step": {"ours": round(1000 / statistics.median(r["steps_per_sec"] for r in ours), 1),
                                   "bare": round(1000 / statistics.median(r["steps_per_sec"] for r in bare), 1)},
                   "steps": {"ours": sum(r["steps"] for r in ours), "bare": sum(r["steps"] for r in bare)},
                   "images_per_sec": _pair(ours, bare, "images_per_sec"),
                   "images_per_cpu_sec": _pair(ours, bare, "images_per_cpu_sec")}
            if extras:
                row["evaluation"] = evaluation_cost(tr)
                row["sample_64"] = sampling_cost(tr, row["evaluation"].get("generate_s")
                                                 if cfg.eval_samples == SAMPLE_N else None)
        finally:
            tr.close()
    return row


def sampling_cost(tr: Trainer, seconds: float | None = None, n: int = SAMPLE_N) -> dict:
    """Seconds to draw n images from the EMA sampler as the trainer and the Sample page do (one class per
    image, balanced, for the conditional cgan); `seconds` already measured for these n images: not again."""
    cfg = tr.cfg          # pixelcnn: one sequential step a pixel (each step one position of every layer)
    passes = {"gan": 1, "pixelcnn": tr.resolution ** 2}.get(cfg.family)
    if passes is None:                                # diffusion: one U-Net pass a step; midpoint: two
        passes = cfg.sample_steps * (2 if cfg.model == "flow_matching" and cfg.solver == "midpoint" else 1)
    if seconds is None:
        _sync(tr.device)
        t0 = time.perf_counter()
        tr.generate(n, seed=1, labels=tr.eval_labels(n))
        _sync(tr.device)
        seconds = time.perf_counter() - t0
    return {"images": n, "network_passes": passes, "sample_steps": cfg.sample_steps, "seconds": round(seconds, 2)}


def evaluation_cost(tr: Trainer) -> dict:
    """One trainer.evaluate(), split by its progress messages into preparing the extractor (first time only),
    generating eval_samples images, the scores and (pixelcnn) the test likelihood. A trainer given its images
    has no test split; a random one of mnist5k's test size stands in (else the 4,000 training images would)."""
    if tr.family.likelihood:
        g = torch.Generator().manual_seed(1)
        tr._test_split = ((torch.rand(TEST_IMAGES, 1, RES, RES, generator=g) > 0.5).float(),
                          torch.randint(0, CLASSES, (TEST_IMAGES,), generator=g))
    phases = (("preparing", "prepare_extractor_s"), ("generating", "generate_s"), ("computing FID", "scores_s"),
              ("computing the test", "likelihood_s"))
    marks: list[tuple[str, float]] = []

    def note(msg: str) -> None:
        key = next((k for prefix, k in phases if msg.startswith(prefix)), msg)
        if not marks or marks[-1][0] != key:
            marks.append((key, time.perf_counter()))

    t0 = time.perf_counter()
    scores = tr.evaluate(progress=note)
    end = time.perf_counter()
    out = {"eval_samples": tr.cfg.eval_samples, "features": scores.get("fid_features")}
    for k, (key, t) in enumerate(marks):
        nxt = marks[k + 1][1] if k + 1 < len(marks) else end
        out[key] = round(out.get(key, 0.0) + nxt - t, 2)
    out["total_s"] = round(end - t0, 2)
    out["without_preparation_s"] = round(end - t0 - out.get("prepare_extractor_s", 0.0), 2)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated, of " + ", ".join(MODELS))
    ap.add_argument("--windows", type=int, default=3, help="interleaved windows of ours and of the bare loop")
    ap.add_argument("--seconds", type=float, default=8.0, help="length of each window")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--no-extras", action="store_true", help="skip the sampling and evaluation timings")
    ap.add_argument("--eval-samples", type=int, default=SAMPLE_N,
                    help="images one timed evaluation draws (0: the preset's, 100 to 500; minutes for pixelcnn "
                    "and the denoisers on CPU)")
    args = ap.parse_args(argv)
    models = [m for m in args.models.split(",") if m]
    bad = [m for m in models if m not in MODELS]
    if bad or args.windows < 1 or not args.seconds > 0 or 0 < args.eval_samples < 16:
        ap.error(f"models must be among {', '.join(MODELS)}; --windows >= 1, --seconds > 0, --eval-samples 0 "
                 "or >= 16")
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    start, load0 = time.strftime("%Y-%m-%d %H:%M:%S"), load_average()
    t0 = time.perf_counter()
    data = fake_mnist5k()
    results = []
    for m in models:
        results.append(measure(m, seconds=args.seconds, windows=args.windows, device=device, threads=args.threads,
                               extras=not args.no_extras, eval_samples=args.eval_samples or None, data=data))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    out = {"bench": "image_families", "date": start, "machine": describe(device),
           "load_average": {"start": load0, "end": load_average()}, "wall_s": round(time.perf_counter() - t0, 1),
           "settings": {"windows": args.windows, "seconds": args.seconds, "threads": args.threads,
                        "eval_samples": args.eval_samples or "preset",
                        "data": f"{TRAIN_IMAGES} random {RES}x{RES} images, labels 0..{CLASSES - 1}"},
           "results": results}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
