"""The published toy-GAN tables, reproduced one row at a time: PacGAN Table 1 and VEEGAN Table 1 protocols.

`python -m playground toy table --protocol pacgan --target ring --variant pacgan2 --trials 10 --json` trains
`trials` seeds of one (protocol, target, variant), scores each on 2,500 generator samples with the lab's mode
metrics (`playground.toy.metrics.mode_metrics`) and prints mean ± standard error beside the published rows.

Sources, and what each one confirms (checked 2026-12-03; "fjxmlzn/PacGAN" is the authors' repository,
https://github.com/fjxmlzn/PacGAN, paths under synthetic_data_experiments/):
- 2DRing_GAN&PacGAN/config.py, 2DGrid_GAN&PacGAN/config.py: ring = 8 Gaussians at (cos 2πk/8, sin 2πk/8),
  std 0.01; grid = 25 Gaussians at {−4, −2, 0, 2, 4}², std 0.05; 2D noise N(0, I); G hidden 400, D hidden
  200 with 5 maxout pieces; weights N(0, 0.02), biases 0; Adam lr 1e-4, β1 0.8; batch 100; 400 epochs of
  100,000 examples; packing degree m ∈ {1, 2, 3, 4}; 10 runs each; 2,500 samples scored.
- 2DGrid_GAN&PacGAN/pacgan_task.py: G = 4 hidden layers (linear without bias, batch norm, ReLU), linear
  output with bias; D = 3 maxout layers + linear output, input 2·m; no dropout; batch-norm population
  statistics by a 0.05 moving average; D and G updated simultaneously from one graph (ali_algorithm,
  IshmaelBelghazi/ALI ali/algorithms.py: both gradients, one step).
- PacGAN/pacgan/streams.py, datasets.py: a fixed set of 100,000 packs (each member drawn with replacement from
  100,000 samples), shuffled batches of 100 packs → 1,000 updates per epoch, 400,000 updates per run.
- PacGAN/pacgan/bricks.py: D loss softplus(−D(real)) + softplus(D(fake)); G loss softplus(−D(fake)), i.e. the
  non-saturating loss.
- PacGAN/pacgan/extensions.py (MetricLogger, GraphLogger): samples from one fixed noise batch of 2,500, G with
  population statistics; a sample goes to the mode of least sqrt(Σ d²/σ²) and is high quality when that is < 3;
  a mode is covered by at least one high-quality sample; the logged "entropy of coverage" H of the
  high-quality mode histogram h gives KL(h ‖ uniform) = log K − H, which is our reverse KL.
- VEEGAN project page (akashgit/VEEGAN index.md): high quality = within 3 standard deviations of the nearest
  mode (2D); modes captured = components whose mean is nearest to at least one high-quality sample; 2,500
  samples per model; averaged over five runs; unrolled GAN with 5 unrolling steps.
NOT confirmed (we could not read the papers' tables: Table1.png in fjxmlzn/PacGAN and tab.png in
akashgit/VEEGAN are images, and no stored text of arXiv:1712.04086 or arXiv:1705.07761 reaches the tables):
- every published number in PROTOCOLS below (PacGAN and VEEGAN rows alike) is quoted from memory of the
  papers and must be checked against them before it is cited; that "reverse KL" in PacGAN's table is
  KL(h ‖ uniform) of the last epoch is our reading of the released code;
- VEEGAN's toy architectures, learning rates, batch size and step count: this protocol reuses the PacGAN
  architecture with 25,000 updates, a guess; also whether VEEGAN's ring and grid use PacGAN's radii and stds.
Where we differ from the released PacGAN code (each may move the numbers):
- our D and G updates alternate (D, then G on the updated D); theirs are simultaneous;
- we draw fresh real samples every step; they cycle through a fixed set of 100,000 packs;
- our G makes the m·100 samples of a packed batch in one batch-norm batch; theirs applies G to each of the m
  pack members separately (m batch-norm batches of 100);
- each trial is scored on its own noise (eval seed = trial index); theirs use one fixed noise batch.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from playground.configs import from_dict
from playground.errors import PlaygroundError
from playground.toy.config import ToyConfig

# (mean, standard error) per metric; hq in percent. None: not reported.
Row = dict[str, tuple[float, float | None] | None]

ARCHITECTURE = {"latent_dim": 2, "noise": "gaussian", "g_layers": 4, "g_width": 400, "g_batchnorm": True,
                "d_layers": 3, "d_width": 200, "d_maxout": 5, "activation": "relu", "init_std": 0.02,
                "loss": "nonsaturating", "r1": 0.0, "d_opt": "adam", "g_opt": "adam", "d_lr": 1e-4, "g_lr": 1e-4,
                "beta1": 0.8, "lr_half_life": 0, "d_steps": 1, "g_steps": 1, "batch_size": 100,
                "eval_samples": 2500}
TARGETS = {"ring": {"dist": "ring8", "n_modes": 8, "radius": 1.0, "std": 0.01},
           "grid": {"dist": "grid25", "n_modes": 5, "radius": 2.0, "std": 0.05}}
# Variants: the published methods this engine has (GAN, PacGAN-m) and toolbox configurations of the lab.
VARIANTS: dict[str, dict] = {
    "gan": {}, "pacgan2": {"pack": 2}, "pacgan3": {"pack": 3}, "pacgan4": {"pack": 4},
    "unrolled5": {"unrolled_steps": 5}, "minibatch_std": {"minibatch_std": True},
    "pacgan2_r1": {"pack": 2, "r1": 0.1}, "pacgan4_r1": {"pack": 4, "r1": 0.1},
}


def _r(mean: float, se: float | None = None) -> tuple[float, float | None]:
    return (mean, se)


@dataclass(frozen=True)
class Protocol:
    name: str
    source: str
    steps: int
    published: dict[str, dict[str, Row]] = field(default_factory=dict)   # target -> method -> row
    trials: int = 10                                                     # runs behind each published row
    steps_confirmed: bool = True          # False: `steps` is our guess, not the paper's (VEEGAN's toy runs)


# The released PacGAN run length: num_epoch epochs of num_sample packs in batches of batch_size packs.
PACGAN_EPOCHS, PACGAN_EXAMPLES = 400, 100_000
PACGAN_STEPS = PACGAN_EPOCHS * PACGAN_EXAMPLES // ARCHITECTURE["batch_size"]


PROTOCOLS: dict[str, Protocol] = {
    "pacgan": Protocol("pacgan", "Lin et al. 2018, PacGAN, Table 1 (mean ± s.e. over 10 trials; the numbers "
                       "are unconfirmed, see the module docstring)", PACGAN_STEPS, {
        "ring": {"gan": {"modes": _r(6.3, 0.5), "hq": _r(98.2, 0.2), "rkl": _r(0.45, 0.09)},
                 "ali": {"modes": _r(6.6, 0.3), "hq": _r(97.6, 0.4), "rkl": _r(0.36, 0.04)},
                 "minibatch_discrimination": {"modes": _r(4.3, 0.8), "hq": _r(36.6, 8.8), "rkl": _r(1.93, 0.11)},
                 "pacgan2": {"modes": _r(7.9, 0.1), "hq": _r(95.6, 2.0), "rkl": _r(0.07, 0.03)},
                 "pacgan3": {"modes": _r(7.8, 0.1), "hq": _r(97.7, 0.3), "rkl": _r(0.10, 0.02)},
                 "pacgan4": {"modes": _r(7.8, 0.1), "hq": _r(95.9, 1.4), "rkl": _r(0.07, 0.02)}},
        "grid": {"gan": {"modes": _r(17.3, 0.8), "hq": _r(94.8, 0.7), "rkl": _r(0.70, 0.07)},
                 "ali": {"modes": _r(24.1, 0.4), "hq": _r(95.7, 0.6), "rkl": _r(0.14, 0.03)},
                 "minibatch_discrimination": {"modes": _r(23.8, 0.5), "hq": _r(79.9, 3.2), "rkl": _r(0.17, 0.03)},
                 "pacgan2": {"modes": _r(23.8, 0.7), "hq": _r(91.3, 0.8), "rkl": _r(0.13, 0.04)},
                 "pacgan3": {"modes": _r(24.6, 0.4), "hq": _r(94.2, 0.4), "rkl": _r(0.06, 0.02)},
                 "pacgan4": {"modes": _r(24.8, 0.2), "hq": _r(93.6, 0.6), "rkl": _r(0.04, 0.01)}}}),
    "veegan": Protocol("veegan", "Srivastava et al. 2017, VEEGAN, Table 1 (mean of 5 runs, no error bars; the "
                       "numbers, step count and architecture are unconfirmed, see the module docstring)", 25_000, {
        "ring": {"gan": {"modes": _r(1.0), "hq": _r(99.3), "rkl": None},
                 "ali": {"modes": _r(2.8), "hq": _r(0.13), "rkl": None},
                 "unrolled5": {"modes": _r(7.6), "hq": _r(35.6), "rkl": None},
                 "veegan": {"modes": _r(8.0), "hq": _r(52.9), "rkl": None}},
        "grid": {"gan": {"modes": _r(3.3), "hq": _r(0.5), "rkl": None},
                 "ali": {"modes": _r(15.8), "hq": _r(1.6), "rkl": None},
                 "unrolled5": {"modes": _r(23.6), "hq": _r(16.0), "rkl": None},
                 "veegan": {"modes": _r(24.6), "hq": _r(40.0), "rkl": None}}}, trials=5, steps_confirmed=False),
}


def protocol_config(protocol: str, target: str, variant: str, seed: int = 0) -> ToyConfig:
    """The ToyConfig of one table cell (validated), or a PlaygroundError naming the choices."""
    for name, value, choices in (("protocol", protocol, PROTOCOLS), ("target", target, TARGETS),
                                 ("variant", variant, VARIANTS)):
        if value not in choices:
            raise PlaygroundError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")
    return from_dict(ToyConfig, {**ARCHITECTURE, **TARGETS[target], **VARIANTS[variant], "seed": seed})


def mean_se(values: list[float]) -> tuple[float | None, float | None]:
    """Mean and standard error (sample std / sqrt(n)); (None, None) for no values, se None for one."""
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    if not len(v):
        return None, None
    return float(v.mean()), (float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else None)


def run_trial(cfg: ToyConfig, steps: int, eval_seed: int = 0) -> dict:
    """Train one seed for `steps` updates and score 2,500 samples (the displayed generator, eval mode)."""
    from playground.toy.metrics import mode_metrics
    from playground.toy.trainer import ToyGAN

    gan = ToyGAN(cfg)
    t = time.perf_counter()
    gan.train(steps)
    seconds = time.perf_counter() - t
    x = gan.sample(cfg.eval_samples, seed=eval_seed)
    m = mode_metrics(x, gan.target.means, gan.target.covs)
    return {"seed": cfg.seed, "modes": m["modes_covered"], "hq": 100.0 * m["high_quality_frac"],
            "rkl": m["mode_kl"], "seconds": round(seconds, 1)}


def agrees(ours: tuple, published: tuple | None) -> bool | None:
    """Whether our mean lies within 2 combined standard errors of the published one (None: cannot tell)."""
    if published is None or ours[0] is None or published[1] is None or ours[1] is None:
        return None
    return abs(ours[0] - published[0]) <= 2 * math.hypot(ours[1], published[1])


def run_row(protocol: str, target: str, variant: str, trials: int | None = None, steps: int | None = None,
            seed0: int = 0, progress: Callable[[dict], None] | None = None) -> dict:
    """One row of the table: per-trial metrics, mean ± s.e. (`n_used`: the trials behind each mean: a trial
    with no high-quality sample has no mode histogram, so no reverse KL), and the published rows for this
    target. `trials` defaults to the protocol's (PacGAN 10, VEEGAN 5)."""
    cfg0 = protocol_config(protocol, target, variant, seed0)
    proto = PROTOCOLS[protocol]
    trials = proto.trials if trials is None else trials
    if trials < 1:
        raise PlaygroundError("--trials must be at least 1")
    steps = proto.steps if steps is None else steps
    if steps < 0:
        raise PlaygroundError("--steps must be >= 0")
    rows = []
    for i in range(trials):
        rows.append(run_trial(dataclasses.replace(cfg0, seed=seed0 + i), steps, eval_seed=i))
        if progress is not None:
            progress(rows[-1])
    ours = {k: mean_se([r[k] for r in rows]) for k in ("modes", "hq", "rkl")}
    n_used = {k: sum(r[k] is not None for r in rows) for k in ours}
    published = proto.published.get(target, {})
    same = published.get(variant)
    return {"protocol": protocol, "source": proto.source, "target": target, "variant": variant,
            "steps": steps, "protocol_steps": proto.steps, "trials": trials, "ours": ours, "n_used": n_used,
            "published_row": same,
            "agrees": None if same is None else {k: agrees(ours[k], same.get(k)) for k in ours},
            "published": published, "per_trial": rows}


def format_row(result: dict) -> str:
    """The row beside the published ones, for people."""
    def cell(v) -> str:
        if v is None or v[0] is None:
            return "–"
        return f"{v[0]:.2f}" + (f" ± {v[1]:.2f}" if v[1] is not None else "")

    lines = [f"{result['source']}; target {result['target']}; {result['steps']:,} steps "
             f"(protocol: {result['protocol_steps']:,}); {result['trials']} trials",
             f"{'method':38s} {'modes':>14s} {'high quality %':>16s} {'reverse KL':>14s}"]
    lines.append(f"{'ours: ' + result['variant']:38s} " + " ".join(
        f"{cell(result['ours'][k]):>{w}s}" for k, w in (("modes", 14), ("hq", 16), ("rkl", 14))))
    short = {k: n for k, n in result.get("n_used", {}).items() if n < result["trials"]}
    if short:
        lines.append("  (" + "; ".join(f"{k} over {n} of {result['trials']} trials: the others had no high-quality "
                                       "sample" for k, n in short.items()) + ")")
    for name, row in result["published"].items():
        lines.append(f"{'published: ' + name:38s} " + " ".join(
            f"{cell(row.get(k)):>{w}s}" for k, w in (("modes", 14), ("hq", 16), ("rkl", 14))))
    return "\n".join(lines)
