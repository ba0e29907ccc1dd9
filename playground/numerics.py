"""Small numeric primitives with one home: a safe logsumexp and the one JSON policy for numbers.

JSON policy: every JSON the playground writes is standard JSON (RFC 8259), so any parser reads it. Standard
JSON has no NaN or infinity; Python's `json` would write the non-standard tokens `NaN`/`Infinity`, which
strict parsers (JavaScript's JSON.parse, jq, most other languages) reject. A number JSON cannot hold
(NaN, +inf, -inf) is therefore written as `null`: "no finite value here". The text output of the CLI still
prints `inf`/`nan`, where the difference matters to a reader.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import PurePath
from typing import Any

import numpy as np


def logsumexp(a: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log Σ exp(a) along `axis`, without overflow; −inf where every term is −inf (no NaN, no warning).

    Plain numpy: scipy.special.logsumexp costs about 20x more on the small arrays used here."""
    a = np.asarray(a)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)       # all −inf (or an inf) row: shift by 0 instead of NaN
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def to_jsonable(obj: Any) -> Any:
    """`obj` as plain Python that `json` writes as standard JSON: numpy/torch scalars and arrays become
    numbers and lists, tuples become lists, paths become strings, and NaN/±inf become None (see above)."""
    torch = sys.modules.get("torch")            # only if already imported: this module never loads torch
    if torch is not None and isinstance(obj, torch.Tensor):
        obj = obj.detach().cpu().tolist()
    elif isinstance(obj, np.ndarray):
        obj = obj.tolist()
    elif isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {(k.item() if isinstance(k, np.generic) else k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, PurePath):
        return str(obj)
    return obj


def dumps(obj: Any, **kw: Any) -> str:
    """`json.dumps` under the policy above: always standard JSON (never NaN/Infinity tokens)."""
    return json.dumps(to_jsonable(obj), allow_nan=False, **kw)


def sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e^−a) without overflow: exactly 0 and 1 at ∓inf, full relative precision in both tails."""
    a = np.asarray(a, dtype=np.float64)
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def log_ratio(log_p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """log p − log q, the logit of the optimal discriminator: ±inf where one density is zero, 0 where both are
    (no information either way)."""
    with np.errstate(invalid="ignore"):
        d = np.asarray(log_p, dtype=np.float64) - np.asarray(log_q, dtype=np.float64)
    return np.where(np.isnan(d), 0.0, d)


def optimal_discriminator(log_p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """The GAN's optimal discriminator D*(x) = p/(p + q) = sigmoid(log p − log q), from log-densities so that
    densities that underflow in linear space still give the right answer; 1/2 where both densities vanish."""
    return sigmoid(log_ratio(log_p, log_q))
