"""Parse and format 1D Gaussian-mixture formulas such as "0.3*N(-2,0.5)+0.7*N(1.5,1)".

`N(mu, sigma)` takes the standard deviation; a weight may be omitted (it is then 1). Weights are normalised
to sum to one. Shared by the GAN lab (1D targets) and the divergence lab.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from playground.errors import PlaygroundError
from playground.numerics import logsumexp

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TERM = re.compile(rf"^\s*(?:({_NUM})\s*\*\s*)?N\s*\(\s*({_NUM})\s*,\s*({_NUM})\s*\)\s*$")


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


def _split_terms(text: str) -> list[str]:
    """Split on '+' that joins terms (not the sign of a number inside N(...) or an exponent)."""
    terms, depth, cur = [], 0, ""
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "+" and depth == 0 and cur.strip() and not cur.rstrip().endswith(("e", "E", "*")):
            terms.append(cur)
            cur = ""
        else:
            cur += ch
    terms.append(cur)
    return terms


def parse_mixture(text: str) -> Mixture1D:
    """Parse a formula; raise PlaygroundError naming the bad term, a negative std or a negative weight."""
    if not isinstance(text, str) or not text.strip():
        raise PlaygroundError("empty mixture formula: write e.g. 0.3*N(-2,0.5)+0.7*N(1.5,1)")
    w, mu, sd = [], [], []
    for term in _split_terms(text):
        m = _TERM.match(term)
        if not m:
            raise PlaygroundError(
                f"cannot read {term.strip()!r} in {text!r}: each term is [weight*]N(mean,std), e.g. 0.3*N(-2,0.5)")
        weight = float(m.group(1)) if m.group(1) is not None else 1.0
        mean, std = float(m.group(2)), float(m.group(3))
        if not (np.isfinite(weight) and np.isfinite(mean) and np.isfinite(std)):
            raise PlaygroundError(f"non-finite number in {term.strip()!r}")
        if weight <= 0:
            raise PlaygroundError(f"weight must be positive in {term.strip()!r}")
        if std <= 0:
            raise PlaygroundError(f"standard deviation must be positive in {term.strip()!r}")
        w.append(weight)
        mu.append(mean)
        sd.append(std)
    weights = np.asarray(w) / np.sum(w)
    return Mixture1D(weights, np.asarray(mu, dtype=np.float64), np.asarray(sd, dtype=np.float64))


def format_mixture(m: Mixture1D) -> str:
    def g(v: float) -> str:
        return f"{v:.6g}"

    if len(m.weights) == 1:
        return f"N({g(m.means[0])},{g(m.stds[0])})"
    return "+".join(f"{g(w)}*N({g(a)},{g(s)})" for w, a, s in zip(m.weights, m.means, m.stds))


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
        if all(v is None or v != v for v in vals):
            continue                              # a blank row the table added
        if any(v is None or v != v for v in vals):
            raise PlaygroundError(f"component {i} is incomplete: give it a weight, a mean and a std")
        w, mu, sd = (float(v) for v in vals)
        terms.append(f"{w!r}*N({mu!r},{sd!r})")          # exact: untouched rows stay as they were
    if not terms:
        raise PlaygroundError("the mixture needs at least one component")
    text = "+".join(terms)
    parse_mixture(text)                           # positive weights and stds, finite numbers
    return text


def same_mixture(a: list[dict], b: list[dict]) -> bool:
    """Whether two component tables describe the same mixture (up to float rounding of the weights)."""
    key = ("weight", "mean", "std")
    return len(a) == len(b) and bool(np.allclose([[r[k] for k in key] for r in a], [[r[k] for k in key] for r in b],
                                                 rtol=1e-9, atol=0.0))


def pending_rows(rows: list[dict]) -> int:
    """How many table rows are partly filled in (a component being typed, not yet usable)."""
    def blank(v) -> bool:
        return v is None or v != v
    return sum(1 for r in rows if 0 < sum(blank(r.get(k)) for k in ("weight", "mean", "std")) < 3)
