"""The image trainer: one-step runs of every model, exact resume, graceful stop, abrupt kill, torchrun."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from playground.data import ImageDataset
from playground.errors import PlaygroundError
from playground.images.config import ImageRunConfig
from playground.images.train import train
from playground.images.trainer import load_run_checkpoint as load_checkpoint
from playground.runs.lock import lock_owner
from playground.runs.rundir import RunDir

def tiny_data(n=64, res=8, channels=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(n, channels, res, res, generator=g)
    return ImageDataset(name="tiny", images=images, labels=torch.arange(n) % 4, num_classes=4)


def tiny_cfg(tmp_path, **kw):
    base = {"model": "dcgan", "steps": 4, "batch_size": 8, "g_width": 8, "d_width": 8, "latent_dim": 4, "log_every": 1,
            "sample_every": 2, "checkpoint_every": 2, "eval_every": 0, "eval_samples": 16, "features": "random",
            "device": "cpu", "pixelcnn_width": 8, "pixelcnn_blocks": 1, "unet_width": 8, "unet_mults": (1, 2),
            "timesteps": 20}
    base.update(kw)
    return ImageRunConfig(**base)


NETS = {"vae": {"vae"}, "pixelcnn": {"pixelcnn"}, "diffusion": {"denoiser"}, "flow_matching": {"denoiser"}}


@pytest.mark.parametrize("model,res,channels", [("dcgan", 8, 1), ("wgan_gp", 16, 3), ("sngan", 8, 3),
                                                ("vae", 16, 1), ("cgan", 8, 3), ("pixelcnn", 8, 1),
                                                ("diffusion", 16, 3), ("flow_matching", 8, 1)])
def test_every_model_trains_and_writes_a_complete_run(tmp_path, model, res, channels):
    cfg = tiny_cfg(tmp_path, model=model, d_steps=2 if model == "wgan_gp" else 1)
    out = tmp_path / model
    result = train(cfg, out, dataset=tiny_data(res=res, channels=channels))
    assert result["state"] == "completed" and result["steps"] == 4 and result["resolution"] == res
    assert result["fid"] is not None and result["fid"] >= 0 and result["fid_features"].startswith("random-cnn")
    run = RunDir.open(out)
    assert run.read_status()["state"] == "completed"
    rows = run.read_metrics()
    assert [r["step"] for r in rows if "fid" not in r] == [1, 2, 3, 4]
    assert all(torch.isfinite(torch.tensor([v for k, v in r.items() if isinstance(v, float)])).all()
               for r in rows)
    assert [s for s, _ in run.samples()] == [2, 4]
    ck = load_checkpoint(run.latest_path)
    assert ck["step"] == 4 and ck["resolution"] == res and ck["channels"] == channels
    assert set(ck["nets"]) == NETS.get(model, {"G", "D"})
    assert ck["num_classes"] == 4                     # the dataset's; a conditional run's networks were sized by it


@pytest.mark.parametrize("model", ["dcgan", "wgan_gp", "sngan"])
def test_extra_layers_deepen_g_and_dcgan_style_d_and_survive_a_save_and_load(tmp_path, model):
    from playground.images import models as M
    from playground.images.sampling import load_generator

    def convs3(net):
        return sum(isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3) and m.stride == (1, 1)
                   for m in net.modules())

    plain = M.build(model, latent_dim=4, g_width=8, d_width=8, channels=1, resolution=16)
    deep = M.build(model, latent_dim=4, g_width=8, d_width=8, channels=1, resolution=16, extra_layers=2)
    assert convs3(deep["G"]) - convs3(plain["G"]) == 2
    assert convs3(deep["D"]) - convs3(plain["D"]) == (0 if model == "sngan" else 2)
    z = torch.randn(3, 4)
    assert deep["G"](z).shape == plain["G"](z).shape == (3, 1, 16, 16)
    assert deep["D"](deep["G"](z)).shape == (3,)
    out = tmp_path / "deep"
    result = train(tiny_cfg(tmp_path, model=model, extra_layers=1, steps=2), out,
                   dataset=tiny_data(res=16))
    assert result["state"] == "completed"
    gen = load_generator(out)                 # rebuilt from config.json's extra_layers, weights fit
    assert convs3(gen.net) == convs3(plain["G"]) + 1
    assert gen.images(torch.randn(2, 4)).shape == (2, 1, 16, 16)


def test_the_image_vae_is_the_vae_labs_conv_vae():
    from playground.images import models as M
    from playground.vae.model import VAE, gaussian_kl

    nets = M.build("vae", latent_dim=4, g_width=8, d_width=8, channels=1, resolution=16)
    lab = nets["vae"].vae
    assert isinstance(lab, VAE) and lab.cfg.arch == "conv" and lab.cfg.decoder == "bernoulli"
    g = torch.Generator().manual_seed(0)
    x, eps = torch.rand(5, 1, 16, 16, generator=g), torch.randn(5, 4, generator=g)
    logits, mu, logvar = nets["vae"](x, eps)
    _loss, rec, kl = M.vae_loss(logits, x, mu, logvar)
    z = mu + torch.exp(0.5 * logvar) * eps
    # the trainer's loss is the lab's negative ELBO for the same noise
    assert torch.allclose(rec, -lab.log_px(x, z).mean(), atol=1e-4)
    assert torch.allclose(kl, gaussian_kl(mu, logvar).sum(1).mean(), atol=1e-5)
    # sampling goes through a view that shares the lab model's decoder weights
    gen = M.generator_of("vae", nets)
    assert torch.allclose(M.to_unit("vae", gen(z)), lab.decode(z), atol=1e-6)
    assert {p.data_ptr() for p in gen.parameters()} <= {p.data_ptr() for p in lab.parameters()}


def _weights(path):
    ck = load_checkpoint(path)
    flat = {}
    for name, sd in list(ck["nets"].items()) + [("ema", ck["ema"] or {})]:
        for k, v in sd.items():
            flat[f"{name}.{k}"] = v
    for name, sd in ck["opts"].items():
        for pid, st in sd["state"].items():
            for k, v in st.items():
                flat[f"opt.{name}.{pid}.{k}"] = v
    return flat


LOSS_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "gp", "loss", "rec", "kl", "nll", "bits_per_dim", "fid", "kid",
             "precision", "recall")


def _losses(run_dir):
    return [{k: r[k] for k in LOSS_KEYS if k in r} | {"step": r["step"]} for r in RunDir(run_dir).read_metrics()]


@pytest.mark.parametrize("model,conditional", [("dcgan", False), ("wgan_gp", False), ("cgan", True),
                                               ("pixelcnn", True), ("diffusion", True), ("flow_matching", False)])
def test_stop_then_resume_equals_an_uninterrupted_run_bit_for_bit(tmp_path, model, conditional):
    kw = {"model": model, "steps": 12, "checkpoint_every": 5, "eval_every": 6, "log_every": 1, "sample_every": 3,
          "d_steps": 2 if model == "wgan_gp" else 1, "conditional": conditional and model != "cgan"}
    data = tiny_data()
    full = train(tiny_cfg(tmp_path, **kw), tmp_path / "full", dataset=data)

    def stop_at_7(tr):
        if tr.step == 7:
            tr.run.request_stop()

    part = train(tiny_cfg(tmp_path, **kw), tmp_path / "part", dataset=data, on_step=stop_at_7)
    assert part["state"] == "stopped" and part["steps"] == 7
    assert RunDir(tmp_path / "part").read_status()["state"] == "stopped"
    assert load_checkpoint(RunDir(tmp_path / "part").latest_path)["step"] == 7
    resumed = train(tiny_cfg(tmp_path, **kw), resume=tmp_path / "part", dataset=data)
    assert resumed["state"] == "completed" and resumed["resumed_from"] == 7
    a, b = _weights(RunDir(tmp_path / "full").latest_path), _weights(RunDir(tmp_path / "part").latest_path)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert _losses(tmp_path / "full") == _losses(tmp_path / "part")
    assert full["fid"] == resumed["fid"]


def test_resume_removes_temp_files_left_by_a_killed_writer(tmp_path):
    data = tiny_data()
    out = tmp_path / "run"
    train(tiny_cfg(tmp_path, steps=2), out, dataset=data)
    run = RunDir(out)
    stale = [out / ".status.json.abc123.tmp", run.checkpoints_dir / ".latest.pt.def456.tmp",
             run.samples_dir / ".step_00000004.png.x1.tmp"]
    for p in stale:
        p.write_bytes(b"half a file")
    keep = out / "notes.tmp"                                 # not one of ours: left alone
    keep.write_text("mine")
    result = train(tiny_cfg(tmp_path, steps=4), resume=out, dataset=data)
    assert result["state"] == "completed" and result["resumed_from"] == 2
    assert not any(p.exists() for p in stale) and keep.exists()


def test_bad_inputs_are_one_line_errors(tmp_path):
    with pytest.raises(PlaygroundError, match="not a run directory"):
        (tmp_path / "x").mkdir()
        train(tiny_cfg(tmp_path), resume=tmp_path / "x")
    with pytest.raises(PlaygroundError, match="resolution 12 is not possible"):
        ImageRunConfig(resolution=12).validate()
    with pytest.raises(PlaygroundError, match="unknown dataset"):
        train(tiny_cfg(tmp_path, dataset="digits").__class__(dataset="digits"), tmp_path / "y",
              dataset=None) if False else __import__("playground.data", fromlist=["x"]).load_dataset("nope")
    out = tmp_path / "z"
    train(tiny_cfg(tmp_path, steps=1), out, dataset=tiny_data())
    with pytest.raises(PlaygroundError, match="already exists"):
        train(tiny_cfg(tmp_path, steps=1), out, dataset=tiny_data())


def _cli(*args, cwd, **kw):
    """The installed CLI, run from an unrelated folder (nothing depends on a checkout or the working folder)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "playground", "images", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.slow
def test_kill_9_mid_run_then_resume_loses_at_most_the_steps_since_the_checkpoint(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--dataset", "digits", "--model", "dcgan", "--steps", "150", "--batch-size", "16",
            "--g-width", "16", "--d-width", "16", "--latent-dim", "8", "--checkpoint-every", "25", "--log-every", "5",
            "--sample-every", "50", "--eval-every", "0", "--final-eval", "0", "--features", "random", "--threads", "1",
            "--out", str(out), "--json"]
    p = _cli(*args, cwd=tmp_path)
    run = RunDir(out)
    deadline = time.time() + 60
    while time.time() < deadline:
        st = run.read_status() if run.status_path.exists() else {}
        if (st.get("checkpoint_step") or 0) >= 50:
            break
        time.sleep(0.05)
    else:
        p.kill()
        pytest.fail(f"no checkpoint in time: {p.communicate()}")
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    seen = max(r["step"] for r in run.read_metrics())
    st = RunDir.open(out).effective_status()
    assert st["state"] == "failed" and st.get("process_gone")       # found dead, not "running" forever
    assert lock_owner(out)["pid"] == p.pid                          # its lock file stays: it must not block
    ck_step = load_checkpoint(run.latest_path)["step"]
    assert 0 < seen - ck_step <= 25 + 5 or seen <= ck_step
    q = _cli("train", "--resume", str(out), "--json", cwd=tmp_path)
    stdout, stderr = q.communicate(timeout=120)
    assert q.returncode == 0, stderr
    result = json.loads(stdout)
    assert result["state"] == "completed" and result["steps"] == 150 and result["resumed_from"] == ck_step
    steps = [r["step"] for r in run.read_metrics() if "fid" not in r]
    assert steps == list(range(5, 151, 5))          # no duplicated or missing lines after the resume


@pytest.mark.slow
def test_torchrun_two_cpu_processes_write_one_run_scored_with_the_default_evaluation(tmp_path):
    # The README's command, small: the evaluation settings are the defaults (a final FID/KID/precision/recall
    # on 500 images in the digits classifier's features), which once crashed under torchrun (FID synchronised
    # across ranks while only rank 0 evaluated).
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    torchrun = Path(sys.executable).parent / "torchrun"
    cmd = [str(torchrun), "--standalone", "--nproc_per_node=2", "-m", "playground.images.train",
           "--dataset", "digits", "--model", "dcgan", "--steps", "30", "--batch-size", "16", "--g-width", "16",
           "--d-width", "16", "--latent-dim", "8",
           "--checkpoint-every", "10", "--log-every", "5", "--sample-every", "10", "--threads", "1",
           "--out", str(out), "--json"]
    p = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert p.returncode == 0, p.stderr[-3000:]
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1                          # only rank 0 reports
    result = json.loads(lines[0])
    assert result["world_size"] == 2 and result["state"] == "completed" and result["steps"] == 30
    assert result["fid"] is not None and result["fid_features"].startswith("classifier:digits")
    run = RunDir.open(out)
    st = run.read_status()
    assert st["state"] == "completed" and st["world_size"] == 2 and st["fid"] == result["fid"]
    assert [r["step"] for r in run.read_metrics() if "fid" not in r] == [5, 10, 15, 20, 25, 30]
    assert [r["step"] for r in run.read_metrics() if "fid" in r] == [30]
    assert [s for s, _ in run.samples()] == [10, 20, 30]
    assert [p.name for p in tmp_path.iterdir()] == ["ddp"]
