"""DivergenceConfig: list-valued divergences, old comma strings still load, validation, page and CLI share it."""

import json

import pytest

from playground.configs import from_dict, from_json, from_query, to_json, to_query
from playground.divergences.config import DivergenceConfig
from playground.errors import PlaygroundError


def test_config_round_trips_and_validates():
    cfg = DivergenceConfig(target="0.5*N(-1,0.5)+0.5*U(0,2)", divergences=("kl", "alpha:0.3"), alpha=-0.5,
                           view="landscape", param2d=0.5)
    cfg.validate()
    assert from_json(DivergenceConfig, to_json(cfg)) == cfg
    assert json.loads(to_json(cfg))["divergences"] == ["kl", "alpha:0.3"]          # a list in JSON
    assert to_query(cfg)["divergences"] == "kl,alpha:0.3"                          # comma-joined in the URL
    back, problems = from_query(DivergenceConfig, to_query(cfg))
    assert back == cfg and problems == []
    assert cfg.divergence_list == ["kl", "alpha:0.3"]
    for bad in ({"divergences": ("kl", "foo")}, {"target": "N(0,-1)"}, {"divergences2d": ("w1",)},
                {"param2d": 5.0, "target2d": "correlated"}, {"gan_q": "N(0"}):
        with pytest.raises(PlaygroundError):
            DivergenceConfig(**bad).validate()
    _, problems = from_query(DivergenceConfig, {"alpha": "zz", "restarts": "3"})
    assert problems and "alpha" in problems[0]


def test_configs_saved_with_comma_strings_still_load():
    old = '{"divergences": "kl, rkl,alpha:0.5", "divergences2d": "js", "restarts": 5}'
    cfg = from_json(DivergenceConfig, old)
    assert cfg.divergences == ("kl", "rkl", "alpha:0.5") and cfg.divergences2d == ("js",) and cfg.restarts == 5
    assert from_query(DivergenceConfig, {"divergences": "tv,js"})[0].divergences == ("tv", "js")


def test_divergence_lists_have_bounds():
    with pytest.raises(PlaygroundError, match="at least 1"):
        from_dict(DivergenceConfig, {"divergences": []})
    with pytest.raises(PlaygroundError, match="at most 8"):
        from_dict(DivergenceConfig, {"divergences": ["kl"] * 9})
    assert from_dict(DivergenceConfig, {"divergences2d": ""}).divergences2d == ()     # the 2D view says "pick one"
    with pytest.raises(PlaygroundError, match="unknown divergence 'kll'"):
        from_dict(DivergenceConfig, {"divergences": "kl,kll"})


def test_to_args_round_trips_the_whole_config():
    import argparse

    from playground.configs import add_arguments, from_args, to_args

    parser = argparse.ArgumentParser()
    add_arguments(parser, DivergenceConfig)
    cfg = DivergenceConfig(target="0.5*N(-1,0.5)+0.5*U(0,2)", divergences=("kl", "alpha:-0.5"), live=False,
                           divergences2d=(), param2d=-0.3, gan_q="N(0,2)")
    for c in (cfg, DivergenceConfig()):
        assert from_args(DivergenceConfig, parser.parse_args(to_args(c))) == c
