"""A 1D mixture formula as an editable table of components (add, delete, change rows)."""

from __future__ import annotations

import hashlib

import streamlit as st

from playground.errors import PlaygroundError
from playground.formula import formula_from_rows, mixture_rows, pending_rows, same_mixture

_NUMBER = {"format": "%.2f", "width": 62}


def mixture_table(formula: str, key_prefix: str) -> str | None:
    """Draw `formula`'s components as a table; return the formula of an edited table when it is a different
    mixture (the caller applies it on a rerun), else None. A formula that does not parse draws nothing: the
    formula's own field says what is wrong."""
    try:
        rows = mixture_rows(formula)
    except PlaygroundError:
        return None
    # keyed by the formula: a formula typed by hand gives a fresh table
    key = key_prefix + hashlib.sha1(formula.encode()).hexdigest()[:10]
    edited = st.data_editor(rows, key=key, num_rows="dynamic", hide_index=True, width="stretch",
                            column_config={"weight": st.column_config.NumberColumn(min_value=0.0, **_NUMBER),
                                           "mean": st.column_config.NumberColumn(**_NUMBER),
                                           "std": st.column_config.NumberColumn(min_value=0.0, **_NUMBER)})
    if edited == rows:
        return None
    if pending_rows(edited):
        st.caption("Fill in the new row's weight, mean and std to add the component.")
        return None
    try:
        new = formula_from_rows(edited)
        new_rows = mixture_rows(new)          # the formula's own limits (its length, its parts) apply here too
    except PlaygroundError as e:
        st.error(f"Mixture table: {e}. The previous mixture is kept.")
        return None
    # A row just added is blank until filled in: same mixture, nothing to apply (and no rerun loop).
    return None if same_mixture(new_rows, rows) else new
