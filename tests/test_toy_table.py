"""The published-table command: protocol configs, the metric definitions on hand-made sample sets, mean ± s.e.,
the CLI row (tiny trials) and the bench's markdown. No test relies on the published numbers themselves."""

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from playground.cli import main
from playground.errors import PlaygroundError
from playground.toy.table import PROTOCOLS, agrees, format_row, mean_se, protocol_config, run_row, run_trial
from playground.toy.targets import make_target


def test_pacgan_protocol_configs_match_the_released_configuration():
    cfg = protocol_config("pacgan", "ring", "pacgan3", seed=4)
    assert (cfg.dist, cfg.n_modes, cfg.radius, cfg.std) == ("ring8", 8, 1.0, 0.01)
    assert (cfg.g_layers, cfg.g_width, cfg.g_batchnorm, cfg.d_layers, cfg.d_width, cfg.d_maxout) == \
        (4, 400, True, 3, 200, 5)
    assert (cfg.pack, cfg.batch_size, cfg.d_lr, cfg.g_lr, cfg.beta1, cfg.init_std, cfg.seed) == \
        (3, 100, 1e-4, 1e-4, 0.8, 0.02, 4)
    ring = make_target(cfg).means
    angles = np.arange(8) * 2 * np.pi / 8       # config.py: (cos 2πk/8, sin 2πk/8), in some order
    expected = np.stack([np.cos(angles), np.sin(angles)], 1)
    assert np.abs(ring[:, None, :] - expected[None]).sum(-1).min(1).max() < 1e-9
    grid = protocol_config("pacgan", "grid", "gan")
    assert (grid.dist, grid.n_modes, grid.radius, grid.std, grid.pack) == ("grid25", 5, 2.0, 0.05, 1)
    means = make_target(grid).means
    assert sorted(map(tuple, means)) == [(float(i), float(j)) for i in range(-4, 5, 2) for j in range(-4, 5, 2)]
    # 400 epochs of 100,000 packs in batches of 100 packs.
    assert PROTOCOLS["pacgan"].steps == 400 * 100_000 // 100 and PROTOCOLS["veegan"].trials == 5
    with pytest.raises(PlaygroundError, match="variant"):
        protocol_config("pacgan", "ring", "nope")


class _FixedSamples:
    """A stand-in for ToyGAN whose generator returns a hand-made sample set (no training)."""
    points: np.ndarray

    def __init__(self, cfg):
        self.target = make_target(cfg)

    def train(self, steps):
        pass

    def sample(self, n, seed=0):
        return self.points


def _score(monkeypatch, target: str, points) -> dict:
    import playground.toy.trainer as trainer

    monkeypatch.setattr(trainer, "ToyGAN", type("G", (_FixedSamples,), {"points": np.asarray(points, float)}))
    return run_trial(protocol_config("pacgan", target, "gan"), steps=0)


def test_ring_metrics_on_a_hand_made_sample_set(monkeypatch):
    cfg = protocol_config("pacgan", "ring", "gan")
    m = make_target(cfg).means
    s = cfg.std
    pts = [m[0], m[0], m[0] + [0.5 * s, 0], m[1],
           m[2] + [2.9 * s, 0],            # 2.9 σ from its mode: high quality
           m[3] + [0, 3.1 * s],            # 3.1 σ: not high quality, so mode 3 is not covered
           [0.0, 0.0]]                     # between modes: not high quality
    r = _score(monkeypatch, "ring", pts)
    assert r["modes"] == 3 and r["hq"] == pytest.approx(100 * 5 / 7)
    h = np.array([3, 1, 1]) / 5            # histogram of the high-quality samples' modes
    assert r["rkl"] == pytest.approx(0.6 * math.log(0.6 * 8) + 2 * 0.2 * math.log(0.2 * 8))
    # The released MetricLogger logs the entropy H of that histogram; KL(h ‖ uniform) = log K − H.
    assert r["rkl"] == pytest.approx(math.log(8) + float(np.sum(h * np.log(h))))


def test_grid_high_quality_is_the_whitened_distance_not_each_coordinate(monkeypatch):
    cfg = protocol_config("pacgan", "grid", "gan")
    s = cfg.std
    pts = [[2 + 2 * s, -4 + 2 * s],        # each coordinate 2 σ, distance sqrt(8) σ = 2.83 σ: high quality
           [0 + 2.2 * s, 0 + 2.2 * s],     # each coordinate 2.2 σ, distance 3.11 σ: not
           [4.0, 4.0], [4.0, 4.0 - 0.5 * s]]
    r = _score(monkeypatch, "grid", pts)
    assert r["modes"] == 2 and r["hq"] == pytest.approx(75.0)
    assert r["rkl"] == pytest.approx(1 / 3 * math.log(25 / 3) + 2 / 3 * math.log(2 / 3 * 25))
    everywhere = make_target(cfg).means     # one exact sample per mode: all covered, uniform, KL 0
    r = _score(monkeypatch, "grid", everywhere)
    assert (r["modes"], r["hq"], r["rkl"]) == (25, 100.0, pytest.approx(0.0, abs=1e-12))


def test_mean_and_standard_error_and_agreement():
    m, se = mean_se([1.0, 2.0, 4.0, None])
    assert m == pytest.approx(7 / 3) and se == pytest.approx(np.std([1, 2, 4], ddof=1) / math.sqrt(3))
    assert mean_se([]) == (None, None) and mean_se([3.0]) == (3.0, None)
    # Within 2 combined standard errors: |7.0 − 7.9| = 0.9 > 2·hypot(0.3, 0.1) = 0.632; |7.6 − 7.9| = 0.3 is not.
    assert agrees((7.0, 0.3), (7.9, 0.1)) is False and agrees((7.6, 0.3), (7.9, 0.1)) is True
    assert agrees((7.6, 0.3), (7.9, None)) is None


def test_a_tiny_row_reports_each_trial_and_their_summary():
    r = run_row("pacgan", "ring", "pacgan2", trials=2, steps=2)
    assert [t["seed"] for t in r["per_trial"]] == [0, 1] and r["steps"] == 2
    for key in ("modes", "hq"):
        vals = [t[key] for t in r["per_trial"]]
        assert r["ours"][key][0] == pytest.approx(np.mean(vals))
        assert r["ours"][key][1] == pytest.approx(np.std(vals, ddof=1) / math.sqrt(2))
    assert r["published_row"] is PROTOCOLS["pacgan"].published["ring"]["pacgan2"]
    assert set(r["agrees"]) == {"modes", "hq", "rkl"} and "gan" in r["published"]
    # a trial with no high-quality sample has no reverse KL: the row says how many trials each mean covers
    assert r["n_used"]["modes"] == r["n_used"]["hq"] == 2
    assert r["n_used"]["rkl"] == sum(t["rkl"] is not None for t in r["per_trial"])
    short = dict(r, n_used={"modes": 2, "hq": 2, "rkl": 1})
    assert "rkl over 1 of 2 trials" in format_row(short) and "of 2 trials" not in format_row(dict(r, n_used={}))


def test_the_default_trials_are_the_protocols():
    r = run_row("veegan", "ring", "gan", steps=0)
    assert r["trials"] == PROTOCOLS["veegan"].trials == 5 and len(r["per_trial"]) == 5


def test_d_steps_leave_gs_batch_norm_statistics_to_gs_own_step():
    """The fakes D learns from are drawn with G in train mode; the running statistics move once an iteration."""
    from playground.toy.trainer import ToyGAN

    gan = ToyGAN(protocol_config("pacgan", "ring", "gan"))
    bn = next(m for m in gan.G.modules() if isinstance(m, torch.nn.BatchNorm1d))
    before = bn.running_mean.clone()
    gan.step_d()
    assert torch.equal(bn.running_mean, before) and bn.momentum == 0.05
    gan.step_g()
    assert not torch.equal(bn.running_mean, before)


def test_cli_table_json_and_user_errors(capsys):
    assert main(["toy", "table", "--protocol", "veegan", "--target", "grid", "--variant", "gan", "--trials", "1",
                 "--steps", "1", "--json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    published = PROTOCOLS["veegan"].published["grid"]["gan"]
    assert out["target"] == "grid" and out["trials"] == 1
    assert out["published_row"] == json.loads(json.dumps(published))
    assert main(["toy", "table", "--trials", "0", "--steps", "1"]) == 2
    assert "trials" in capsys.readouterr().err


def test_bench_markdown_shows_what_ran_beside_the_published_rows():
    path = Path(__file__).resolve().parents[1] / "bench" / "toy_tables.py"
    spec = importlib.util.spec_from_file_location("toy_tables_bench", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    pub = PROTOCOLS["pacgan"].published["ring"]["gan"]
    far = (pub["modes"][0] + 10 * (pub["modes"][1] + 1), 0.01)   # certainly outside the error bars
    result = {"protocol": "pacgan", "target": "ring", "variant": "gan", "steps": 2500, "trials": 5,
              "ours": {"modes": list(pub["modes"]), "hq": list(far), "rkl": [None, None]}}
    md = bench.render([result])
    row = next(line for line in md.splitlines() if line.startswith("| ours: gan"))
    assert "| 2,500 | 5 |" in row and row.rstrip().endswith("| yes/no/? |")
    assert f"{far[0]:.2f} ± 0.01" in row and "| – |" in row
    n_published = sum(line.startswith("| published:") for line in md.splitlines())
    assert n_published == len(PROTOCOLS["pacgan"].published["ring"])
