"""The generic config machinery: JSON and URL round trips, validation messages, CLI flags."""

import argparse
import dataclasses
import json
from typing import Literal

import pytest

from playground.configs import (
    add_arguments,
    changed_fields,
    from_args,
    from_dict,
    from_json,
    from_query,
    spec,
    to_args,
    to_json,
    to_query,
)
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
    assert not {"dist", "g_width", "latent_dim", "seed", "spectral_norm"} & LIVE_FIELDS
    a = ToyConfig()
    assert changed_fields(a, dataclasses.replace(a, seed=4, loss="hinge")) == {"seed", "loss"}



# ------------------------------------------------------------------------------------------------ list fields
Color = Literal["red", "green", "blue"]


@dataclasses.dataclass(frozen=True)
class ListConfig:
    colors: tuple[Color, ...] = spec(("red", "blue"), "colours", min_len=1, max_len=3)
    names: tuple[str, ...] = spec((), "free-form names")
    widths: tuple[int, ...] = spec((64, 64), "layer widths", lo=1, hi=512, max_len=4)
    seed: int = spec(0, "seed")


def _parser():
    parser = argparse.ArgumentParser()
    add_arguments(parser, ListConfig)
    return parser


def test_list_fields_are_lists_in_json_and_read_old_comma_strings():
    cfg = ListConfig(colors=("green",), names=("a", "b c"), widths=(8, 16, 32))
    assert json.loads(to_json(cfg))["colors"] == ["green"] and json.loads(to_json(cfg))["widths"] == [8, 16, 32]
    assert from_json(ListConfig, to_json(cfg)) == cfg
    old = from_json(ListConfig, '{"colors": "green, blue", "widths": "8,16", "names": ""}')   # saved before lists
    assert (old.colors, old.widths, old.names) == (("green", "blue"), (8, 16), ())


def test_list_fields_in_the_url_are_comma_joined():
    cfg = ListConfig(colors=("blue", "green"), widths=(128,))
    q = to_query(cfg)
    assert q == {"colors": "blue,green", "widths": "128"}
    assert from_query(ListConfig, q) == (cfg, [])
    assert from_query(ListConfig, {"colors": ["red", "green"]})[0].colors == ("red", "green")   # repeated keys
    back, problems = from_query(ListConfig, {"colors": "red,purple", "seed": "3"})
    assert back == ListConfig(seed=3) and len(problems) == 1 and "purple" in problems[0]


@pytest.mark.parametrize("data, words", [
    ({"colors": ["red", "purple"]}, "not one of"), ({"colors": []}, "at least 1 value"),
    ({"colors": "red,red,red,red"}, "at most 3"), ({"widths": [64, 1024]}, "above the maximum"),
    ({"widths": "64,2.5"}, "expected int"), ({"colors": 3}, "expected a list"),
])
def test_list_items_and_lengths_are_checked(data, words):
    with pytest.raises(PlaygroundError, match=words):
        from_dict(ListConfig, data)


def test_list_flags_take_commas_or_repeats_and_default_to_the_field():
    parser = _parser()
    assert from_args(ListConfig, parser.parse_args([])) == ListConfig()
    cfg = from_args(ListConfig, parser.parse_args(["--colors", "green,red", "--colors", "blue", "--widths", "3"]))
    assert cfg.colors == ("green", "red", "blue") and cfg.widths == (3,)
    assert "items: red, green, blue" in parser.format_help() and "default: red,blue" in parser.format_help()


@pytest.mark.parametrize("cfg", [ListConfig(), ListConfig(colors=("green",), names=("x", "y"), widths=(1, 512)),
                                 ListConfig(names=(), widths=())])
def test_to_args_round_trips_list_fields(cfg):
    assert from_args(ListConfig, _parser().parse_args(to_args(cfg))) == cfg


def _list_widget_page():
    import dataclasses
    from typing import Literal

    import streamlit as st

    from app.components.config_widgets import config_from_state, seed_state, widget
    from playground.configs import spec

    @dataclasses.dataclass(frozen=True)
    class Cfg:
        colors: tuple[Literal["red", "green", "blue"], ...] = spec(("red",), "colours", min_len=1, max_len=2)
        tags: tuple[str, ...] = spec(("a",), "free tags")

    seed_state(Cfg, Cfg(), "t_")
    widget(Cfg, "colors", "t_")
    widget(Cfg, "tags", "t_", options=["a", "b"])
    cfg, error = config_from_state(Cfg, "t_", Cfg())
    st.markdown(error or f"{cfg.colors} {cfg.tags}")


def test_a_list_field_is_drawn_as_a_multiselect_of_its_items():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_list_widget_page).run()
    colors, tags = at.multiselect
    assert colors.options == ["red", "green", "blue"] and colors.value == ["red"]
    assert colors.proto.max_selections == 2 and tags.options == ["a", "b"]
    colors.set_value(["green", "blue"])
    tags.set_value(["b", "typed"])
    at.run()
    assert at.markdown[0].value == "('green', 'blue') ('b', 'typed')"
    at.multiselect[0].set_value([]).run()
    assert "colors: give at least 1 value" in at.markdown[0].value
