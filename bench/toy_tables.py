"""The published toy tables (PacGAN / VEEGAN Table 1), ours beside theirs, as a markdown table.

    nice -n 10 .venv/bin/python bench/toy_tables.py --rows pacgan:ring:gan,pacgan:ring:pacgan2 \
        --trials 10 [--steps 400000] [--out /tmp/toy_tables.jsonl]
    .venv/bin/python bench/toy_tables.py --render [--out /tmp/toy_tables.jsonl]

Rows run one after another in this one process (one torch thread: the machine is shared); each finished row is
appended to --out as one JSON line, so a run cut short keeps its finished rows. --render prints the markdown of
every row in --out beside the published rows of `playground.toy.table.PROTOCOLS` (read at render time), with the
steps and trials each row actually ran, so a shortened run is never shown as the full protocol.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

METRICS = (("modes", "modes"), ("hq", "high quality %"), ("rkl", "reverse KL"))


def cell(v) -> str:
    """'mean ± s.e.' ('–' for not reported; no ± when no error bar)."""
    if v is None or v[0] is None:
        return "–"
    return f"{v[0]:.2f}" + (f" ± {v[1]:.2f}" if v[1] is not None else "")


def within(ours, published) -> str:
    """Per metric: 'yes'/'no' for within 2 combined s.e. (table.agrees), '?' when either has no error bar."""
    from playground.toy.table import agrees

    flags = []
    for key, _ in METRICS:
        ok = agrees(tuple(ours[key]), None if published is None or published.get(key) is None
                    else tuple(published[key]))
        flags.append("?" if ok is None else ("yes" if ok else "no"))
    return "/".join(flags)


def render(results: list[dict]) -> str:
    """One markdown table per (protocol, target): our rows, then the published rows of that table."""
    from playground.toy.table import PROTOCOLS

    out = []
    for key in dict.fromkeys((r["protocol"], r["target"]) for r in results):
        proto = PROTOCOLS[key[0]]
        rows = [r for r in results if (r["protocol"], r["target"]) == key]
        out.append(f"**{key[0]} protocol, {key[1]}** ({proto.source}; protocol length {proto.steps:,} updates)\n")
        out.append("| row | updates | trials | " + " | ".join(h for _, h in METRICS)
                   + " | within 2 s.e. of published (modes/hq/rkl) |")
        out.append("|---|---|---|" + "---|" * len(METRICS) + "---|")
        for r in rows:
            pub = proto.published.get(key[1], {}).get(r["variant"])
            used = r.get("n_used", {})
            out.append(f"| ours: {r['variant']} | {r['steps']:,} | {r['trials']} | "
                       + " | ".join(cell(r["ours"][k]) + (f" ({used[k]} of {r['trials']} trials)"
                                                          if used.get(k, r["trials"]) < r["trials"] else "")
                                    for k, _ in METRICS)
                       + f" | {within(r['ours'], pub) if pub else 'no published row'} |")
        for name, row in proto.published.get(key[1], {}).items():
            updates = f"{proto.steps:,}" if proto.steps_confirmed else "– (not stated)"
            out.append(f"| published: {name} | {updates} | {proto.trials} | "
                       + " | ".join(cell(row.get(k)) for k, _ in METRICS) + " | |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="pacgan:ring:gan,pacgan:ring:pacgan2,pacgan:grid:gan,pacgan:grid:pacgan2",
                    help="comma-separated protocol:target:variant")
    ap.add_argument("--trials", type=int, default=None, help="default: each protocol's (PacGAN 10, VEEGAN 5)")
    ap.add_argument("--steps", type=int, default=None, help="updates per trial (default: the protocol's)")
    ap.add_argument("--out", default="/tmp/toy_tables.jsonl")
    ap.add_argument("--render", action="store_true", help="print the markdown of the rows in --out and stop")
    args = ap.parse_args(argv)
    if args.render:
        with open(args.out) as f:
            print(render([json.loads(line) for line in f if line.strip()]))
        return 0

    import torch

    from playground.toy.table import run_row

    torch.set_num_threads(1)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", file=sys.stderr)
    for spec in args.rows.split(","):
        protocol, target, variant = spec.split(":")

        def progress(t: dict, spec=spec) -> None:
            print(f"{spec} seed {t['seed']}: {t}", file=sys.stderr, flush=True)

        r = run_row(protocol, target, variant, args.trials, args.steps, progress=progress)
        r.pop("published")
        with open(args.out, "a") as f:
            f.write(json.dumps(r) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
