"""The shipped image models: how each is trained (the project's own CLI), scored, and written with its card.

    python -m playground.images.pretrained                 # retrain all (make pretrained)
    python -m playground.images.pretrained mnist5k-cgan    # retrain one
    python -m playground.images.pretrained --rescore [NAME ...]   # score the shipped checkpoints again, no training
    python -m playground.images.pretrained --features-match mnist5k-28px-1ch   # exit 0 if that classifier is intact

Each model is a run directory `pretrained/image_runs/NAME/` (config.json, status.json, metrics.jsonl, the last
sample grid and checkpoints/latest.pt without optimiser or RNG state) that the Sample page lists and
`python -m playground images sample --run NAME` reads, and a card `pretrained/image_runs/NAME.json`: the
exact commands, the config, the scores and the checkpoint's sha256 (checked before loading).

The quality target is relative: the model's scores against the training split are set beside the scores of the
dataset's own test split against the same training split, in the same features and with the same number of
images (binarised like the model's training data), so the small-sample bias of FID is the same on both sides.
Conditional models also get `class_accuracy`: the share of samples drawn for class y that the dataset's
classifier calls y (beside the classifier's accuracy on the same test images).
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
from functools import partial
from pathlib import Path

from playground.cards import card_path, read_card, read_cards, retrain_main, write_card
from playground.errors import PlaygroundError
from playground.images.likelihood import given_label
from playground.images.sampling import PRETRAINED_RUNS
from playground.paths import pretrained_dir
from playground.runs.checkpoints import sha256_file

SAMPLING_ONLY = ("format", "config", "step", "resolution", "channels", "ema", "num_classes", "best_fid",
                 "train_seconds", "versions", "world_size")
# Each model: the train command's flags, the scoring seeds and images per seed (default: as many as the test
# split holds), and what its checkpoint keeps. Sized so retraining and scoring take at most 15 CPU minutes.
# The order is the pages' (the first is what the Sample page opens on: the real 28x28 showcase first).
MODELS: dict[str, dict] = {
    "mnist5k-cgan": {
        "title": "Class-conditional GAN on mnist5k (28x28)",
        "args": "--preset cgan_mnist5k --eval-every 0 --seed 0",
        "eval_seeds": (0, 1, 2, 3, 4),
        "keep": SAMPLING_ONLY,
    },
    "mnist5k-cflow": {
        "title": "Class-conditional flow matching on mnist5k (28x28, U-Net width 16, 25 midpoint steps)",
        "args": "--preset cflow_mnist5k --unet-width 16 --steps 2500 --eval-every 0 --seed 0",
        "eval_seeds": (0,),
        "eval_n": 500,
        "keep": SAMPLING_ONLY,
    },
    "mnist5k-sngan": {
        "title": "SNGAN on mnist5k (28x28)",
        "args": "--preset sngan_mnist5k --eval-every 0 --seed 0",
        "eval_seeds": (0, 1, 2, 3, 4),
        "keep": SAMPLING_ONLY,
    },
    "mnist5k-dcgan": {
        "title": "DCGAN on mnist5k (28x28)",
        "args": "--preset dcgan_mnist5k --eval-every 0 --seed 0",
        "eval_seeds": (0, 1, 2, 3, 4),
        "keep": SAMPLING_ONLY,
    },
    "mnist5k-cpixelcnn": {
        "title": "Class-conditional PixelCNN on binarised mnist5k (28x28)",
        "args": "--preset cpixelcnn_mnist5k --steps 1300 --seed 0",
        "eval_seeds": (0, 1, 2),
        "keep": SAMPLING_ONLY,
    },
    "mnist5k-vae": {
        "title": "Convolutional VAE on binarised mnist5k (28x28): bounds on the PixelCNN's test split",
        "args": "--preset vae_mnist5k_binarized --seed 0",
        "eval_seeds": (0,),
    },
    "digits-dcgan": {
        "title": "DCGAN on digits (8x8)",
        "args": "--preset dcgan_digits --steps 4000 --eval-every 1000 --eval-samples 300 --seed 0",
        "eval_seeds": (0, 1, 2, 3, 4),
    },
}
KEEP = ("format", "config", "step", "resolution", "channels", "nets", "ema", "num_classes", "best_fid",
        "train_seconds", "versions", "world_size")
KEEPS = {KEEP: "the trained networks (a GAN's G and D, or the VAE) and the EMA of the sampler where the run has "
               "one; no optimiser or RNG state",
         SAMPLING_ONLY: "only the EMA sampling weights (no discriminator, raw weights, optimiser or RNG state): "
                        "enough to sample and score, not to resume training"}
FEATURES = pretrained_dir() / "features"


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


def _ship(src: Path, dest: Path, keep: tuple[str, ...]) -> Path:
    """Copy the run's files that describe it; the checkpoint keeps only `keep`."""
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
    fields = ("state", "step", "total_steps", "device", "world_size", "resolution", "channels", "fid", "kid",
              "best_fid", "fid_features", "images_per_sec", "checkpoint_step")
    atomic_write_json(dest / "status.json", {k: st.get(k) for k in fields} | {"updated": st.get("finished")})
    ck = load_run_checkpoint(run.latest_path)
    save_checkpoint(dest / "checkpoints" / "latest.pt",
                    {k: ck[k] for k in keep if k in ck and k != "format" and ck[k] is not None}, FORMAT)
    return dest / "checkpoints" / "latest.pt"


def score_run(run_dir: Path, seeds: tuple[int, ...], n: int | None = None) -> tuple[list[dict], dict]:
    """(one score dict per seed, the test split's scores): the run's samples (`images eval --n n --seed s`)
    and n test images, both against the training split in the dataset classifier's features, binarised when
    the run trains on bits. Conditional models add `class_accuracy` (samples of class y called y)."""
    import torch

    from playground.images.inception_score import classifier_logits
    from playground.images.metrics import Scorer, make_extractor
    from playground.images.sampling import load_model
    from playground.images.training_data import as_trained, load_training_data

    gen = load_model(run_dir)
    cfg, res = gen.cfg, gen.resolution

    def load(split: str):
        return load_training_data(cfg, split, res)

    train, test = load("train"), load("test")
    bits = partial(as_trained, cfg)
    ex = make_extractor(cfg.features, cfg.dataset, res, int(train.images.shape[1]), data_path=cfg.data_path,
                        load=load)
    scorer = Scorer(ex, bits(train.images))
    n = n or len(test)
    pick = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[:n] if n < len(test) \
        else torch.arange(len(test))               # a fixed subset when fewer images are generated than tested

    def scored(images: torch.Tensor, labels: torch.Tensor | None) -> dict:
        out = scorer.score(images)
        if labels is not None:
            out["class_accuracy"] = float((classifier_logits(ex, images).argmax(1) == labels).double().mean())
        return out

    base = scored(bits(test.images[pick]), test.labels[pick] if cfg.is_conditional else None)
    return [scored(gen.sample(n, s), gen.labels(n)) for s in seeds], base


def _metrics(evals: list[dict], base: dict, result: dict) -> dict:
    """The card's scores: means over seeds (and each seed's FID) beside the test split's, and the training's."""
    mean = lambda k: round(statistics.fmean(e[k] for e in evals), 4)
    keys = ["fid", "kid", "precision", "recall", "is"] + (["class_accuracy"] if "class_accuracy" in base else [])
    out = {k: mean(k) for k in keys} | {"fid_per_seed": [round(e["fid"], 4) for e in evals]}
    if "class_accuracy" in base:
        out["class_accuracy_per_seed"] = [round(e["class_accuracy"], 4) for e in evals]
    out |= {f"{k}_test_vs_train": round(base[k], 4) for k in keys}
    out |= {k: result[k] for k in ("test_nll_nats", "test_nll_bits_per_dim", "test_marginal_nll_nats",
                                   "test_marginal_nll_bits_per_dim", "elbo_nats", "iwae_nats", "likelihood_split")
            if result.get(k) is not None}
    return out | {
        "generated_images": base["n_fake"], "reference": f"train ({base['n_real']} images)",
        "fid_features": evals[0]["fid_features"], "is_features": evals[0]["is_features"],
        "feature_accuracy": evals[0]["feature_accuracy"], "train_fid_final": result["fid"], "steps": result["steps"],
        "train_seconds": result["train_seconds"], "images_per_sec": result["images_per_sec"],
        "device": result["device"]}


def train_one(name: str, root: Path = PRETRAINED_RUNS) -> dict:
    import torch

    spec = MODELS[name]
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{name}.json").unlink(missing_ok=True)        # the old card's hash no longer applies
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = _cli(command(name, str(Path(tmp) / "run")))
        if result["state"] != "completed":
            raise PlaygroundError(f"training {name} ended {result['state']}")
        keep = spec.get("keep", KEEP)
        ckpt = _ship(Path(tmp) / "run", root / name, keep)
    train_wall = time.perf_counter() - t0
    torch.set_num_threads(1)                              # scored on one thread, like the training
    evals, base = score_run(root / name, spec["eval_seeds"], spec.get("eval_n"))
    config = json.loads((root / name / "config.json").read_text())
    n = int(base["n_fake"])
    binarised = config["model"] == "pixelcnn" or bool(config.get("binarize"))
    card = {
        "name": name, "kind": "image-run", "title": spec["title"], "run": name, "checkpoint": "checkpoints/latest.pt",
        "sha256": sha256_file(ckpt), "bytes": ckpt.stat().st_size, "keeps": KEEPS[keep], "dataset": config["dataset"],
        "model": config["model"], "config": config,
        "command": command(name),
        "eval_commands": [eval_command(name, s, n) for s in spec["eval_seeds"]],
        "baseline_command": None if binarised or "eval_n" in spec else baseline_command(config["dataset"]),
        "baseline": f"{config['dataset']}:test ({n} images{', binarised' if binarised else ''}) against the "
                    "training split, in the same features: playground.images.pretrained.score_run",
        "metrics": _metrics(evals, base, result) | {"seconds": round(time.perf_counter() - t0, 1),
                                                    "train_wall_seconds": round(train_wall, 1)},
        "trained": time.strftime("%Y-%m-%d"),
        "versions": {"torch": torch.__version__, "python": sys.version.split()[0]},
    }
    return write_card(root, name, card)


def rescore_one(name: str, root: Path = PRETRAINED_RUNS) -> dict:
    """Score a shipped checkpoint again with its card's seeds (after a change to a score, not to the model) and
    rewrite the card's scores; what the training measured (its time, steps, final FID, likelihoods) is kept."""
    import torch

    spec, card = MODELS[name], read_card(card_path(root, name), "image-run")
    if card is None or not (root / name).is_dir():
        raise PlaygroundError(f"{name} is not shipped here: train it first")
    old = card["metrics"]
    t0 = time.perf_counter()
    torch.set_num_threads(1)
    evals, base = score_run(root / name, spec["eval_seeds"], spec.get("eval_n"))
    result = {"fid": old["train_fid_final"], **{k: old.get(k) for k in (
        "steps", "train_seconds", "images_per_sec", "device", "test_nll_nats", "test_nll_bits_per_dim",
        "test_marginal_nll_nats", "test_marginal_nll_bits_per_dim", "elbo_nats", "iwae_nats", "likelihood_split")}}
    card["metrics"] = _metrics(evals, base, result) | {k: old[k] for k in ("seconds", "train_wall_seconds")
                                                       if k in old}
    card["rescored"] = {"date": time.strftime("%Y-%m-%d"), "seconds": round(time.perf_counter() - t0, 1)}
    return write_card(root, name, card)


def cards(root: Path = PRETRAINED_RUNS) -> dict[str, dict]:
    return read_cards(root, "image-run", lambda card: (root / str(card.get("run"))).is_dir())


def features_match(key: str, root: Path = FEATURES) -> bool:
    """Whether the feature classifier `key` (mnist5k-28px-1ch) is present and matches its card's sha256."""
    try:
        card = read_card(card_path(root, key))
    except PlaygroundError:
        return False
    weights = Path(root) / f"{key}.pt"
    return card is not None and weights.is_file() and sha256_file(weights) == card.get("sha256")


def card_summary(card: dict) -> str:
    """A shipped image model's scores in a sentence, each beside the test split's (the Sample page, `make
    pretrained`)."""
    m = card["metrics"]
    out = (f"FID {m['fid']:.2f} over {m['generated_images']} images against {m['reference']}, where the dataset's "
           f"test split scores {m['fid_test_vs_train']:.2f}")
    out += f"; KID {m['kid']:.4f} (test split {m['kid_test_vs_train']:.4f})"
    if m.get("is") is not None:
        out += f"; IS {m['is']:.2f} (test split {m['is_test_vs_train']:.2f})"
    out += (f"; precision {m['precision']:.2f}, recall {m['recall']:.2f} (test split: "
            f"{m['precision_test_vs_train']:.2f}, {m['recall_test_vs_train']:.2f})")
    if m.get("class_accuracy") is not None:
        out += (f"; draws the asked class {m['class_accuracy']:.1%} of the time (real test images: "
                f"{m['class_accuracy_test_vs_train']:.1%})")
    if m.get("test_nll_nats") is not None and given_label(card.get("config")):
        out += f"; exact test NLL {m['test_nll_nats']:.2f} nats given the label"
        if m.get("test_marginal_nll_nats") is not None:
            out += (f", {m['test_marginal_nll_nats']:.2f} nats ({m['test_marginal_nll_bits_per_dim']:.3f} bits/dim) "
                    "for the mixture over labels")
    elif m.get("test_nll_nats") is not None:
        out += f"; exact test NLL {m['test_nll_nats']:.2f} nats, {m['test_nll_bits_per_dim']:.3f} bits/dim"
    if m.get("elbo_nats") is not None:
        out += f"; test -ELBO {-m['elbo_nats']:.2f} nats, -IWAE {-m['iwae_nats']:.2f} (bounds on -log p(x))"
    return out + f". Features: {m['fid_features']}."


def main(argv: list[str] | None = None) -> int:
    args = list(argv if argv is not None else sys.argv[1:])
    if args[:1] == ["--features-match"]:
        return 0 if len(args) == 2 and features_match(args[1]) else 1
    if args[:1] == ["--rescore"]:
        return retrain_main(args[1:], MODELS, rescore_one, card_summary)
    return retrain_main(args, MODELS, train_one, card_summary)


if __name__ == "__main__":
    sys.exit(main())
