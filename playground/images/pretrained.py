"""The shipped image models: how each is trained (the project's own CLI), scored, and written with its card.

    python -m playground.images.pretrained                 # retrain all (make pretrained)
    python -m playground.images.pretrained digits-dcgan    # retrain one

Each model is a run directory `pretrained/image_runs/NAME/` (config.json, status.json, metrics.jsonl, the last
sample grid and checkpoints/latest.pt without optimiser or RNG state) that the Sample page lists and
`python -m playground images sample --run NAME` reads, and a card `pretrained/image_runs/NAME.json`: the
exact commands, the config, the scores and the checkpoint's sha256 (checked before loading).

The quality target is relative: the model's FID against the training split is set beside the FID of the
dataset's own test split against the same training split, in the same features and with the same number of
images, so the small-sample bias of FID is the same on both sides.
"""

from __future__ import annotations

import json
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playground.cards import read_cards, write_card
from playground.errors import PlaygroundError
from playground.images.sampling import PRETRAINED_RUNS
from playground.runs.checkpoints import sha256_file

MODELS: dict[str, dict] = {
    "digits-dcgan": {
        "title": "DCGAN on digits (8x8)",
        "args": "--preset dcgan_digits --steps 4000 --eval-every 1000 --eval-samples 300 --seed 0",
        "eval_seeds": (0, 1, 2, 3, 4),
    },
}
KEEP = ("format", "config", "step", "resolution", "channels", "nets", "ema", "best_fid", "train_seconds",
        "versions", "world_size")


def command(name: str, out: str = "RUN_DIR") -> str:
    return f"python -m playground images train {MODELS[name]['args']} --threads 1 --out {out} --json"


def eval_command(name: str, seed: int, n: int) -> str:
    return f"python -m playground images eval --run {name} --n {n} --seed {seed} --split train --json"


def baseline_command(dataset: str) -> str:
    return f"python -m playground images baseline --dataset {dataset} --json"


def _cli(cmd: str) -> dict:
    argv = [sys.executable, *shlex.split(cmd)[1:]]
    proc = subprocess.run(argv, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        raise PlaygroundError(f"`{cmd}` failed: {proc.stderr.strip()[-300:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _ship(src: Path, dest: Path) -> Path:
    """Copy the run's files that describe it; the checkpoint keeps only what sampling needs."""
    from playground.images.trainer import FORMAT, load_run_checkpoint
    from playground.runs.checkpoints import save_checkpoint
    from playground.runs.files import atomic_write_json
    from playground.runs.rundir import RunDir

    run = RunDir.open(src)
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "checkpoints").mkdir(parents=True)
    (dest / "samples").mkdir()
    shutil.copy(run.config_path, dest / "config.json")
    shutil.copy(run.metrics_path, dest / "metrics.jsonl")
    _, last = run.samples()[-1]
    shutil.copy(last, dest / "samples" / last.name)
    st = run.read_status()
    keep = ("state", "step", "total_steps", "device", "world_size", "resolution", "channels", "fid", "kid",
            "best_fid", "fid_features", "images_per_sec", "checkpoint_step")
    atomic_write_json(dest / "status.json", {k: st.get(k) for k in keep} | {"updated": st.get("finished")})
    ck = load_run_checkpoint(run.latest_path)
    save_checkpoint(dest / "checkpoints" / "latest.pt", {k: ck[k] for k in KEEP if k in ck and k != "format"},
                    FORMAT)
    return dest / "checkpoints" / "latest.pt"


def train_one(name: str, root: Path = PRETRAINED_RUNS) -> dict:
    spec = MODELS[name]
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{name}.json").unlink(missing_ok=True)        # the old card's hash no longer applies
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = _cli(command(name, str(Path(tmp) / "run")))
        wall = time.perf_counter() - t0
        if result["state"] != "completed":
            raise PlaygroundError(f"training {name} ended {result['state']}")
        ckpt = _ship(Path(tmp) / "run", root / name)
    config = json.loads((root / name / "config.json").read_text())
    base = _cli(baseline_command(config["dataset"]))
    n = int(base["n_fake"])                           # as many generated images as test images
    evals = [_cli(eval_command(str(root / name), s, n)) for s in spec["eval_seeds"]]
    mean = lambda k: round(statistics.fmean(e[k] for e in evals), 4)
    card = {
        "name": name, "kind": "image-run", "title": spec["title"], "run": name, "checkpoint": "checkpoints/latest.pt",
        "sha256": sha256_file(ckpt), "bytes": ckpt.stat().st_size, "dataset": config["dataset"],
        "model": config["model"], "config": config,
        "command": command(name),
        "eval_commands": [eval_command(name, s, n) for s in spec["eval_seeds"]],
        "baseline_command": baseline_command(config["dataset"]),
        "metrics": {
            "fid": mean("fid"), "fid_per_seed": [round(e["fid"], 4) for e in evals],
            "kid": mean("kid"), "precision": mean("precision"), "recall": mean("recall"),
            "generated_images": n, "reference": f"{config['dataset']}:train ({base['n_real']} images)",
            "fid_test_vs_train": round(base["fid"], 4), "kid_test_vs_train": round(base["kid"], 4),
            "precision_test_vs_train": round(base["precision"], 4), "recall_test_vs_train": round(base["recall"], 4),
            "fid_features": evals[0]["fid_features"], "feature_accuracy": evals[0]["feature_accuracy"],
            "train_fid_final": result["fid"], "steps": result["steps"], "train_seconds": result["train_seconds"],
            "seconds": round(wall, 1), "images_per_sec": result["images_per_sec"], "device": result["device"],
        },
        "trained": time.strftime("%Y-%m-%d"),
        "versions": {"torch": __import__("torch").__version__, "python": sys.version.split()[0]},
    }
    return write_card(root, name, card)


def cards(root: Path = PRETRAINED_RUNS) -> dict[str, dict]:
    return read_cards(root, "image-run", lambda card: (root / str(card.get("run"))).is_dir())


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(MODELS)
    for name in names:
        if name not in MODELS:
            print(f"error: unknown model {name!r}; choose from {', '.join(MODELS)}", file=sys.stderr)
            return 2
        t0 = time.perf_counter()
        try:
            card = train_one(name)
        except PlaygroundError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        m = card["metrics"]
        print(f"{name}: FID {m['fid']:.2f} (test split vs train: {m['fid_test_vs_train']:.2f}; "
              f"{m['generated_images']} images, {m['fid_features']}) in {time.perf_counter() - t0:.0f} s, "
              f"{card['bytes'] // 1024} KiB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
