"""PixelCNN sampling: the pixel-at-a-time pass (playground.images.pixelcnn_raster) against the full pass per pixel.

    .venv/bin/python bench/pixelcnn_sampling.py [--run pretrained/image_runs/mnist5k-cpixelcnn] [--n 64]
        [--pixels 112] [--threads 1] [--json]

Both draw the same pixels from the same generator (tests/test_images_pixelcnn.py checks it on small models);
here each is timed on the shipped model for the first `--pixels` pixels of `--n` images (the full pass per
pixel is slow: it is extrapolated to the whole image by the pixel count, which holds because every pixel
costs it the same), and the pixel-at-a-time sampler also for whole images, the time the Sample page waits.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

import torch

from playground.images import sampling

ROOT = Path(__file__).resolve().parents[1]


def full_pass_per_pixel(net, n: int, size: int, pixels: int, generator, y) -> torch.Tensor:
    x = torch.zeros(n, 1, size, size)
    with torch.no_grad():
        for k in range(pixels):
            i, j = divmod(k, size)
            x[:, 0, i, j] = torch.bernoulli(torch.sigmoid(net(x, y)[:, 0, i, j]), generator=generator)
    return x


def raster_first_pixels(net, n: int, size: int, pixels: int, generator, y) -> torch.Tensor:
    for done, images in net.sampling_states(n, size, generator, y=y, every=pixels):
        if done >= pixels:
            return images
    return images


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default=str(ROOT / "pretrained/image_runs/mnist5k-cpixelcnn"))
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--pixels", type=int, default=112, help="pixels timed for the comparison (4 rows of 28)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    gen = sampling.load_model(args.run)
    net, size = gen.net.eval(), gen.resolution
    y = (torch.arange(args.n) % net.num_classes) if net.num_classes else None
    timings = {}
    for name, fn in (("full_pass_per_pixel", full_pass_per_pixel), ("pixel_at_a_time", raster_first_pixels)):
        t0 = time.perf_counter()
        out = fn(net, args.n, size, args.pixels, torch.Generator().manual_seed(0), y)
        timings[name] = time.perf_counter() - t0
        if name == "full_pass_per_pixel":
            ref = out
    same = bool(torch.equal(out[:, :, :args.pixels // size], ref[:, :, :args.pixels // size]))
    t0 = time.perf_counter()
    net.sample(args.n, size, torch.Generator().manual_seed(0), y=y)
    whole = time.perf_counter() - t0
    per_image = size * size / args.pixels
    result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes"),
              "cpu": _cpu(), "threads": args.threads, "n": args.n, "pixels_timed": args.pixels,
              "same_draws": same,
              "full_pass_per_pixel_s_per_batch": round(timings["full_pass_per_pixel"] * per_image, 2),
              "pixel_at_a_time_s_per_batch_extrapolated": round(timings["pixel_at_a_time"] * per_image, 2),
              "pixel_at_a_time_s_per_batch": round(whole, 2),
              "speedup": round(timings["full_pass_per_pixel"] / timings["pixel_at_a_time"], 1)}
    print(json.dumps(result) if args.json else "\n".join(f"{k:>40}: {v}" for k, v in result.items()))
    return 0 if same else 1


def _cpu() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return f"{os.cpu_count()} cores"


if __name__ == "__main__":
    sys.exit(main())
