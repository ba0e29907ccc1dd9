"""Smoke test of bench/families_speed.py: it runs every family for very short windows and prints the documented
JSON with finite positive ratios, and its bare loops really do the trainer's work (same losses, same weights
from identical state), so the comparison it makes is honest (the speed target is measured by the bench)."""

from __future__ import annotations

import importlib.util
import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).resolve().parents[1] / "bench" / "families_speed.py"
MODELS = ("gan", "vae", "flow", "autoregressive", "diffusion", "flow_matching")


def _bench():
    spec = importlib.util.spec_from_file_location("bench_families_speed", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_family_gets_finite_positive_ratios(capsys):
    bench = _bench()
    assert bench.MODELS == MODELS
    out = bench.main(["--windows", "2", "--seconds", "0.02", "--warmup", "1"])
    printed = json.loads(capsys.readouterr().out)
    assert printed["summary"] == out["summary"] and printed["bench"] == "families_speed"
    assert printed["machine"]["torch_threads"] == 1 and printed["load_average"]["start"] is not None
    assert [r["model"] for r in printed["results"]] == list(MODELS)
    assert set(printed["summary"]) == set(MODELS)
    for r in printed["results"]:
        assert r["batch"] == 512 and r["parameters"] > 0 and r["windows"] == 2
        assert all(r["steps"][side] >= 2 for side in ("trainer", "lockstep", "bare"))
        for key in ("steps_per_sec", "steps_per_cpu_sec"):
            p = r[key]
            for side in ("trainer", "lockstep"):
                ratio = p[f"{side}_ratio"]
                assert math.isfinite(ratio) and ratio > 0
                assert len(p[f"{side}_ratio_per_window"]) == 2
                assert abs(ratio - p[side] / p["bare"]) < 0.01 * ratio + 1e-3
        assert r["check"]["initial_weights_max_abs_diff"] == 0.0
        assert r["check"]["loss_max_rel_diff"] < 1e-5 and r["check"]["weights_max_abs_diff"] < 1e-6
        s = printed["summary"][r["model"]]
        assert all(math.isfinite(s[k]) and s[k] > 0 for k in s if k != "meets_target")


def _short(bench, model: str):
    """A config whose learning-rate schedule moves within four steps (cosine over 4 steps; the GAN's rates
    halving every 2 iterations), so a bare loop with another schedule would end elsewhere."""
    if model == "gan":
        return bench.bench_config(model, batch_size=64, steps=4, gan_settings=("lr_half_life=2",))
    return bench.bench_config(model, batch_size=64, steps=4)


@pytest.mark.parametrize("model", MODELS)
def test_bare_loop_computes_the_trainers_losses_and_weights(model):
    """From identical state, four steps of the trainer and of the bare loop on the same batches and noise give
    the same losses (the GAN: D's and G's) and the same weights; the weights did move; and a bare loop with
    another learning-rate schedule is caught by the same check."""
    bench = _bench()
    from playground.toy.targets import make_target

    cfg = _short(bench, model)
    target = make_target(cfg)
    same = bench.compare(cfg, steps=4, target=target)
    assert same["initial_weights_max_abs_diff"] == 0.0
    assert same["loss_max_rel_diff"] < 1e-5
    assert same["weights_max_abs_diff"] < 1e-6
    assert len(same["losses"]) == 4 and len(same["losses"][0]["bare"]) == (2 if model == "gan" else 1)
    assert len({row["bare"] for row in same["losses"]}) > 1                      # training moves the losses

    bare = bench.bare_loop(cfg, target)
    before = {k: v.clone() for k, v in bare.model.state_dict().items()}
    bare.step()
    after = bare.model.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)            # its optimiser drives them

    other = (replace(cfg, gan_settings=("lr_half_life=2000",)) if model == "gan"
             else replace(cfg, steps=10_000))
    diff = bench.compare(cfg, steps=4, target=target, bare_cfg=other)
    assert diff["weights_max_abs_diff"] > 1e-6
