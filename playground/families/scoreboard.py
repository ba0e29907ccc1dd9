"""One scoreboard for every family, on fresh model samples and held-out target points.

- Exact KL(p||q) = E_p[log p - log q] in nats, estimated on held-out target points, for models with an exact
  density (`kl`, with its Monte Carlo standard error `kl_se`), and the NLL E_p[-log q]. A VAE reports a lower
  bound on log q, so E_p[log p - bound] is an UPPER bound on its KL: it goes in `kl_bound` / `nll_bound`,
  never in `kl` / `nll`.
- The target's entropy -E_p[log p] on the same points: the floor of the NLL (NLL = entropy + KL).
- Sample-based, for every model: the GAN lab's grid KL / reverse KL / JS and, on mixture targets, modes
  covered, high-quality fraction and mode KL (`playground.toy.metrics.evaluate`).
- Parameters, sampling speed, and the training steps / seconds / steps per second when given.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from playground.toy.metrics import evaluate

EVAL_SEED = 1_000_003          # held-out target points and model samples use generators of their own


def _mean_se(v: np.ndarray) -> tuple[float, float]:
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else float("nan")


def scoreboard(model, target, n: int = 2500, seed: int = EVAL_SEED, *, steps: int | None = None,
               seconds: float | None = None) -> dict:
    """The scoreboard row of `model` on `target` with n fresh samples and n held-out target points."""
    row: dict = {"model": getattr(model, "family", type(model).__name__),
                 "likelihood": getattr(model, "likelihood", "none"),
                 "likelihood_note": getattr(model, "likelihood_note", None),     # how an exact log q is computed
                 "params": int(sum(p.numel() for p in model.parameters())) if hasattr(model, "parameters") else 0,
                 "steps": steps, "seconds": seconds,
                 "steps_per_sec": (steps / seconds) if steps and seconds else None}
    for key in ("kl", "kl_se", "nll", "kl_bound", "kl_bound_se", "nll_bound", "target_entropy",
                "target_entropy_se"):
        row[key] = None
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        t0 = time.perf_counter()
        with torch.no_grad():
            samples = model.sample(n, torch.Generator().manual_seed(seed))
        dt = time.perf_counter() - t0
        row["samples_per_sec"] = n / dt if dt > 0 else None
        if target.has_density:
            held_out = target.sample(n, torch.Generator().manual_seed(seed + 1))
            log_p = target.log_prob(held_out.numpy())
            row["target_entropy"], row["target_entropy_se"] = _mean_se(-log_p)
            if row["likelihood"] in ("exact", "bound"):
                with torch.no_grad():
                    log_q = model.log_prob(held_out).detach().double().numpy()
                prefix = "kl" if row["likelihood"] == "exact" else "kl_bound"
                row[prefix], row[prefix + "_se"] = _mean_se(log_p - log_q)
                row["nll" if prefix == "kl" else "nll_bound"] = float(-log_q.mean())
    finally:
        if was_training:
            model.train()
    metrics = evaluate(target, samples)
    row["modes_covered"] = metrics.get("modes_covered")
    row["n_modes"] = metrics.get("n_modes")
    row["high_quality"] = metrics.get("high_quality_frac")
    row["mode_kl"] = metrics.get("mode_kl")
    row["grid_kl"] = metrics.get("kl")
    row["grid_rkl"] = metrics.get("rkl")
    row["grid_js"] = metrics.get("js")
    return row


COLUMNS = ("model", "likelihood", "steps", "steps_per_sec", "params", "kl", "kl_bound", "nll", "nll_bound",
           "target_entropy", "modes_covered", "high_quality", "mode_kl", "grid_kl", "grid_rkl", "grid_js",
           "samples_per_sec")


def format_table(rows: list[dict], columns: tuple = COLUMNS) -> str:
    """A plain-text table, one row per model (None shows as '-')."""
    def cell(v) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    table = [list(columns)] + [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(columns))]
    return "\n".join("  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in table)
