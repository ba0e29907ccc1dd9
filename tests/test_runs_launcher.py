"""The one launcher: any trainer started from its config object, stopped, resumed (also before its first
checkpoint) and deleted; config -> flags -> config is lossless."""

import argparse
import subprocess
import sys

import pytest

from playground.configs import add_arguments, from_args, to_args, to_dict
from playground.errors import PlaygroundError
from playground.images.config import ImageRunConfig
from playground.runs import launcher
from playground.runs.liveness import this_host
from playground.runs.rundir import RunDir, list_runs
from playground.vae.config import VAEConfig

TINY_VAE = {"latent_dim": 2, "hidden": 16, "epochs": 2, "iwae_k": 2, "batch_size": 256}


@pytest.mark.parametrize("cfg", [ImageRunConfig(), ImageRunConfig(model="wgan_gp", resolution=16, g_lr=1.5e-4,
                                                                   amp=False, seed=7, final_eval=False),
                                 VAEConfig(), VAEConfig(arch="conv", kl_weight=0.25, conditional=True, lr=3e-4)])
def test_to_args_round_trips_through_the_trainers_parser(cfg):
    p = argparse.ArgumentParser()
    add_arguments(p, type(cfg))
    args = to_args(cfg)
    assert from_args(type(cfg), p.parse_args(args)) == cfg
    assert "--seed" in args                       # every field explicit: the child does not rely on defaults


def test_trainers_are_chosen_by_config_type():
    assert launcher.trainer_for(ImageRunConfig()).module == "playground.images.train"
    vae = launcher.trainer_for(VAEConfig())
    assert (vae.module, vae.prefix) == ("playground", ("vae", "train"))   # = python -m playground.vae.train
    with pytest.raises(PlaygroundError, match="no trainer"):
        launcher.trainer_for(object())


@pytest.mark.slow
def test_a_vae_training_started_from_its_config_runs_to_completion_and_resumes_longer(tmp_path):
    path = launcher.start(VAEConfig(**TINY_VAE), "v1", root=tmp_path)
    assert [r["name"] for r in list_runs(tmp_path, kind="vae")] == ["v1"]
    assert list_runs(tmp_path, kind="images") == []
    st = launcher.wait(path, timeout=180)
    assert st["state"] == "completed", (st, (path / "process.out").read_text()[-2000:])
    run = RunDir(path)
    assert run.latest_path == path / "checkpoints" / "latest.pt" and run.latest_path.is_file()
    assert [r["epoch"] for r in run.read_metrics()] == [1, 2]
    with pytest.raises(PlaygroundError, match="complete"):
        launcher.resume(path)
    launcher.resume(path, steps=3)                  # a VAE's length is its epochs
    st = launcher.wait(path, timeout=180)
    assert st["state"] == "completed" and st["epoch"] == 3
    assert [r["epoch"] for r in run.read_metrics()] == [1, 2, 3]
    with pytest.raises(PlaygroundError, match="already exists"):
        launcher.start(VAEConfig(**TINY_VAE), "v1", root=tmp_path)
    launcher.delete(path)
    assert not path.exists()


@pytest.mark.slow
def test_a_run_killed_before_its_first_checkpoint_resumes_from_the_start(tmp_path):
    # What a kill during start-up leaves: config.json, a status naming a process that is gone, no checkpoint.
    cfg = VAEConfig(**TINY_VAE)
    run = RunDir.create(tmp_path / "early", to_dict(cfg), "vae")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    run.write_status(state="running", pid=gone.pid, host=this_host())
    run.release()
    assert run.effective_status()["state"] == "failed" and not run.latest_path.exists()
    launcher.resume(run.path)
    st = launcher.wait(run.path, timeout=180)
    assert st["state"] == "completed" and st["epoch"] == 2, (run.path / "process.out").read_text()[-2000:]
    assert [r["epoch"] for r in run.read_metrics()] == [1, 2]
