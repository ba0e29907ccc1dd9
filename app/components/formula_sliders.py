"""Edit a 1D mixture formula with sliders: one group per part (weight, then mean and std or low and high).

The sliders write the formula (through `playground.formula`) into `st.session_state[target_key]`; a formula
typed or picked elsewhere re-seeds them on the next run. Keys: `<prefix>n_parts`, `<prefix>kind<i>`,
`<prefix>w<i>`, `<prefix>a<i>`, `<prefix>b<i>`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from playground.errors import PlaygroundError
from playground.formula import Term, format_terms

SS = st.session_state
WEIGHT, LOC, STD = (0.01, 1.0, 0.01), (-8.0, 8.0, 0.05), (0.05, 4.0, 0.05)   # (min, max, step)
MAX_PARTS = 6


def _terms(prefix: str) -> list[Term]:
    """The parts the sliders describe (a uniform part's ends in order, at least 0.1 apart)."""
    out = []
    for i in range(SS.get(prefix + "n_parts", 0)):
        w, a, b = (float(SS[f"{prefix}{k}{i}"]) for k in ("w", "a", "b"))
        if SS.get(f"{prefix}kind{i}", "N") == "N":
            out.append(Term("N", w, a, b))
        else:
            lo, hi = min(a, b), max(a, b)
            out.append(Term("U", w, lo, hi if hi > lo else lo + 0.1))
    return out


def _seed(prefix: str, terms: list[Term]) -> None:
    """Slider values for `terms` (weights normalised and rounded, values clipped to the sliders' ranges)."""
    total = sum(t.weight for t in terms)
    SS[prefix + "n_parts"] = len(terms)
    for i, t in enumerate(terms):
        SS[f"{prefix}kind{i}"] = t.kind
        SS[f"{prefix}w{i}"] = float(np.clip(round(t.weight / total, 3), WEIGHT[0], WEIGHT[1]))
        SS[f"{prefix}a{i}"] = float(np.clip(t.a, LOC[0], LOC[1]))
        SS[f"{prefix}b{i}"] = float(np.clip(t.b, *(STD[:2] if t.kind == "N" else LOC[:2])))


def _write(prefix: str, target_key: str) -> None:
    formula = format_terms(_terms(prefix))
    SS[target_key] = formula
    SS[prefix + "sliders_for"] = formula


def _add(prefix: str, target_key: str) -> None:
    n = SS.get(prefix + "n_parts", 0)
    if n < MAX_PARTS:
        SS[prefix + "n_parts"] = n + 1
        SS[f"{prefix}kind{n}"], SS[f"{prefix}w{n}"], SS[f"{prefix}a{n}"], SS[f"{prefix}b{n}"] = "N", 0.3, 0.0, 0.7
        _write(prefix, target_key)


def _remove(prefix: str, target_key: str) -> None:
    if SS.get(prefix + "n_parts", 0) > 1:
        SS[prefix + "n_parts"] -= 1
        _write(prefix, target_key)


def formula_sliders(prefix: str, target_key: str, terms_of: Callable[[str], list[Term]]) -> None:
    """Draw the sliders of the formula in `SS[target_key]`; `terms_of` reads a formula (or a preset name) into
    terms. Re-seeds the sliders when the formula changed elsewhere; an unreadable formula leaves them as they are."""
    text = SS[target_key]
    if SS.get(prefix + "sliders_for") != text:
        try:
            _seed(prefix, terms_of(text))
            SS[prefix + "sliders_for"] = text
        except PlaygroundError:
            pass                                       # the formula field shows the error
    args = (prefix, target_key)
    for i in range(SS.get(prefix + "n_parts", 0)):
        gauss = SS.get(f"{prefix}kind{i}", "N") == "N"
        st.markdown(f"**part {i + 1}** ({'Gaussian' if gauss else 'uniform'})")
        st.slider("weight", *WEIGHT[:2], step=WEIGHT[2], key=f"{prefix}w{i}", on_change=_write, args=args)
        st.slider("mean" if gauss else "low", *LOC[:2], step=LOC[2], key=f"{prefix}a{i}", on_change=_write, args=args)
        hi = STD if gauss else LOC
        st.slider("std" if gauss else "high", *hi[:2], step=hi[2], key=f"{prefix}b{i}", on_change=_write, args=args)
    c1, c2 = st.columns(2)
    c1.button("add a part", on_click=_add, args=args, width="stretch")
    c2.button("remove last", on_click=_remove, args=args, width="stretch")
