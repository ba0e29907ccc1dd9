"""Speed of the divergence lab's engine: `.venv/bin/python bench/divergence_fits.py [--json]`.

The issue's target: a full multi-start fit of one divergence to a 1D target in under one second on one CPU
core, so that dragging a slider refits live. Times are CPU seconds of this process (BLAS limited to one
thread), median of `repeats` runs, on the CLI's example target with 20 restarts.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

from playground.divergences.densities import resolve_target_1d, target_2d
from playground.divergences.fit import fit_1d
from playground.divergences.fit2d import fit_2d
from playground.divergences.measures import NAMES, all_divergences

TARGET = "0.3*N(-2,0.5)+0.7*N(1.5,1)"


def _cpu(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return statistics.median(times)


def run(repeats: int = 3, restarts: int = 20) -> dict:
    p = resolve_target_1d(TARGET)
    out = {"target": TARGET, "restarts": restarts, "machine": platform.processor() or platform.machine(),
           "fit_1d_seconds": {}, "fit_1d_mixture2_seconds": {}}
    for name in (*NAMES, "alpha:0.5"):
        out["fit_1d_seconds"][name] = round(_cpu(lambda n=name: fit_1d(p, n, restarts=restarts), repeats), 3)
    for name in ("kl", "rkl", "js"):
        out["fit_1d_mixture2_seconds"][name] = round(
            _cpu(lambda n=name: fit_1d(p, n, "mixture", components=2, restarts=restarts), repeats), 3)
    q = resolve_target_1d("N(0,1)")
    out["all_divergences_seconds"] = round(_cpu(lambda: all_divergences(p, q, [0.5]), repeats), 4)
    ring = target_2d("ring")
    out["fit_2d_ring_rkl_4_restarts_seconds"] = round(_cpu(lambda: fit_2d(ring, "rkl", restarts=4), 1), 3)
    out["worst_fit_1d_seconds"] = max(out["fit_1d_seconds"].values())
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--restarts", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    res = run(args.repeats, args.restarts)
    if args.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
