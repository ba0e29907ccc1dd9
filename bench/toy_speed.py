"""Steps/s of the GAN lab's training loop (`ToyGAN.train`) against a bare PyTorch loop doing the same work.

The bare loop is what one would write by hand: the same MLPs (same widths, depths, activation, initial
weights), batch, losses (the default non-saturating GAN, plus the R1 penalty when it is on), Adam settings,
learning-rate half-life and real-data sampling (a random mode centre plus Gaussian noise), with no history, no
config look-ups and no metrics. Repeats of both alternate in one process so that drifting machine load hits
both alike; the ratio of the medians is reported (target: engine >= 0.90 x bare).

    .venv/bin/python bench/toy_speed.py [--steps 500] [--repeats 7] [--threads 1] [--clock wall|cpu] [--json]
        [--g-width 64 ...]

Any ToyConfig flag (e.g. --batch-size 128) changes the config both loops run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from playground.configs import add_arguments, from_args
from playground.machine import cpu_model
from playground.toy.config import ToyConfig
from playground.toy.trainer import ToyGAN

ACT = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "elu": nn.ELU, "tanh": nn.Tanh}


def bare_mlp(n_in: int, n_out: int, layers: int, width: int, act: str) -> nn.Sequential:
    mods: list[nn.Module] = []
    d = n_in
    for _ in range(layers):
        mods += [nn.Linear(d, width), ACT[act]()]
        d = width
    mods.append(nn.Linear(d, n_out))
    return nn.Sequential(*mods)


class BareLoop:
    """A hand-written GAN loop over copies of the engine's initial networks."""

    def __init__(self, gan: ToyGAN):
        c = gan.cfg
        if c.loss != "nonsaturating" or c.d_opt != "adam" or c.g_opt != "adam" or c.spectral_norm:
            raise SystemExit("the bare loop implements the non-saturating GAN with Adam and no spectral norm")
        self.c = c
        self.G = bare_mlp(c.latent_dim, 2, c.g_layers, c.g_width, c.activation)
        self.D = bare_mlp(2, 1, c.d_layers, c.d_width, c.activation)
        self.G.load_state_dict(gan.G.state_dict())
        self.D.load_state_dict(gan.D.state_dict())
        betas = (c.beta1, 0.999)
        self.d_opt = torch.optim.Adam(self.D.parameters(), lr=c.d_lr, betas=betas, foreach=True)
        self.g_opt = torch.optim.Adam(self.G.parameters(), lr=c.g_lr, betas=betas, foreach=True)
        self.means = torch.as_tensor(gan.target.means, dtype=torch.float32)
        self.std = float(c.std)
        self.rng = torch.Generator().manual_seed(c.seed)
        self.step = 0

    def train(self, n: int) -> None:
        c, G, D, rng = self.c, self.G, self.D, self.rng
        b, k, nz, r1, hl = c.batch_size, len(self.means), c.latent_dim, c.r1, c.lr_half_life
        d_group, g_group = self.d_opt.param_groups[0], self.g_opt.param_groups[0]
        for _ in range(n):
            for _ in range(c.d_steps):
                real = self.means[torch.randint(k, (b,), generator=rng)]
                real.add_(torch.randn(b, 2, generator=rng), alpha=self.std)
                with torch.no_grad():
                    fake = G(torch.randn(b, nz, generator=rng))
                if r1 > 0:
                    real.requires_grad_(True)
                real_out = D(real)
                loss = (F.softplus(-real_out) + F.softplus(D(fake))).mean()
                if r1 > 0:
                    (grad,) = torch.autograd.grad(real_out.sum(), real, create_graph=True)
                    loss = loss + r1 * 0.5 * grad.pow(2).sum(dim=1).mean()
                self.d_opt.zero_grad(set_to_none=True)
                loss.backward()
                self.d_opt.step()
            for _ in range(c.g_steps):
                loss = F.softplus(-D(G(torch.randn(b, nz, generator=rng)))).mean()
                self.g_opt.zero_grad(set_to_none=True)
                loss.backward()
                self.g_opt.step()
            self.step += 1
            if hl:
                f = 0.5 ** (self.step / hl)
                d_group["lr"], g_group["lr"] = c.d_lr * f, c.g_lr * f


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def timed(fn, n: int, clock=time.perf_counter) -> float:
    t = clock()
    fn(n)
    return n / (clock() - t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=500, help="iterations per timed repeat (default 500)")
    ap.add_argument("--repeats", type=int, default=7, help="timed repeats of each loop (default 7)")
    ap.add_argument("--warmup", type=int, default=50, help="untimed iterations of each loop first")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as the CLI)")
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                    help="wall time, or this process's CPU time (steadier on a machine shared with other jobs)")
    ap.add_argument("--json", action="store_true", help="print only the JSON summary")
    add_arguments(ap, ToyConfig)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = from_args(ToyConfig, args)

    engine = ToyGAN(cfg)
    bare = BareLoop(engine)
    engine.train(args.warmup)
    bare.train(args.warmup)
    eng, ref = [], []
    for i in range(args.repeats):
        order = [(engine.train, eng), (bare.train, ref)]
        for fn, out in (order if i % 2 == 0 else order[::-1]):
            out.append(timed(fn, args.steps, CLOCKS[args.clock]))
        if not args.json:
            print(f"repeat {i + 1}/{args.repeats}: engine {eng[-1]:7.1f}  bare {ref[-1]:7.1f} steps/s", flush=True)
    e, r = statistics.median(eng), statistics.median(ref)
    c = engine.cfg
    summary = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"cpu": cpu_model(), "logical_cpus": __import__("os").cpu_count(),
                    "python": platform.python_version(), "torch": torch.__version__,
                    "threads": torch.get_num_threads()},
        "config": {k: getattr(c, k) for k in ("dist", "g_layers", "g_width", "d_layers", "d_width", "activation",
                                               "latent_dim", "batch_size", "loss", "r1", "d_lr", "g_lr", "beta1",
                                               "lr_half_life", "d_steps", "g_steps")},
        "steps_per_repeat": args.steps, "repeats": args.repeats, "clock": args.clock,
        "engine_steps_per_sec": round(e, 1), "bare_steps_per_sec": round(r, 1),
        "engine_all": [round(v, 1) for v in eng], "bare_all": [round(v, 1) for v in ref],
        "ratio": round(e / r, 3), "target_ratio": 0.90, "meets_target": e / r >= 0.90,
    }
    if not args.json:
        m = summary["machine"]
        print(f"\n{summary['date']}  {m['cpu']}  torch {m['torch']}  threads {m['threads']}")
        print(f"engine {e:.1f} steps/s, bare {r:.1f} steps/s (medians of {args.repeats}): "
              f"ratio {e / r:.3f} (target >= 0.90)")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
