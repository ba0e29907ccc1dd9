"""playground.numerics: logsumexp against direct sums, and the one JSON policy (standard JSON, null for
numbers JSON cannot hold)."""

import importlib
import json
import math

import numpy as np
import pytest
import torch

from playground.numerics import dumps, logsumexp, to_jsonable


def strict_loads(text: str):
    """json.loads that refuses the non-standard NaN/Infinity tokens."""
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")
    return json.loads(text, parse_constant=refuse)


def test_logsumexp_matches_direct_sum():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 7))
    assert np.allclose(logsumexp(a, axis=1), np.log(np.exp(a).sum(axis=1)))
    assert np.allclose(logsumexp(a, axis=0, keepdims=True), np.log(np.exp(a).sum(axis=0, keepdims=True)))
    assert logsumexp(a, axis=0, keepdims=True).shape == (1, 7)


def test_logsumexp_no_overflow_and_all_minus_inf():
    # log(e^1000 + e^1000) = 1000 + log 2; a naive sum overflows
    assert logsumexp(np.array([1000.0, 1000.0])) == pytest.approx(1000 + math.log(2))
    assert logsumexp(np.array([-1000.0, -1000.0])) == pytest.approx(-1000 + math.log(2))
    with np.errstate(all="raise"):
        out = logsumexp(np.array([[-np.inf, -np.inf], [0.0, -np.inf]]), axis=1)
    assert out[0] == -np.inf and out[1] == 0.0


def test_to_jsonable_converts_numpy_torch_and_non_finite():
    obj = {"a": np.float32(1.5), "b": np.arange(3), "c": torch.tensor([1.0, float("inf")]),
           "d": (float("nan"), -math.inf, 2), "e": {np.int64(3): np.array([np.nan])}, "f": torch.tensor(2)}
    out = to_jsonable(obj)
    assert out == {"a": 1.5, "b": [0, 1, 2], "c": [1.0, None], "d": [None, None, 2], "e": {3: [None]},
                   "f": 2}
    assert type(out["a"]) is float and type(out["b"][0]) is int


def test_dumps_is_standard_json():
    text = dumps({"kl": math.inf, "x": [np.nan, 1.0], "y": np.float64(-np.inf)})
    assert strict_loads(text) == {"kl": None, "x": [None, 1.0], "y": None}
    with pytest.raises(ValueError):         # the checker itself refuses what plain json.dumps writes
        strict_loads(json.dumps({"kl": math.inf}))


NON_FINITE = {"state": "completed", "fid": math.inf, "kid": math.nan, "curve": np.array([1.0, -np.inf]),
              "loss": np.float32("nan")}
AS_JSON = {"state": "completed", "fid": None, "kid": None, "curve": [1.0, None], "loss": None}


def test_every_cli_prints_standard_json_for_non_finite_results(monkeypatch, capsys, tmp_path):
    """Each area's --json output goes through the one policy: inf/NaN in a result still parse strictly."""
    from playground.cli import main

    # by module path: a package may re-export a function under its module's name (playground.vae.train)
    image_train, toy_metrics, vae_train = (importlib.import_module(f"playground.{m}")
                                           for m in ("images.train", "toy.metrics", "vae.train"))

    monkeypatch.setattr(image_train, "run_from_args", lambda args: dict(NON_FINITE))
    monkeypatch.setattr(vae_train, "train", lambda cfg, **kw: dict(NON_FINITE, model=object()))
    monkeypatch.setattr(toy_metrics, "evaluate", lambda target, samples: dict(NON_FINITE))
    samples = tmp_path / "s.csv"
    samples.write_text("x,y\n0,0\n1,1\n")
    commands = [
        (main, ["images", "train", "--json"]),
        (image_train.main, ["--json"]),                   # the torchrun entry point
        (main, ["vae", "train", "--json"]),
        (main, ["toy", "eval", "--dist", "ring8", "--samples", str(samples), "--json"]),
    ]
    for entry, argv in commands:
        assert entry(argv) == 0, argv
        out = strict_loads(capsys.readouterr().out)
        assert {k: out[k] for k in AS_JSON} == AS_JSON, argv
