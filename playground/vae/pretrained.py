"""The shipped VAE models: how each is trained (the project's own CLI), its card, and loading by name.

    python -m playground.vae.pretrained            # retrain all (about 7 minutes on one CPU thread)
    python -m playground.vae.pretrained digits-2d  # retrain one

Each model is `pretrained/vae/NAME.pt` (weights + config, no optimizer state) with `NAME.json`, its card:
dataset, config, the exact command, metrics and the sha256 of the .pt, which loading checks.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playground.cards import read_cards, retrain_main, write_card
from playground.errors import PlaygroundError
from playground.paths import pretrained_dir

ROOT = pretrained_dir() / "vae"

MODELS: dict[str, dict] = {
    "mnist5k-2d": {"title": "MNIST (mnist5k, 28x28) VAE, 2 latents (the classic manifold)",
                   "args": "--dataset mnist5k --latent-dim 2 --hidden 256 --epochs 200 --kl-weight 1 --seed 0"},
    "digits-2d": {"title": "Digits VAE, 2 latents (manifold)",
                  "args": "--dataset digits --latent-dim 2 --hidden 128 --epochs 50 --kl-weight 1 --seed 0"},
    "digits-16d": {"title": "Digits VAE, 16 latents",
                   "args": "--dataset digits --latent-dim 16 --hidden 128 --epochs 50 --kl-weight 1 --seed 0"},
    "digits-cvae": {"title": "Digits conditional VAE, 4 latents (class swaps)",
                    "args": "--dataset digits --latent-dim 4 --hidden 128 --epochs 50 --kl-weight 1 --conditional 1"
                    " --seed 0"},
    "sprites-vae": {"title": "Sprites VAE (beta = 1), 8 latents",
                    "args": "--dataset sprites --resolution 16 --latent-dim 8 --hidden 128"
                    " --epochs 60 --kl-weight 1 --iwae-k 16 --seed 0"},
    "sprites-bvae": {"title": "Sprites beta-VAE (beta = 4), 8 latents",
                     "args": "--dataset sprites --resolution 16 --latent-dim 8 --hidden 128"
                    " --epochs 60 --kl-weight 4 --iwae-k 16 --seed 0"},
    "digits-conv-gauss": {"title": "Digits conv VAE, Gaussian decoder with learned variance, 8 latents",
                          "args": "--dataset digits --arch conv --decoder gaussian --latent-dim 8"
                    " --hidden 96 --epochs 100 --kl-weight 1 --seed 0"},
}
KEEP_METRICS = ("test_elbo", "test_recon", "test_kl", "test_iwae", "iwae_k", "active_units", "kl_per_dim", "mig",
                "mig_per_factor", "train_seconds", "params", "epochs")


def command(name: str, out: str = "RUN_DIR") -> str:
    return f"python -m playground vae train {MODELS[name]['args']} --threads 1 --out {out} --json"


def train_one(name: str, root: Path = ROOT) -> dict:
    import torch

    from playground.vae.checkpoint import read_checkpoint, sha256_file

    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        argv = [sys.executable, *shlex.split(command(name, str(Path(tmp) / "run")))[1:]]
        proc = subprocess.run(argv, check=False, capture_output=True, text=True)
        if proc.returncode != 0:
            raise PlaygroundError(f"training {name} failed: {proc.stderr.strip()[-300:]}")
        result = json.loads(proc.stdout)
        from playground.runs.rundir import RunDir

        run = RunDir(Path(tmp) / "run")
        ckpt = read_checkpoint(run.latest_path, sha256="")  # no card yet
        history = [{k: r[k] for k in ("epoch", "train_loss", "test_elbo", "test_recon", "test_kl")}
                   for r in run.read_metrics()]
    ckpt.pop("optimizer", None)
    weights = root / f"{name}.pt"
    torch.save(ckpt, weights)
    card = {
        "name": name, "kind": "vae", "title": MODELS[name]["title"], "weights": weights.name,
        "sha256": sha256_file(weights), "bytes": weights.stat().st_size,
        "dataset": result["config"]["dataset"], "config": result["config"],
        "command": command(name), "metrics": {k: result[k] for k in KEEP_METRICS if k in result},
        "trained": time.strftime("%Y-%m-%d"), "versions": ckpt.get("versions", {}), "history": history,
    }
    return write_card(root, name, card)


def cards(root: Path = ROOT) -> dict[str, dict]:
    """name -> card of every shipped VAE whose card parses (weights are checked when loaded)."""
    out = read_cards(root, "vae", lambda card: (root / str(card.get("weights"))).is_file())
    order = {n: i for i, n in enumerate(MODELS)}
    return dict(sorted(out.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def load_pretrained(name: str, root: Path = ROOT):
    """(model, checkpoint dict, card) after the hash check against the card."""
    from playground.vae.checkpoint import load_checkpoint

    c = cards(root).get(name)
    if c is None:
        raise PlaygroundError(f"no pretrained VAE named {name!r} in {root} (have: {', '.join(cards(root)) or 'none'})")
    model, ckpt = load_checkpoint(root / c["weights"], sha256=c["sha256"])
    return model, ckpt, c


def _summary(card: dict) -> str:
    m = card["metrics"]
    return (f"test ELBO {m['test_elbo']:.2f}, IWAE {m['test_iwae']:.2f}, active {m['active_units']}"
            + (f", MIG {m['mig']:.3f}" if "mig" in m else ""))


def main(argv: list[str] | None = None) -> int:
    return retrain_main(list(argv if argv is not None else sys.argv[1:]), MODELS, train_one, _summary)


if __name__ == "__main__":
    sys.exit(main())
