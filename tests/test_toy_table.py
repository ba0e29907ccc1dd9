"""The published-table command: protocol configs, mean ± standard error, the CLI row (tiny trials)."""

import json
import math

import numpy as np
import pytest

from playground.cli import main
from playground.errors import PlaygroundError
from playground.toy.table import PROTOCOLS, agrees, mean_se, protocol_config, run_row


def test_pacgan_protocol_configs():
    cfg = protocol_config("pacgan", "ring", "pacgan3", seed=4)
    assert (cfg.dist, cfg.n_modes, cfg.radius, cfg.std) == ("ring8", 8, 1.0, 0.01)
    assert (cfg.g_layers, cfg.g_width, cfg.g_batchnorm, cfg.d_layers, cfg.d_width, cfg.d_maxout) == \
        (4, 400, True, 3, 200, 5)
    assert (cfg.pack, cfg.batch_size, cfg.d_lr, cfg.g_lr, cfg.beta1, cfg.init_std, cfg.seed) == \
        (3, 100, 1e-4, 1e-4, 0.8, 0.02, 4)
    grid = protocol_config("pacgan", "grid", "gan")
    assert (grid.dist, grid.n_modes, grid.radius, grid.std, grid.pack) == ("grid25", 5, 2.0, 0.05, 1)
    from playground.toy.targets import make_target

    means = make_target(grid).means
    assert sorted(set(means[:, 0])) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert PROTOCOLS["pacgan"].steps == 400_000
    with pytest.raises(PlaygroundError, match="variant"):
        protocol_config("pacgan", "ring", "nope")


def test_mean_and_standard_error_and_agreement():
    m, se = mean_se([1.0, 2.0, 4.0, None])
    assert m == pytest.approx(7 / 3) and se == pytest.approx(np.std([1, 2, 4], ddof=1) / math.sqrt(3))
    assert mean_se([]) == (None, None) and mean_se([3.0]) == (3.0, None)
    assert agrees((7.0, 0.3), (7.9, 0.1)) is False and agrees((7.6, 0.3), (7.9, 0.1)) is True
    assert agrees((7.6, 0.3), (7.9, None)) is None


def test_a_tiny_row_reports_each_trial_and_their_summary():
    r = run_row("pacgan", "ring", "pacgan2", trials=2, steps=2)
    assert [t["seed"] for t in r["per_trial"]] == [0, 1] and r["steps"] == 2
    modes = [t["modes"] for t in r["per_trial"]]
    assert r["ours"]["modes"][0] == pytest.approx(np.mean(modes))
    assert r["published_row"]["modes"] == (7.9, 0.1) and set(r["agrees"]) == {"modes", "hq", "rkl"}
    assert "gan" in r["published"]


def test_cli_table_json_and_user_errors(capsys):
    assert main(["toy", "table", "--protocol", "veegan", "--target", "grid", "--variant", "gan", "--trials", "1",
                 "--steps", "1", "--json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["target"] == "grid" and out["published_row"]["modes"] == [3.3, None] and out["trials"] == 1
    assert main(["toy", "table", "--trials", "0", "--steps", "1"]) == 2
    assert "trials" in capsys.readouterr().err
