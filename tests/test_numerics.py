"""playground.numerics: logsumexp against direct sums, and the one JSON policy (standard JSON, null for
numbers JSON cannot hold)."""

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
