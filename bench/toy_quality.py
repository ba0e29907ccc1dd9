"""Does the GAN lab's default config learn ring8? Seeds 0..N-1 through the CLI, one after another.

Each seed runs `python -m playground toy train --dist ring8 --steps S --seed s --json` (the CLI's own code path:
ToyConfig defaults, `ToyGAN.train`, then `evaluate` on 2,500 fresh samples), so the numbers are exactly what a
user of the CLI gets. A seed succeeds if all 8 modes are covered, at least 90% of samples are high quality
(Mahalanobis distance < 3 to the nearest mode) and the mode KL is below 0.1 (VEEGAN / PacGAN protocol).

    .venv/bin/python bench/toy_quality.py [--seeds 10] [--steps 10000] [--quick] [--jobs 2] [--json] [-- --g-width 64 ...]

Flags after `--` go to the CLI unchanged (to compare another config with the defaults).
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIN_HQ = 0.90
MAX_MODE_KL = 0.10


def run_seed(seed: int, steps: int, extra: list[str]) -> dict:
    cmd = [sys.executable, "-m", "playground", "toy", "train", "--dist", "ring8", "--steps", str(steps),
           "--seed", str(seed), "--threads", "1", "--json", *extra]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"seed {seed} failed ({out.returncode}):\n{out.stderr}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    kl = r["mode_kl"]
    ok = r["modes_covered"] == r["n_modes"] and r["high_quality_frac"] >= MIN_HQ and kl is not None \
        and kl < MAX_MODE_KL
    return {"seed": seed, "modes_covered": r["modes_covered"], "n_modes": r["n_modes"],
            "high_quality_frac": round(r["high_quality_frac"], 4), "mode_kl": None if kl is None else round(kl, 4),
            "steps_per_sec": r["steps_per_sec"], "ok": bool(ok), "config": r["config"]}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10, help="run seeds 0..N-1 (default 10)")
    ap.add_argument("--steps", type=int, default=10_000, help="iterations per seed (default 10000)")
    ap.add_argument("--quick", action="store_true", help="smoke check: 2 seeds, 2,000 steps")
    ap.add_argument("--json", action="store_true", help="print only the JSON summary")
    ap.add_argument("--jobs", type=int, default=1, help="seeds run at once (one thread each; default 1)")
    args = ap.parse_args(argv)
    seeds, steps = (2, 2000) if args.quick else (args.seeds, args.steps)

    rows = []
    if not args.json:
        print(f"ring8, {steps} steps, seeds 0..{seeds - 1}{' (extra flags: ' + ' '.join(extra) + ')' if extra else ''}")
        print(f"{'seed':>4} {'modes':>6} {'HQ':>7} {'mode KL':>8} {'steps/s':>8}  ok")
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = pool.map(lambda s: run_seed(s, steps, extra), range(seeds))
    for s, r in enumerate(results):
        rows.append(r)
        if not args.json:
            kl = "-" if r["mode_kl"] is None else f"{r['mode_kl']:.4f}"
            print(f"{s:>4} {r['modes_covered']:>3}/{r['n_modes']:<2} {r['high_quality_frac']:>7.3f} {kl:>8} "
                  f"{r['steps_per_sec']:>8}  {'yes' if r['ok'] else 'no'}", flush=True)
    cfg = rows[0]["config"] if rows else {}
    for r in rows:
        r.pop("config")
    n_ok = sum(r["ok"] for r in rows)
    summary = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "target": "ring8", "steps": steps, "seeds": seeds, "extra_flags": extra,
        "criteria": {"modes": "all", "min_high_quality_frac": MIN_HQ, "max_mode_kl": MAX_MODE_KL},
        "seeds_meeting_all": n_ok,
        "mean_modes_covered": round(sum(r["modes_covered"] for r in rows) / max(len(rows), 1), 2),
        "mean_high_quality_frac": round(sum(r["high_quality_frac"] for r in rows) / max(len(rows), 1), 4),
        "mean_steps_per_sec": round(sum(r["steps_per_sec"] or 0 for r in rows) / max(len(rows), 1), 1),
        "per_seed": rows, "config": cfg,
    }
    if not args.json:
        print(f"{n_ok}/{seeds} seeds met all three criteria")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
