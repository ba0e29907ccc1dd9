"""Our flow-matching family against torchcfm (the conditional-flow-matching library of Tong et al.) on one toy
target, at equal steps, batch, network size and optimiser, every model scored by the same scoreboard (exact KL
through the ODE with the exact divergence, modes, high-quality fraction, grid JS on 2,500 fresh samples).

    pip install --target /tmp/torchcfm_libs --no-deps torchcfm==1.0.7 pot==0.9.7.post1
    PYTHONPATH=/tmp/torchcfm_libs .venv/bin/python bench/families_torchcfm.py [--steps 10000] [--seeds 0,1]
        [--dist ring8] [--jobs 2] [--json]

(`pip install torchcfm==1.0.7` works too but pulls lightning, ipykernel and more into the venv; the bench needs
only torchcfm and pot.) Without torchcfm the bench says so and runs our rows only. Rows:
- ours: the FamilyConfig defaults (TimeMLP 3 x 128, sin/cos features of t and of the input, Adam 4e-3 cosine).
- torchcfm_loss: the same network, data scaling and optimiser; torchcfm's ConditionalFlowMatcher(sigma=0)
  draws t, x_t and the target velocity u_t (its mean-squared loss) instead of ours.
- ours_plain: our family with input_octaves=0 (no input features).
- torchcfm_mlp: torchcfm's own MLP (3 x 128 SELU, t as an input, as in its 2D examples) with its matcher.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from concurrent.futures import ProcessPoolExecutor

import torch

VARIANTS = ("ours", "torchcfm_loss", "ours_plain", "torchcfm_mlp")


def have_torchcfm() -> bool:
    try:
        import torchcfm  # noqa: F401
    except ImportError:
        return False
    return True


class TimeInput(torch.nn.Module):
    """torchcfm's MLP (input [x, t]) behind our velocity(z, t) signature."""

    def __init__(self, net: torch.nn.Module):
        super().__init__()
        self.net = net

    def forward(self, z: torch.Tensor, t) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=z.dtype).reshape(-1, 1).expand(z.shape[0], 1)
        return self.net(torch.cat([z, t], dim=1))


def run(variant: str, dist: str, seed: int, steps: int) -> dict:
    torch.set_num_threads(1)
    torch.manual_seed(seed)                 # torchcfm draws t from the global generator
    from playground.families.config import FamilyConfig
    from playground.families.scoreboard import scoreboard
    from playground.families.trainer import FamilyTrainer

    cfg = FamilyConfig(model="flow_matching", dist=dist, seed=seed, steps=steps,
                       input_octaves=0 if variant in ("ours_plain", "torchcfm_mlp") else 4)
    tr = FamilyTrainer(cfg)
    model = tr.model
    if variant.startswith("torchcfm"):
        from torchcfm.conditional_flow_matching import ConditionalFlowMatcher
        from torchcfm.models.models import MLP

        if variant == "torchcfm_mlp":
            model.net = TimeInput(MLP(dim=model.dim, w=cfg.width, time_varying=True))
            tr.opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, foreach=True)
        matcher = ConditionalFlowMatcher(sigma=0.0)

        def loss(batch, generator):
            z1 = model.scale.to_z(batch)
            z0 = torch.randn(z1.shape, generator=generator)
            t, zt, ut = matcher.sample_location_and_conditional_flow(z0, z1)
            return torch.mean((model.velocity(zt, t) - ut) ** 2)

        model.training_loss = loss
    tr.train(steps)
    row = scoreboard(model, tr.target, cfg.eval_samples, steps=tr.step, seconds=tr.seconds)
    row.update(variant=variant, seed=seed, dist=dist)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--dist", default="ring8")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    variants = VARIANTS if have_torchcfm() else tuple(v for v in VARIANTS if not v.startswith("torchcfm"))
    if len(variants) < len(VARIANTS):
        print("torchcfm is not installed: our rows only (see this script's docstring to install it)", file=sys.stderr)
    seeds = [int(s) for s in args.seeds.split(",")]
    jobs = [(v, args.dist, s, args.steps) for v in variants for s in seeds]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = list(pool.map(run, *zip(*jobs)))
    if args.json:
        for r in rows:
            print(json.dumps(r))
        return 0
    from playground.families.scoreboard import format_table

    print(f"{args.dist}, {args.steps} steps, seeds {seeds}, one thread per run, {platform.machine()}, "
          f"torch {torch.__version__}")
    print(format_table(rows, ("variant", "seed", "params", "steps_per_sec", "kl", "kl_se", "target_entropy",
                              "modes_covered", "high_quality", "grid_js")))
    for v in variants:
        mine = [r for r in rows if r["variant"] == v]
        kl = [r["kl"] for r in mine if r["kl"] is not None]
        hq = [r["high_quality"] for r in mine]
        print(f"{v}: mean over {len(mine)} seeds: kl {sum(kl) / len(kl):.4f}, high_quality {sum(hq) / len(hq):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
