"""The published toy-GAN tables, reproduced one row at a time: PacGAN Table 1 and VEEGAN Table 1 protocols.

`python -m playground toy table --protocol pacgan --target ring --variant pacgan2 --trials 10 --json` trains
`trials` seeds of one (protocol, target, variant), scores each on 2,500 generator samples with the lab's mode
metrics (`playground.toy.metrics.mode_metrics`: a sample is high quality within 3 standard deviations of its
nearest mode, a mode is covered by at least one high-quality sample, reverse KL is KL(histogram of the
high-quality samples' modes ‖ uniform)) and prints mean ± standard error beside the published rows.

PacGAN protocol (Lin et al. 2018, Table 1; read from the authors' released configuration, fjxmlzn/PacGAN,
synthetic_data_experiments): ring = 8 Gaussians on the unit circle, std 0.01; grid = 25 Gaussians at
{−4, −2, 0, 2, 4}², std 0.05. Generator: 2D standard normal noise, 4 hidden layers of 400 units, batch norm
before each ReLU (no bias there), linear output. Discriminator: 3 maxout layers of 200 units with 5 pieces,
linear output, input 2·m for packing degree m (only the input layer grows). All weights N(0, 0.02), biases 0.
Standard GAN loss with the non-saturating generator loss. Adam, learning rate 1e-4, β1 0.8, batches of 100
(packs). 400 epochs of 100,000 examples = 400,000 updates (our reading of num_epoch and num_sample). 10 trials.
Protocol details we are unsure of or do differently (each may move the numbers):
- their updates of D and G are simultaneous on one batch (ALI's algorithm); ours alternate, D then G;
- they train on a fixed set of 100,000 examples (re-shuffled each epoch); we draw fresh samples every step;
- they score the samples after the last epoch with batch statistics of the 2,500-sample batch; we use the
  generator in eval mode (running statistics, momentum 0.05 as theirs);
- the published numbers below are quoted from memory of the paper's Table 1; check them against
  arXiv:1712.04086 before citing them.
VEEGAN protocol (Srivastava et al. 2017, Table 1): the same two targets and metrics; the published rows have
no error bars. We do not know VEEGAN's exact toy architectures, learning rates or step counts: this protocol
uses the PacGAN architecture above (PacGAN states it follows VEEGAN's set-up) with 25,000 updates, which is a
guess to be replaced by the paper's appendix values; its published rows are also quoted from memory.
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


PROTOCOLS: dict[str, Protocol] = {
    "pacgan": Protocol("pacgan", "Lin et al. 2018, PacGAN, Table 1 (mean ± s.e. over 10 trials)", 400_000, {
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
    "veegan": Protocol("veegan", "Srivastava et al. 2017, VEEGAN, Table 1 (no error bars published)", 25_000, {
        "ring": {"gan": {"modes": _r(1.0), "hq": _r(99.3), "rkl": None},
                 "ali": {"modes": _r(2.8), "hq": _r(0.13), "rkl": None},
                 "unrolled5": {"modes": _r(7.6), "hq": _r(35.6), "rkl": None},
                 "veegan": {"modes": _r(8.0), "hq": _r(52.9), "rkl": None}},
        "grid": {"gan": {"modes": _r(3.3), "hq": _r(0.5), "rkl": None},
                 "ali": {"modes": _r(15.8), "hq": _r(1.6), "rkl": None},
                 "unrolled5": {"modes": _r(23.6), "hq": _r(16.0), "rkl": None},
                 "veegan": {"modes": _r(24.6), "hq": _r(40.0), "rkl": None}}}),
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


def run_row(protocol: str, target: str, variant: str, trials: int = 10, steps: int | None = None,
            seed0: int = 0, progress: Callable[[dict], None] | None = None) -> dict:
    """One row of the table: per-trial metrics, mean ± s.e., and the published rows for this target."""
    if trials < 1:
        raise PlaygroundError("--trials must be at least 1")
    proto = PROTOCOLS.get(protocol)
    cfg0 = protocol_config(protocol, target, variant, seed0)
    steps = proto.steps if steps is None else steps
    if steps < 0:
        raise PlaygroundError("--steps must be >= 0")
    rows = []
    for i in range(trials):
        rows.append(run_trial(dataclasses.replace(cfg0, seed=seed0 + i), steps, eval_seed=i))
        if progress is not None:
            progress(rows[-1])
    ours = {k: mean_se([r[k] for r in rows]) for k in ("modes", "hq", "rkl")}
    published = proto.published.get(target, {})
    same = published.get(variant)
    return {"protocol": protocol, "source": proto.source, "target": target, "variant": variant,
            "steps": steps, "protocol_steps": proto.steps, "trials": trials, "ours": ours,
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
    for name, row in result["published"].items():
        lines.append(f"{'published: ' + name:38s} " + " ".join(
            f"{cell(row.get(k)):>{w}s}" for k, w in (("modes", 14), ("hq", 16), ("rkl", 14))))
    return "\n".join(lines)
