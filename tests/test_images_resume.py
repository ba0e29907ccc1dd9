"""Resuming image runs: before the first checkpoint, with the original flags, and one writer per run directory."""

import json
import os
import subprocess
import sys

import pytest
import torch

from playground.cli import main
from playground.configs import to_dict
from playground.data import ImageDataset
from playground.errors import PlaygroundError
from playground.images.config import ImageRunConfig
from playground.images.train import train
from playground.images.trainer import Trainer
from playground.runs.liveness import this_host
from playground.runs.lock import WriterLock
from playground.runs.rundir import RunDir

TINY = ["--dataset", "digits", "--model", "dcgan", "--steps", "3", "--batch-size", "8", "--g-width", "8",
        "--d-width", "8", "--latent-dim", "4", "--log-every", "1", "--sample-every", "3", "--checkpoint-every", "100",
        "--eval-every", "0", "--final-eval", "0", "--features", "random", "--device", "cpu", "--threads", "1",
        "--seed", "0"]


def tiny_data():
    return ImageDataset(name="tiny", images=torch.rand(32, 1, 8, 8, generator=torch.Generator().manual_seed(0)))


def killed_before_its_first_checkpoint(path) -> RunDir:
    """What a kill during start-up leaves: config.json, status `running` of a process that is gone, a metrics
    line of the first step, no checkpoint."""
    cfg = ImageRunConfig(steps=3, batch_size=8, g_width=8, d_width=8, latent_dim=4, log_every=1, sample_every=3,
                         checkpoint_every=100, eval_every=0, final_eval=False, features="random", device="cpu",
                         threads=1)
    run = RunDir.create(path, to_dict(cfg), "images")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    run.write_status(state="running", pid=gone.pid, host=this_host())
    run.append_metrics({"step": 1, "d_loss": 99.0})
    run.release()
    return run


def test_a_run_killed_before_its_first_checkpoint_resumes_from_step_0_with_its_config(tmp_path, capsys):
    run = killed_before_its_first_checkpoint(tmp_path / "early")
    assert run.effective_status()["state"] == "failed" and not run.latest_path.exists()
    assert main(["images", "train", "--resume", str(run.path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["state"] == "completed" and result["steps"] == 3 and result["resumed_from"] == 0
    rows = run.read_metrics()
    assert [r["step"] for r in rows] == [1, 2, 3] and rows[0]["d_loss"] != 99.0     # the killed attempt's line went
    assert run.read_status()["state"] == "completed" and run.latest_path.is_file()


def test_resuming_with_the_original_flags_is_accepted_and_a_real_change_is_named(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["images", "train", *TINY, "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    longer = [*TINY[:TINY.index("--steps")], "--steps", "5", *TINY[TINY.index("--steps") + 2:]]
    assert main(["images", "train", *longer, "--resume", str(out), "--json"]) == 0     # same flags, more steps
    result = json.loads(capsys.readouterr().out)
    assert result["state"] == "completed" and result["steps"] == 5 and result["resumed_from"] == 3
    assert main(["images", "train", *longer[:-1], "1", "--steps", "7", "--resume", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--seed cannot change" in err and "seed=0" in err and "asked for 1" in err
    assert RunDir(out).config()["steps"] == 5                                          # nothing was changed


def test_a_run_directory_in_use_refuses_a_second_writer_naming_the_owner(tmp_path, capsys):
    out = tmp_path / "busy"
    first = Trainer(ImageRunConfig(steps=2, batch_size=8, g_width=8, d_width=8, latent_dim=4, eval_every=0, final_eval=False,
                                   features="random", device="cpu"), out, dataset=tiny_data())
    try:
        assert main(["images", "train", *TINY, "--seed", "1", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"in use by pid {os.getpid()}@{this_host()}" in err
        with pytest.raises(PlaygroundError, match="in use by pid"):
            train(first.cfg, resume=out, dataset=tiny_data())
    finally:
        first.close()
    assert not RunDir(out).metrics_path.exists()          # the refused writers wrote nothing
    with WriterLock(out):                                 # released by close()
        pass


def test_resuming_a_completed_run_trains_it_on_to_twice_its_steps_everywhere(tmp_path, capsys):
    """The Train page's Resume, `images resume` and `images train --resume` agree: a completed run without a new
    length trains on to twice its steps; a length given is taken as it is."""
    from playground.runs.launcher import resume_length

    run = tmp_path / "r"
    assert main(["images", "train", *TINY, "--out", str(run), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 3
    assert resume_length(run) == 6 and resume_length(run, 5) == 5
    assert main(["images", "resume", "--run", str(run), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 6
    assert main(["images", "train", "--resume", str(run), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 12
    killed = killed_before_its_first_checkpoint(tmp_path / "k")
    assert resume_length(killed.path) is None                    # not completed: its own length
