"""Speed of the image trainer on this machine: steps/s and images/s per model, a bare PyTorch DCGAN loop of the
same architecture and batch for comparison, and the time of one FID/KID/precision/recall evaluation.

    python bench/image_train.py                 # CPU here: digits-sized 8x8 images
    python bench/image_train.py --device cuda   # on a GPU: also 32x32 and 64x64, AMP on and off

Our DCGAN step and the bare loop run in interleaved windows (`--repeats`), so both see the same machine load;
the medians and their ratio are reported. Prints one JSON object (machine, date, results). Data are random
tensors of the dataset's shape (no files needed); the networks, optimisers and step are the real ones.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from playground.data import ImageDataset
from playground.images import models as M
from playground.images.config import ImageRunConfig
from playground.images.device import pick_device
from playground.images.trainer import Trainer


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def fake_data(n: int, channels: int, res: int) -> ImageDataset:
    g = torch.Generator().manual_seed(0)
    return ImageDataset(name="bench", images=torch.rand(n, channels, res, res, generator=g))


def time_trainer(cfg: ImageRunConfig, data: ImageDataset, seconds: float, warmup: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tr = Trainer(cfg, Path(tmp) / "run", dataset=data)
        for _ in range(warmup):
            tr.train_step()
        _sync(tr.device)
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - t0 < seconds:
            for _ in range(10):
                tr.train_step()
            n += 10
            _sync(tr.device)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        tr.close()
    imgs = cfg.batch_size * (cfg.d_steps if cfg.is_gan else 1)
    return {"steps_per_sec": round(n / dt, 2), "images_per_sec": round(n * imgs / dt, 1), "steps": n,
            "images_per_cpu_sec": round(n * imgs / dc, 1)}


def time_bare_dcgan(cfg: ImageRunConfig, data: ImageDataset, device: torch.device, seconds: float,
                    warmup: int) -> dict:
    """The pytorch/examples DCGAN loop (two D backward passes, no EMA, no logging), same nets and batch."""
    torch.manual_seed(0)
    nets = M.build_for(cfg, data.channels, data.resolution)
    cl = device.type == "cuda" and cfg.channels_last
    fmt = torch.channels_last if cl else torch.contiguous_format
    G, D = nets["G"].to(device, memory_format=fmt), nets["D"].to(device, memory_format=fmt)
    optG = torch.optim.Adam(G.parameters(), cfg.g_lr, betas=(cfg.beta1, cfg.beta2))
    optD = torch.optim.Adam(D.parameters(), cfg.d_lr, betas=(cfg.beta1, cfg.beta2))
    x_all = (data.images * 2 - 1).to(device).contiguous(memory_format=fmt)
    amp = device.type == "cuda" and cfg.amp
    dtype = torch.bfloat16 if amp and torch.cuda.is_bf16_supported() else torch.float16
    B = cfg.batch_size

    def step():
        real = x_all[torch.randint(0, len(x_all), (B,), device=device)]
        with torch.autocast("cuda", dtype=dtype, enabled=amp):
            D.zero_grad(set_to_none=True)
            err_real = F.binary_cross_entropy_with_logits(D(real).float(), torch.ones(B, device=device))
            err_real.backward()
            fake = G(torch.randn(B, cfg.latent_dim, device=device))
            err_fake = F.binary_cross_entropy_with_logits(D(fake.detach()).float(), torch.zeros(B, device=device))
            err_fake.backward()
            optD.step()
            G.zero_grad(set_to_none=True)
            err_g = F.binary_cross_entropy_with_logits(D(fake).float(), torch.ones(B, device=device))
            err_g.backward()
            optG.step()

    for _ in range(warmup):
        step()
    _sync(device)
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        for _ in range(10):
            step()
        n += 10
        _sync(device)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    return {"steps_per_sec": round(n / dt, 2), "images_per_sec": round(n * B / dt, 1), "steps": n,
            "images_per_cpu_sec": round(n * B / dc, 1)}


def time_eval(device: torch.device, samples: int) -> dict:
    """One evaluation as the trainer does it: digits classifier features, 500 generated images."""
    from playground.data import load_dataset
    from playground.images.metrics import Scorer, make_extractor

    ref = load_dataset("digits", "train")
    ex = make_extractor("auto", "digits", 8, 1, load=lambda s: load_dataset("digits", s), device=device)
    t0 = time.perf_counter()
    scorer = Scorer(ex, ref.images)
    t_ref = time.perf_counter() - t0
    fake = torch.rand(samples, 1, 8, 8)
    scorer.score(fake)                           # warm-up (first torchmetrics use)
    t0 = time.perf_counter()
    s = scorer.score(fake)
    return {"reference_features_s": round(t_ref, 3), "eval_s": round(time.perf_counter() - t0, 3),
            "eval_samples": samples, "features": s["fid_features"]}


def machine(device: torch.device) -> dict:
    info = {"platform": platform.platform(), "python": platform.python_version(), "torch": str(torch.__version__),
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), "device": str(device)}
    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        info.update(gpu=p.name, gpu_memory_gib=round(p.total_memory / 2**30, 1), cuda=torch.version.cuda,
                    bf16=torch.cuda.is_bf16_supported())
    return info


def dcgan_cfg(res: int, batch: int, width: int, extra: int, device: torch.device, amp: bool) -> ImageRunConfig:
    return ImageRunConfig(model="dcgan", batch_size=batch, g_width=width, d_width=width, extra_layers=extra,
                          latent_dim=100 if res > 8 else 32, device=device.type, amp=amp, eval_every=0, features="random",
                          sample_every=10**6, checkpoint_every=10**6, log_every=10**5)


def median(xs: list[float]) -> float:
    return float(statistics.median(xs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    ap.add_argument("--seconds", type=float, default=3.0, help="timing window per case")
    ap.add_argument("--repeats", type=int, default=5,
                    help="interleaved windows of our DCGAN step and the bare loop (0: skip the comparison)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--models", default="wgan_gp,sngan,vae", help="other models, timed once each")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    gpu = device.type == "cuda"
    if gpu:
        torch.backends.cudnn.benchmark = True
    # (resolution, channels, batch, width): digits-sized on every device; bigger images on a GPU.
    shapes = [(8, 1, 64, 64)] + ([(32, 3, 128, 64), (64, 3, 128, 64)] if gpu else [])
    comparisons, others = [], []
    for res, ch, batch, width in shapes:
        data = fake_data(4096 if res > 8 else 1797, ch, res)
        for amp in ([True, False] if gpu else [False]):
            # The published stack, and at 8x8 also the digits preset's (one extra 3x3 layer in G and D).
            for extra in ([0, 1] if res == 8 else [0]) if args.repeats > 0 else []:
                cfg = dcgan_cfg(res, batch, width, extra, device, amp)
                ours, bare = [], []
                for _ in range(args.repeats):          # interleaved: both see the same machine load
                    ours.append(time_trainer(cfg, data, args.seconds, warmup=5))
                    bare.append(time_bare_dcgan(cfg, data, device, args.seconds, warmup=5))
                row = {"resolution": res, "channels": ch, "batch": batch, "width": width, "extra_layers": extra,
                       "amp": amp}
                # Wall-clock images/s, and images per CPU second of this process (on a CPU shared with other
                # jobs the latter is the steadier comparison; on a GPU only wall-clock counts).
                for key in ("images_per_sec", "images_per_cpu_sec"):
                    a, b = [r[key] for r in ours], [r[key] for r in bare]
                    row[key] = {"ours": median(a), "bare": median(b), "ratio": round(median(a) / median(b), 3),
                                "ratio_per_repeat": [round(x / y, 3) for x, y in zip(a, b)]}
                comparisons.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
            for model in [m for m in args.models.split(",") if m]:
                cfg = ImageRunConfig(model=model, batch_size=batch, g_width=width, d_width=width, extra_layers=0,
                                     latent_dim=100 if res > 8 else 32, d_steps=5 if model == "wgan_gp" else 1,
                                     device=device.type, amp=amp, eval_every=0, features="random",
                                     sample_every=10**6, checkpoint_every=10**6, log_every=10**5)
                r = time_trainer(cfg, data, args.seconds, warmup=5)
                others.append({"case": model, "resolution": res, "channels": ch, "batch": batch, "width": width,
                               "amp": amp, **r})
                print(json.dumps(others[-1]), file=sys.stderr, flush=True)
    out = {"bench": "image_train", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine(device),
           "dcgan_vs_bare": comparisons, "other_models": others, "eval": time_eval(device, 500)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
