"""Smoke test of bench/image_families.py: its measuring function runs one family for a very short window and
returns the documented shape with both rates positive (the speed targets are measured by the bench itself)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

BENCH = Path(__file__).resolve().parents[1] / "bench" / "image_families.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_image_families", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_measure_one_family_shape_and_rates():
    bench = _bench()
    data = bench.fake_mnist5k(n=256)
    row = bench.measure("cgan", seconds=0.05, windows=2, warmup=1, device=torch.device("cpu"), data=data)
    assert row["model"] == "cgan" and row["preset"] == "cgan_mnist5k" and row["batch"] == 64
    assert row["windows"] == 2 and row["parameters"] > 0
    assert row["steps"]["ours"] >= 2 and row["steps"]["bare"] >= 2          # at least one step per window
    for key in ("images_per_sec", "images_per_cpu_sec"):
        r = row[key]
        assert r["ours"] > 0 and r["bare"] > 0
        assert len(r["ratio_per_window"]) == 2
        assert abs(r["ratio"] - r["ours"] / r["bare"]) < 0.01 * r["ratio"] + 1e-3
    assert "sample_64" not in row and "evaluation" not in row                 # extras only when asked


def test_bare_step_trains_the_same_modules_as_the_trainer():
    """The bare loop's networks are the trainer's build for the config (same parameter shapes and initial
    weights), and one bare step changes them (its optimiser is wired to them)."""
    bench = _bench()
    from playground.images import families
    from playground.images.config import with_updates

    cfg = bench.bench_config("flow_matching", torch.device("cpu"), threads=1)
    torch.manual_seed(cfg.seed)
    ref = families.build(cfg, 1, bench.RES, bench.CLASSES)["denoiser"]
    data = bench.fake_mnist5k(n=128)
    step, nets = bench.bare_step(with_updates(cfg, batch_size=4), data, torch.device("cpu"), return_nets=True)
    before = {k: v.clone() for k, v in nets["denoiser"].state_dict().items()}
    assert before.keys() == ref.state_dict().keys()
    assert all(torch.equal(before[k], v) for k, v in ref.state_dict().items())
    step()
    after = nets["denoiser"].state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
