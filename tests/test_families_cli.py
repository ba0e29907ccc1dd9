"""`python -m playground families train|sample|logprob`: the run directory, the round trip, refusals (exit 2)."""

import json

import numpy as np
import pytest
import torch

from playground.cli import main
from playground.configs import from_dict
from playground.families.base import build
from playground.families.config import FamilyConfig
from playground.families.runs import FORMAT, KIND, train_run
from playground.runs.rundir import RunDir
from playground.toy.targets import make_target

TINY = ["--width", "8", "--layers", "1", "--eval-samples", "200"]


def run_cli(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as e:               # argparse's own refusals (unknown choice) exit from the parser
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def train(capsys, out, model="flow", dist="ring8", steps=6, *extra):
    code, stdout, err = run_cli(capsys, "families", "train", "--model", model, "--dist", dist, "--steps",
                                str(steps), "--seed", "3", "--out", str(out), "--json", *TINY, *extra)
    assert code == 0, err
    return json.loads(stdout)


def test_train_sample_logprob_round_trip(tmp_path, capsys):
    run = tmp_path / "flow"
    res = train(capsys, run, "flow", "ring8", 6, "--flow-layers", "1", "--flow-bins", "4")
    for key in ("run_dir", "model", "dist", "steps", "seconds", "steps_per_sec", "kl", "nll", "target_entropy",
                "modes_covered", "high_quality", "grid_js"):
        assert key in res
    assert res["model"] == "flow" and res["dist"] == "ring8" and res["steps"] == 6
    assert res["kl"] is not None and res["nll"] == pytest.approx(res["kl"] + res["target_entropy"], abs=1e-6)
    # the run directory, through the run layer
    rd = RunDir.open(run)
    assert rd.kind == KIND and rd.read_status()["state"] == "completed"
    rows = rd.read_metrics()
    assert [r["step"] for r in rows if not r.get("eval")] == list(range(1, 7))
    assert rows[-1]["eval"] and rows[-1]["kl"] == res["kl"]
    ckpt = torch.load(rd.latest_path, weights_only=True)
    assert ckpt["format"] == FORMAT and ckpt["step"] == 6

    code, out, err = run_cli(capsys, "families", "sample", "--run", str(run), "--n", "300", "--seed", "0",
                             "--out", str(tmp_path / "s.csv"), "--json")
    assert code == 0, err
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0] == "x,y" and len(lines) == 301
    pts = np.array([[float(v) for v in ln.split(",")] for ln in lines[1:]])
    # the same seed gives the same samples; another seed others
    run_cli(capsys, "families", "sample", "--run", str(run), "--n", "300", "--out", str(tmp_path / "t.csv"))
    assert (tmp_path / "t.csv").read_text() == (tmp_path / "s.csv").read_text()

    code, out, err = run_cli(capsys, "families", "logprob", "--run", str(run), "--points", str(tmp_path / "s.csv"),
                             "--json")
    assert code == 0, err
    log_prob = np.array(json.loads(out)["log_prob"])
    # independently: a model built from the stored config with the checkpoint's weights
    cfg = from_dict(FamilyConfig, json.loads((run / "config.json").read_text()))
    model = build(cfg, make_target(cfg))
    model.load_state_dict(ckpt["trainer"]["model"])
    with torch.no_grad():
        expect = model.log_prob(torch.as_tensor(pts, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(log_prob, expect, rtol=1e-5, atol=1e-5)
    assert len(log_prob) == 300 and np.all(np.isfinite(log_prob))


def test_gan_has_no_logprob_and_bad_inputs_exit_2(tmp_path, capsys):
    run = tmp_path / "gan"
    res = train(capsys, run, "gan", "ring8", 3)
    assert res["kl"] is None and res["grid_js"] is not None
    (tmp_path / "p.csv").write_text("x,y\n0,0\n1,1\n")
    code, out, err = run_cli(capsys, "families", "logprob", "--run", str(run), "--points", str(tmp_path / "p.csv"))
    assert code == 2 and "gan" in err and len(err.strip().splitlines()) == 1
    # a file that is not points
    flow = tmp_path / "flow"
    train(capsys, flow, "flow", "ring8", 2, "--flow-layers", "1")
    (tmp_path / "bad.csv").write_text("x,y\nhello,world\n")
    code, _, err = run_cli(capsys, "families", "logprob", "--run", str(flow), "--points", str(tmp_path / "bad.csv"))
    assert code == 2 and err.startswith("error:") and len(err.strip().splitlines()) == 1
    (tmp_path / "one.csv").write_text("1\n2\n")        # 1D points for a 2D model
    code, _, err = run_cli(capsys, "families", "logprob", "--run", str(flow), "--points", str(tmp_path / "one.csv"))
    assert code == 2
    # unknown model / target, impossible settings: one line, exit 2, and no directory is made
    for argv in (["--model", "nope"], ["--dist", "nowhere"], ["--model", "diffusion", "--sample-steps", "50",
                                                                "--diffusion-timesteps", "20"], ["--steps", "0"]):
        code, _, err = run_cli(capsys, "families", "train", *argv, "--out", str(tmp_path / "x"))
        assert code == 2 and len(err.strip().splitlines()) == 1, (argv, err)
    assert not (tmp_path / "x").exists()
    code, _, err = run_cli(capsys, "families", "train", "--dist", "custom", "--out", str(tmp_path / "c"))
    assert code == 2 and "--points" in err and not (tmp_path / "c").exists()


def test_a_run_of_another_kind_is_refused(tmp_path, capsys):
    other = RunDir.create(tmp_path / "vae-run", {"dataset": "digits", "latent": 2}, "vae")
    other.release()
    for cmd in (["sample", "--run", str(tmp_path / "vae-run"), "--out", str(tmp_path / "s.csv")],
                ["logprob", "--run", str(tmp_path / "vae-run"), "--points", str(tmp_path / "s.csv")]):
        code, _, err = run_cli(capsys, "families", *cmd)
        assert code == 2 and "kind 'vae'" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(capsys, "families", "sample", "--run", str(tmp_path / "missing"), "--out", "s.csv")
    assert code == 2


def test_custom_points_and_resume_continue_exactly(tmp_path, capsys):
    """A run stopped half way and resumed ends with the same weights as one trained straight through."""
    pts = np.random.default_rng(0).normal(size=(200, 2))
    base = dict(model="autoregressive", dist="custom", steps=50, width=8, layers=1, ar_components=3, seed=1,
                eval_samples=100)
    straight = train_run(FamilyConfig(**base), tmp_path / "a", points=pts)
    assert straight["steps"] == 50 and straight["kl"] is None         # custom data: no exact target density

    def stop_early(row):
        if row["step"] == 10:
            RunDir(tmp_path / "b").request_stop()
    half = train_run(FamilyConfig(**base), tmp_path / "b", points=pts, progress=stop_early)
    assert half["stopped"] and half["steps"] == 25
    assert RunDir.open(tmp_path / "b").read_status()["state"] == "stopped"
    code, out, err = run_cli(capsys, "families", "train", "--resume", str(tmp_path / "b"), "--json")
    assert code == 0, err
    assert json.loads(out)["steps"] == 50
    wa = torch.load(tmp_path / "a/checkpoints/latest.pt", weights_only=True)["trainer"]["model"]
    wb = torch.load(tmp_path / "b/checkpoints/latest.pt", weights_only=True)["trainer"]["model"]
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    # a resumed run may lengthen but not change what it is
    code, _, err = run_cli(capsys, "families", "train", "--resume", str(tmp_path / "b"), "--width", "16")
    assert code == 2 and "--width" in err


def test_the_launcher_trains_a_families_run_in_the_background(tmp_path):
    from playground.runs import launcher

    cfg = FamilyConfig(model="autoregressive", dist="two_gaussians", steps=5, width=8, layers=1, ar_components=2,
                       eval_samples=100)
    path = launcher.start(cfg, name="bg", root=tmp_path)
    status = launcher.wait(path, timeout=120)
    assert status["state"] == "completed", (status, (path / "process.out").read_text()[-2000:])
    assert status["result"]["steps"] == 5 and status["result"]["kl"] is not None


def test_animate_writes_the_lockstep_history_as_the_page_exports_it(tmp_path, capsys):
    import json

    from PIL import Image

    from playground.cli import main

    out = tmp_path / "lab.gif"
    assert main(["families", "animate", "--models", "flow,diffusion", "--steps", "40", "--frames", "4", "--width",
                 "16", "--layers", "1", "--eval-samples", "200", "--out", str(out), "--json"]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["models"] == ["flow", "diffusion"] and res["steps"] == 40 and res["frames"] == 5   # step 0 + 4
    with Image.open(out) as im:
        assert im.n_frames == res["frames"] and im.size[0] > 2 * im.size[1] * 0.9     # two views side by side
    assert main(["families", "animate", "--models", "flow,nope", "--steps", "5", "--out", str(out)]) == 2
    assert "unknown model" in capsys.readouterr().err
    assert main(["families", "animate", "--steps", "5", "--out", str(tmp_path / "lab.png")]) == 2
    assert ".gif or .mp4" in capsys.readouterr().err
