"""What each toolbox toggle of the GAN lab costs: steps/s with one toggle on against all off, same config.

Repeats of the plain run and of each toggle's run alternate in one process, so drifting machine load hits all
alike; each toggle's cost is reported as the ratio of medians (plain / toggled = how many times slower).
Expected: the look-ahead of the unrolled D costs about (1 + 2k) D passes per G step, packing m costs about m
times the sampling and D's first layer, the rest a few percent.

    .venv/bin/python bench/toy_tricks.py [--steps 200] [--repeats 3] [--clock cpu|wall] [--json]
        [--only pack,unrolled_steps]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import platform
import statistics
import sys
import time

import torch

from playground.configs import add_arguments, from_args
from playground.toy.config import ToyConfig
from playground.toy.trainer import ToyGAN

TOGGLES: dict[str, dict] = {
    "feature_matching": {"feature_matching": True},
    "minibatch_std": {"minibatch_std": True},
    "real_label": {"real_label": 0.9},
    "instance_noise": {"instance_noise": 0.1, "instance_noise_steps": 0},   # constant: never annealed away
    "hist_avg": {"hist_avg": 1.0},
    "unrolled_steps": {"unrolled_steps": 5},
    "pack": {"pack": 2},
    "g_ema": {"g_ema": 0.999},
    "r1_off": {"r1": 0.0},          # the default R1 (0.1) costs 1 / this
    "spectral_norm": {"spectral_norm": True},
}


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def steps_per_sec(gan: ToyGAN, n: int, clock=time.process_time) -> float:
    t = clock()
    gan.train(n)
    return n / (clock() - t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=200, help="iterations per timed repeat (default 200)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats of each run (default 3)")
    ap.add_argument("--warmup", type=int, default=20, help="untimed iterations of each run first")
    ap.add_argument("--only", default="", help="comma-separated toggle names (default: all)")
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                    help="this process's CPU time (default: steady on a shared machine) or wall time")
    ap.add_argument("--json", action="store_true", help="print only the JSON summary")
    add_arguments(ap, ToyConfig)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    base = from_args(ToyConfig, args)
    names = [n for n in TOGGLES if not args.only or n in args.only.split(",")]
    runs = {"plain": ToyGAN(base)}
    runs.update({n: ToyGAN(dataclasses.replace(base, **TOGGLES[n])) for n in names})
    rates: dict[str, list[float]] = {k: [] for k in runs}
    for gan in runs.values():
        gan.train(args.warmup)
    for i in range(args.repeats):
        order = list(runs.items())
        for name, gan in (order if i % 2 == 0 else order[::-1]):
            rates[name].append(steps_per_sec(gan, args.steps, CLOCKS[args.clock]))
        if not args.json:
            print(f"repeat {i + 1}/{args.repeats}: " + "  ".join(f"{k} {v[-1]:.0f}" for k, v in rates.items()),
                  flush=True)
    plain = statistics.median(rates["plain"])
    rows = {n: {"steps_per_sec": round(statistics.median(rates[n]), 1),
                "slowdown": round(plain / statistics.median(rates[n]), 2), "changes": TOGGLES[n]} for n in names}
    summary = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "machine": {"cpu": platform.processor() or platform.machine(), "torch": torch.__version__,
                           "threads": 1},
               "steps_per_repeat": args.steps, "repeats": args.repeats, "clock": args.clock,
               "plain_steps_per_sec": round(plain, 1), "toggles": rows}
    if not args.json:
        print(f"\nplain: {plain:.1f} steps/s")
        for n, r in rows.items():
            print(f"  {n:24s} {r['steps_per_sec']:8.1f} steps/s  time per step x{r['slowdown']:.2f}")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
