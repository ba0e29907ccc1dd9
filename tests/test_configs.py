"""The generic config machinery: JSON and URL round trips, validation messages, CLI flags."""

import argparse
import dataclasses

import pytest

from playground.configs import (add_arguments, changed_fields, from_args, from_dict, from_json, from_query,
                                to_json, to_query)
from playground.errors import PlaygroundError
from playground.toy.config import LIVE_FIELDS, ToyConfig


def test_json_round_trip_is_lossless():
    cfg = ToyConfig(dist="grid25", std=0.07, loss="wgan_gp", g_lr=3e-4, spectral_norm=True, formula="N(0,1)")
    assert from_json(ToyConfig, to_json(cfg)) == cfg


def test_url_holds_only_changes_and_round_trips():
    cfg = ToyConfig(loss="hinge", d_steps=3, init_offset=-1.5)
    q = to_query(cfg)
    assert q == {"loss": "hinge", "d_steps": "3", "init_offset": "-1.5"}
    back, problems = from_query(ToyConfig, q)
    assert back == cfg and problems == []


def test_bad_url_values_are_reported_not_fatal():
    cfg, problems = from_query(ToyConfig, {"loss": "bogus", "g_lr": "5", "seed": "2", "unknown": "x"})
    assert cfg.seed == 2 and cfg.loss == "nonsaturating" and cfg.g_lr == ToyConfig().g_lr
    assert len(problems) == 2 and any("bogus" in p for p in problems) and any("maximum" in p for p in problems)


@pytest.mark.parametrize("data, words", [
    ({"batch_size": 2}, "minimum"), ({"batch_size": 2.5}, "expected int"), ({"spectral_norm": "maybe"}, "bool"),
    ({"dist": "ring9"}, "not one of"), ({"frobnicate": 1}, "unknown setting"), ({"g_lr": float("nan")}, "float"),
])
def test_validation_messages_name_the_field(data, words):
    with pytest.raises(PlaygroundError, match=words):
        from_dict(ToyConfig, data)


def test_cli_flags_come_from_the_fields():
    parser = argparse.ArgumentParser()
    add_arguments(parser, ToyConfig)
    ns = parser.parse_args(["--dist", "spiral", "--g-lr", "0.001", "--spectral-norm", "1", "--n-modes", "4"])
    cfg = from_args(ToyConfig, ns)
    assert (cfg.dist, cfg.g_lr, cfg.spectral_norm, cfg.n_modes) == ("spiral", 0.001, True, 4)
    assert from_args(ToyConfig, parser.parse_args([])) == ToyConfig()


def test_live_fields_are_training_settings_only():
    assert {"loss", "d_lr", "g_lr", "d_opt", "g_opt", "d_steps", "g_steps", "batch_size"} <= LIVE_FIELDS
    assert not {"dist", "g_width", "noise_dim", "seed", "spectral_norm"} & LIVE_FIELDS
    a = ToyConfig()
    assert changed_fields(a, dataclasses.replace(a, seed=4, loss="hinge")) == {"seed", "loss"}

