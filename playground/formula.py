"""The one grammar of 1D mixture formulas such as "0.3*N(-2,0.5)+0.7*N(1.5,1)": parse, format, edit as rows.

Terms are joined by '+'; each is `[weight*]N(mean,std)` (N takes the standard deviation, not the variance) or
`[weight*]U(low,high)`. An omitted weight is 1; weights are normalised to sum to one. The GAN lab's 1D target
takes Gaussian parts only (`parse_mixture`); the divergence lab also takes uniform parts (`parse_terms`),
which is what makes disjoint supports possible. `format_terms` writes every formula shown or stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from playground.errors import PlaygroundError
from playground.numerics import logsumexp

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TERM = re.compile(rf"^\s*(?:({_NUM})\s*\*\s*)?([NU])\s*\(\s*({_NUM})\s*,\s*({_NUM})\s*\)\s*$")
EXAMPLE = "0.3*N(-2,0.5)+0.7*N(1.5,1)"


@dataclass(frozen=True)
class Term:
    """One part of a formula: N(a, b) with mean a and std b, or U(a, b) on [a, b]; `weight` as written."""

    kind: Literal["N", "U"]
    weight: float
    a: float
    b: float


def _split_terms(text: str) -> list[str]:
    """Split at the '+' signs that join terms (not a sign inside N(...), after '*', or in an exponent)."""
    terms, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == "+" and depth == 0 and cur.strip() and not cur.rstrip().endswith(("e", "E", "*")):
            terms.append(cur)
            cur = ""
        else:
            cur += ch
    terms.append(cur)
    return terms


def parse_terms(text: str, *, uniform: bool = True) -> list[Term]:
    """The terms of a formula, weights as written; raise PlaygroundError naming the bad term, a non-positive
    weight or std, or U(low,high) with low >= high. `uniform=False` refuses U parts (Gaussian mixtures only)."""
    shape = "[weight*]N(mean,std)" + (" or [weight*]U(low,high)" if uniform else "")
    if not isinstance(text, str) or not text.strip():
        raise PlaygroundError(f"empty formula: write e.g. {EXAMPLE}" + (" or U(-1,1)" if uniform else ""))
    if len(text) > 2000:
        raise PlaygroundError(f"formula too long ({len(text)} characters)")
    out = []
    for term in _split_terms(text):
        m = _TERM.match(term)
        if not m or (m.group(2) == "U" and not uniform):
            hint = " (U(low,high) parts are for the divergence lab)" if m else ""
            raise PlaygroundError(f"cannot read {term.strip()!r} in {text!r}: each term is {shape}, "
                                  f"e.g. 0.3*N(-2,0.5){hint}")
        weight = float(m.group(1)) if m.group(1) is not None else 1.0
        out.append(_checked(Term(m.group(2), weight, float(m.group(3)), float(m.group(4))), repr(term.strip())))
    return out


# Bounds that keep every density, sampler and quadrature finite (1e308*N(0,1) overflowed the weights' sum,
# N(0,1e-300) divided by zero, N(1e300,1) gave a KL of 0).
MAX_ABS, MIN_SCALE, MAX_SCALE, MIN_WEIGHT, MAX_WEIGHT = 1e4, 1e-4, 1e4, 1e-12, 1e12


def _checked(t: Term, where: str) -> Term:
    """`t` if its numbers make sense, else PlaygroundError saying what is wrong `where`."""
    if not all(np.isfinite(v) for v in (t.weight, t.a, t.b)):
        raise PlaygroundError(f"non-finite number in {where}")
    if t.weight <= 0:
        raise PlaygroundError(f"weight must be positive in {where}")
    if t.kind == "N" and t.b <= 0:
        raise PlaygroundError(f"standard deviation must be positive in {where}")
    if t.kind == "U" and t.b <= t.a:
        raise PlaygroundError(f"U(low,high) needs low < high in {where}")
    scale = t.b if t.kind == "N" else t.b - t.a
    ends = (t.a,) if t.kind == "N" else (t.a, t.b)
    if not MIN_WEIGHT <= t.weight <= MAX_WEIGHT:
        raise PlaygroundError(f"weight must be between {MIN_WEIGHT:g} and {MAX_WEIGHT:g} in {where}")
    if any(abs(v) > MAX_ABS for v in ends):
        raise PlaygroundError(f"locations must lie within ±{MAX_ABS:g} in {where}")
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise PlaygroundError(f"{'standard deviation' if t.kind == 'N' else 'U width'} must be between "
                              f"{MIN_SCALE:g} and {MAX_SCALE:g} in {where}")
    return t


def format_terms(terms: Iterable[Term], exact: bool = False) -> str:
    """The formula of `terms`: numbers to 6 significant digits for display, or exactly (`exact`, so a stored
    formula reads back to the same floats). A lone term is written without its weight (weights normalise)."""
    terms = list(terms)

    def g(v: float) -> str:
        return repr(float(v)) if exact else f"{float(v):.6g}"

    parts = [f"{t.kind}({g(t.a)},{g(t.b)})" for t in terms]
    if len(terms) == 1:
        return parts[0]
    return "+".join(f"{g(t.weight)}*{body}" for t, body in zip(terms, parts))


def gaussian_formula(means, stds, weights=None) -> str:
    """The display formula of a Gaussian mixture given by arrays (weights default to equal)."""
    means = np.atleast_1d(np.asarray(means, dtype=np.float64))
    w = np.ones(len(means)) if weights is None else np.atleast_1d(weights)
    return format_terms(Term("N", wi, m, s) for wi, m, s in zip(w, means, np.atleast_1d(stds)))


@dataclass(frozen=True)
class Mixture1D:
    """Weights (sum 1), means and standard deviations of a 1D Gaussian mixture."""

    weights: np.ndarray
    means: np.ndarray
    stds: np.ndarray

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)[..., None]
        z = (x - self.means) / self.stds
        comp = np.log(self.weights) - 0.5 * z**2 - np.log(self.stds) - 0.5 * np.log(2 * np.pi)
        return logsumexp(comp, axis=-1)

    def formula(self) -> str:
        return format_mixture(self)


def parse_mixture(text: str) -> Mixture1D:
    """A Gaussian-only formula as a Mixture1D (weights normalised); PlaygroundError names what is wrong."""
    terms = parse_terms(text, uniform=False)
    w = np.array([t.weight for t in terms])
    return Mixture1D(w / w.sum(), np.array([t.a for t in terms]), np.array([t.b for t in terms]))


def format_mixture(m: Mixture1D) -> str:
    return gaussian_formula(m.means, m.stds, m.weights)


def mixture_rows(text: str) -> list[dict[str, float]]:
    """The components of a formula as table rows {"weight", "mean", "std"} (weights normalised)."""
    m = parse_mixture(text)
    return [{"weight": float(w), "mean": float(a), "std": float(s)} for w, a, s in zip(m.weights, m.means, m.stds)]


def formula_from_rows(rows: list[dict]) -> str:
    """The formula for edited table rows (blank rows skipped; weights need not sum to one); raises
    PlaygroundError naming the bad row."""
    terms = []
    for i, row in enumerate(rows, start=1):
        vals = [row.get(k) for k in ("weight", "mean", "std")]
        if all(_blank(v) for v in vals):
            continue                              # a blank row the table added
        if any(_blank(v) for v in vals):
            raise PlaygroundError(f"component {i} is incomplete: give it a weight, a mean and a std")
        terms.append(_checked(Term("N", *(float(v) for v in vals)), f"component {i}"))
    if not terms:
        raise PlaygroundError("the mixture needs at least one component")
    return format_terms(terms, exact=True)            # exact: untouched rows stay as they were


def same_mixture(a: list[dict], b: list[dict]) -> bool:
    """Whether two component tables describe the same mixture (up to float rounding of the weights)."""
    key = ("weight", "mean", "std")
    return len(a) == len(b) and bool(np.allclose([[r[k] for k in key] for r in a], [[r[k] for k in key] for r in b],
                                                 rtol=1e-9, atol=0.0))


def pending_rows(rows: list[dict]) -> int:
    """How many table rows are partly filled in (a component being typed, not yet usable)."""
    return sum(1 for r in rows if 0 < sum(_blank(r.get(k)) for k in ("weight", "mean", "std")) < 3)


def _blank(v) -> bool:
    """An empty table cell: None or NaN."""
    return v is None or (isinstance(v, (float, np.floating)) and bool(np.isnan(v)))
