"""Derived defaults (filled at construction, left out of URLs), renamed fields, the one preset type."""

import argparse
import dataclasses
from typing import ClassVar

import pytest

from playground.configs import add_arguments, fill_derived, from_args, from_dict, from_query, spec, to_query
from playground.errors import PlaygroundError
from playground.images.config import PRESETS as IMAGE_PRESETS, ImageRunConfig
from playground.presets import Preset
from playground.toy.config import TARGET_DEFAULTS, ToyConfig
from playground.toy.presets import PRESETS as TOY_PRESETS


@dataclasses.dataclass(frozen=True)
class Demo:
    RENAMED: ClassVar[dict] = {"z_dim": "latent_dim"}
    kind: str = spec("a", "which kind")
    latent_dim: int = spec(2, "latent size", lo=1, hi=10)
    width: int | None = spec(None, "derived from kind", lo=1, hi=100)

    def __post_init__(self):
        fill_derived(self)

    def derived_defaults(self):
        return {"width": 10 if self.kind == "a" else 20}


def test_every_toy_config_is_resolved_however_it_is_built():
    for dist in ("ring8", "grid25", "uniform1d"):
        d = TARGET_DEFAULTS[dist]
        for cfg in (ToyConfig(dist=dist), from_dict(ToyConfig, {"dist": dist}), from_query(ToyConfig, {"dist": dist})[0]):
            assert (cfg.n_modes, cfg.radius, cfg.std) == (d["n_modes"], d["radius"], d["std"])
    assert ToyConfig(dist="grid25", n_modes=3).n_modes == 3


def test_url_leaves_out_derived_values_that_match_and_keeps_those_that_do_not():
    assert to_query(ToyConfig(dist="grid25")) == {"dist": "grid25"}
    assert to_query(ToyConfig(dist="grid25", n_modes=8)) == {"dist": "grid25", "n_modes": "8"}
    assert from_query(ToyConfig, to_query(ToyConfig(dist="grid25", n_modes=8)))[0].n_modes == 8
    assert to_query(Demo(kind="b")) == {"kind": "b"} and Demo(kind="b").width == 20


def test_renamed_fields_load_from_json_urls_and_flags():
    assert from_dict(Demo, {"z_dim": 4}).latent_dim == 4
    assert from_query(Demo, {"z_dim": "5"})[0].latent_dim == 5
    assert from_query(Demo, {"z_dim": "5", "latent_dim": "6"})[0].latent_dim == 6     # the new name wins
    with pytest.raises(PlaygroundError, match="old name"):
        from_dict(Demo, {"z_dim": 4, "latent_dim": 4})
    parser = argparse.ArgumentParser()
    add_arguments(parser, Demo)
    assert from_args(Demo, parser.parse_args(["--z-dim", "7"])).latent_dim == 7
    assert from_args(Demo, parser.parse_args(["--latent-dim", "3"])).latent_dim == 3


def test_one_preset_type_builds_validated_configs():
    assert all(isinstance(p, Preset) for p in [*TOY_PRESETS.values(), *IMAGE_PRESETS.values()])
    assert TOY_PRESETS["bimodal_1d"].config(ToyConfig).dist == "bimodal1d"
    assert IMAGE_PRESETS["dcgan_digits"].config(ImageRunConfig, steps=5).steps == 5
    with pytest.raises(PlaygroundError, match="minimum"):
        Preset("t", "l", {"batch_size": 1}).config(ToyConfig)


def test_a_bare_image_run_is_the_train_pages_default_launch():
    """`images train` with no flags trains what the Train page's form opens on; the other presets keep the
    defaults they were tuned under (their cards' configs are unchanged)."""
    import json
    from pathlib import Path

    from playground.configs import to_dict
    from playground.images.config import DEFAULT_PRESET, PRESETS, ImageRunConfig

    assert to_dict(ImageRunConfig()) == to_dict(PRESETS[DEFAULT_PRESET].config(ImageRunConfig))
    root = Path(__file__).resolve().parents[1] / "pretrained/image_runs"
    for card in root.glob("*.json"):
        data = json.loads(card.read_text())
        preset = data["command"].split("--preset ")[1].split()[0]
        cfg = to_dict(PRESETS[preset].config(ImageRunConfig))
        assert {k: cfg[k] for k in ("latent_dim", "extra_layers")} == \
            {k: data["config"][k] for k in ("latent_dim", "extra_layers")}, card.name
