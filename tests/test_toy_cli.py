"""`python -m playground toy ...`: JSON output, same defaults as the page, scoring user samples, errors."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from playground.cli import main
from playground.configs import to_dict
from playground.toy.config import ToyConfig
from playground.toy.targets import make_target

ROOT = Path(__file__).resolve().parents[1]


def run_cli(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_train_prints_metrics_and_the_resolved_config(capsys):
    code, out, _ = run_cli(capsys, "toy", "train", "--dist", "ring8", "--steps", "30", "--seed", "3",
                           "--g-width", "32", "--d-width", "32", "--json")
    assert code == 0
    r = json.loads(out)
    for key in ("steps", "seconds", "steps_per_sec", "modes_covered", "n_modes", "high_quality_frac", "mode_kl",
                "d_loss", "g_loss", "kl", "rkl", "js", "config"):
        assert key in r
    assert r["steps"] == 30 and r["n_modes"] == 8
    expected = to_dict(ToyConfig(seed=3, g_width=32, d_width=32))
    assert r["config"] == expected              # the page's defaults, resolved (n_modes, radius, std filled)


def test_train_is_reproducible(capsys, tmp_path):
    outs = []
    for i in range(2):
        path = tmp_path / f"s{i}.csv"
        run_cli(capsys, "toy", "train", "--steps", "20", "--g-width", "16", "--d-width", "16",
                "--samples-out", str(path), "--json")
        outs.append(path.read_text())
    assert outs[0] == outs[1]


def test_eval_scores_exact_target_samples(capsys, tmp_path):
    target = make_target(ToyConfig())
    x = target.sample(2500, torch.Generator().manual_seed(0)).numpy()
    path = tmp_path / "s.csv"
    np.savetxt(path, x, delimiter=",", header="x,y", comments="")
    code, out, _ = run_cli(capsys, "toy", "eval", "--dist", "ring8", "--samples", str(path), "--json")
    r = json.loads(out)
    assert code == 0 and r["n_samples"] == 2500
    assert r["modes_covered"] == 8 and r["high_quality_frac"] > 0.97 and r["mode_kl"] < 0.01
    # A collapsed generator: every sample on one mode.
    np.savetxt(path, np.tile([[2.0, 0.0]], (100, 1)), delimiter=",")
    r = json.loads(run_cli(capsys, "toy", "eval", "--samples", str(path), "--json")[1])
    assert r["modes_covered"] == 1 and r["mode_kl"] == pytest.approx(np.log(8))


@pytest.mark.parametrize("argv, words", [
    (["toy", "train", "--dist", "nope"], "invalid choice"),
    (["toy", "train", "--g-lr", "fast"], "g_lr"),
    (["toy", "train", "--latent-dim", "99"], "maximum"),
    (["toy", "train", "--dist", "mixture1d", "--formula", "0.5*N(0,-1)"], "standard deviation"),
    (["toy", "train", "--dist", "custom"], "--data"),
    (["toy", "eval", "--samples", "/nonexistent.csv"], "no such file"),
    (["toy", "train", "--steps", "5", "--eval-every", "-5"], "--eval-every"),     # used to loop forever
    (["toy", "train", "--steps", "5", "--threads", "0"], "--threads"),
    (["toy", "train", "--steps", "5", "--samples-out", "/nonexistent/s.csv"], "does not exist"),
    (["toy", "train", "--steps", "5", "--checkpoint-out", "/nonexistent/c.pt"], "does not exist"),
    (["toy", "train", "--steps", "5", "--checkpoint-out", "/tmp"], "is a folder"),
    (["toy", "train", "--steps", "5", "--d-steps", "2.7"], "d_steps"),            # not silently 2
    (["toy", "train", "--steps", "5", "--lr", "0.001"], "unrecognized"),          # not --lr-half-life
])
def test_bad_arguments_exit_2_with_one_line(argv, words, capsys):
    try:
        code = main(argv)
    except SystemExit as e:          # argparse's own errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], err


def test_bad_csv_is_explained(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n3,nan\n")
    p = subprocess.run([sys.executable, "-m", "playground", "toy", "eval", "--samples", str(bad)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1


def test_the_history_is_the_labs_curve(capsys):
    """`toy train --eval-every N` records, at each step, the metrics the GAN lab's curve shows at that step (the
    same training, the same evaluation noise), however the training was chunked."""
    from playground.toy.lab import LabSession

    assert main(["toy", "train", "--steps", "300", "--eval-every", "100", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    final = {"step": 300, **{k: out[k] for k in ("modes_covered", "high_quality_frac", "mode_kl")}}
    lab = LabSession(ToyConfig())
    for row in [*out["history"], final]:                 # the final metrics are the curve's last point
        lab.gan.train(row["step"] - lab.gan.step)
        page = lab.evaluate_now()
        assert page["step"] == row["step"]
        assert {k: page[k] for k in row} == pytest.approx(row, rel=1e-9), row["step"]
    from playground.toy.lab import eval_seed
    from playground.toy.metrics import evaluate

    other = evaluate(lab.gan.target, lab.gan.sample(lab.cfg.eval_samples, seed=eval_seed(299)))
    assert other["mode_kl"] != page["mode_kl"]           # the seed is the step's: another step, other samples
