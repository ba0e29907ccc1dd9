"""Our spline flow against zuko's NSF at equal steps, batch, width and depth: exact KL(p||q) on fresh samples.

Both train with the same loop, in lockstep on the same batches (Adam, learning rate cosine-decayed to 0 over
the steps, fresh target batches from one seeded generator, one thread; each one's step timed on its own, so the
speeds compare over the same stretch of a shared machine) and are scored the same way: KL = E_p[log p - log q] in nats on
`--eval` fresh target samples (with its standard error), the target's exact density against the model's.
zuko (pinned in requirements.txt, bench only) is skipped with a note if it is missing.

    .venv/bin/python bench/families_flows.py --dists ring8 --seeds 0 [--steps 10000] [--libs ours,zuko]
        [--bins 16] [--zuko-bins 8]

Prints one line per run as it finishes and a markdown table at the end (figures for bench/README.md).
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import time

import numpy as np
import torch

from playground.families.base import build
from playground.families.config import FamilyConfig
from playground.toy.targets import make_target


def make_model(lib: str, cfg: FamilyConfig, target, zuko_bins: int | None = None):
    """(model, log_prob function) for our flow or zuko's NSF with the same sizes (zuko's bins may differ)."""
    if lib == "ours":
        model = build(cfg, target)
        return model, model.log_prob
    import zuko

    torch.manual_seed(cfg.seed)
    flow = zuko.flows.NSF(target.dim, transforms=cfg.flow_layers, bins=zuko_bins or cfg.flow_bins,
                          hidden_features=(cfg.width,) * cfg.layers)
    return flow, lambda x: flow().log_prob(x)


def exact_kl(target, log_prob, n: int, seed: int = 123_457) -> tuple[float, float]:
    x = target.sample(n, torch.Generator().manual_seed(seed))
    with torch.no_grad():
        lq = torch.cat([log_prob(c) for c in x.split(4096)]).double().numpy()
    d = target.log_prob(x.double().numpy()) - lq
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(n))


def run(libs: list[str], dist: str, seed: int, args) -> list[dict]:
    """Train one model per library in lockstep (step i of each, in turn, on the same batch), so that their
    speeds are measured over the same stretch of a shared machine; then score each."""
    cfg = FamilyConfig(model="flow", dist=dist, seed=seed, width=args.width, layers=args.layers,
                       flow_layers=args.transforms, flow_bins=args.bins, batch_size=args.batch, lr=args.lr,
                       steps=args.steps)
    target = make_target(cfg)
    models = [make_model(lib, cfg, target, args.zuko_bins) for lib in libs]
    opts = [torch.optim.Adam(m.parameters(), lr=args.lr) for m, _ in models]
    seconds = [0.0] * len(libs)
    g = torch.Generator().manual_seed(seed)
    for step in range(args.steps):
        lr = args.lr * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        batch = target.sample(args.batch, g)
        for i, ((_, log_prob), opt) in enumerate(zip(models, opts)):
            t0 = time.perf_counter()
            for group in opt.param_groups:
                group["lr"] = lr
            loss = -log_prob(batch).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seconds[i] += time.perf_counter() - t0
            if args.progress and (step + 1) % args.progress == 0:
                print(f"  {libs[i]} {dist} seed {seed}: step {step + 1} loss {float(loss.detach()):.4f} "
                      f"({(step + 1) / seconds[i]:.1f} steps/s)", file=sys.stderr, flush=True)
    rows = []
    for lib, (model, log_prob), sec in zip(libs, models, seconds):
        kl, se = exact_kl(target, log_prob, args.eval)
        rows.append({"lib": lib, "dist": dist, "seed": seed, "kl": kl, "kl_se": se, "steps_per_sec": args.steps / sec,
                     "params": sum(p.numel() for p in model.parameters())})
    return rows


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dists", default="ring8,checkerboard,two_moons")
    p.add_argument("--seeds", default="0")
    p.add_argument("--libs", default="ours,zuko")
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--layers", type=int, default=2, help="hidden layers of each conditioner MLP")
    p.add_argument("--transforms", type=int, default=4)
    p.add_argument("--bins", type=int, default=16, help="spline bins (16: the page default)")
    p.add_argument("--zuko-bins", type=int, default=8, help="zuko's bins (8: its default, the issue's anchor)")
    p.add_argument("--eval", type=int, default=20_000, help="fresh target samples for the exact KL")
    p.add_argument("--progress", type=int, default=1000, help="print progress to stderr every N steps (0: off)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    libs = args.libs.split(",")
    if "zuko" in libs:
        try:
            import zuko  # noqa: F401
        except ImportError:
            print("zuko is not installed: skipping it (pip install -r requirements.txt)", flush=True)
            libs.remove("zuko")
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, one thread; "
          f"{args.steps} steps, batch {args.batch}, {args.transforms} transforms of {args.width}x{args.layers}, "
          f"{args.bins} bins (zuko {args.zuko_bins}), Adam {args.lr:g} cosine-decayed", flush=True)
    rows = []
    for dist in args.dists.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            for r in run(libs, dist, seed, args):
                rows.append(r)
                print(f"{r['lib']:5s} {dist:13s} seed {seed}: KL {r['kl']:.4f} +- {r['kl_se']:.4f} nats, "
                      f"{r['steps_per_sec']:.1f} steps/s, {r['params']} parameters", flush=True)
    print("\n| target | library | bins | seeds | exact KL (nats), mean | per seed | steps/s | parameters |")
    print("|---|---|---|---|---|---|---|---|")
    for dist in args.dists.split(","):
        for lib in libs:
            rs = [r for r in rows if r["dist"] == dist and r["lib"] == lib]
            kls = [r["kl"] for r in rs]
            bins = args.zuko_bins if lib == "zuko" else args.bins
            print(f"| {dist} | {lib} | {bins} | {len(rs)} | {np.mean(kls):.4f} | {', '.join(f'{k:.4f}' for k in kls)} | "
                  f"{np.mean([r['steps_per_sec'] for r in rs]):.1f} | {rs[0]['params']} |")


if __name__ == "__main__":
    main()
