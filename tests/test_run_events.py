"""Runs write TensorBoard event files beside metrics.jsonl: the logged scalars and sample grids read back."""

import pytest
import torch

from playground.data import ImageDataset
from playground.runs import events
from playground.runs.rundir import RunDir

EventAccumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator").EventAccumulator


def _read(path):
    acc = EventAccumulator(str(path), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    return acc


def test_rows_and_grids_read_back(tmp_path):
    run = RunDir.create(tmp_path / "run", {"model": "dcgan"}, kind="images")
    rows = [{"step": 10, "d_loss": 1.25, "g_loss": 0.5, "final": False},
            {"step": 20, "d_loss": 0.75, "g_loss": 0.25, "fid": 3.5, "note": "text"}]
    for r in rows:
        run.append_metrics(r)
    run.save_samples(20, torch.rand(4, 1, 6, 6))
    events.close(run.path)
    acc = _read(run.path)
    assert sorted(acc.Tags()["scalars"]) == ["d_loss", "fid", "g_loss"]   # no bools, strings or the step
    assert [(e.step, e.value) for e in acc.Scalars("d_loss")] == [(10, 1.25), (20, 0.75)]
    assert [(e.step, e.value) for e in acc.Scalars("fid")] == [(20, 3.5)]
    assert [e.step for e in acc.Images("samples")] == [20]
    assert run.read_metrics() == rows                                   # metrics.jsonl unchanged


def test_a_tiny_image_run_writes_its_losses_and_grids(tmp_path):
    from playground.images.config import ImageRunConfig
    from playground.images.train import train

    g = torch.Generator().manual_seed(0)
    data = ImageDataset(name="tiny", images=torch.rand(32, 1, 8, 8, generator=g))
    cfg = ImageRunConfig(steps=4, batch_size=8, g_width=8, d_width=8, latent_dim=4, log_every=1, sample_every=2,
                         checkpoint_every=4, eval_every=4, eval_samples=16, features="random", device="cpu")
    train(cfg, tmp_path / "img", dataset=data)
    events.close(tmp_path / "img")
    logged = RunDir(tmp_path / "img").read_metrics()
    acc = _read(tmp_path / "img")
    loss_key = next(k for k in ("d_loss", "loss") if k in logged[0])
    want = [(r["step"], pytest.approx(r[loss_key], rel=1e-6)) for r in logged if loss_key in r]
    assert [(e.step, e.value) for e in acc.Scalars(loss_key)] == want
    assert len(acc.Images("samples")) == len(RunDir(tmp_path / "img").samples())


def test_without_tensorboard_runs_still_log(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)     # import fails as if not installed
    run = RunDir.create(tmp_path / "run", {"model": "dcgan"}, kind="images")
    run.append_metrics({"step": 1, "d_loss": 1.0})
    run.save_samples(1, torch.rand(1, 1, 4, 4))
    assert run.read_metrics() == [{"step": 1, "d_loss": 1.0}]
    assert not list(run.path.glob("events.out.tfevents*"))
