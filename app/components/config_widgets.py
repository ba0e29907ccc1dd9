"""Config dataclass <-> widgets and URL: one widget per field, keyed by the field's name.

Widget keys are `<prefix><field>`; the URL holds the fields that differ from the defaults. On a page's
first run the URL (if any) seeds the widgets, so a shared link reproduces a setup.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import streamlit as st

from playground.configs import changed_fields, choices, from_dict, from_query, is_list, item_choices, to_dict, to_query
from playground.errors import PlaygroundError


def _meta(cls: type, name: str) -> dict:
    return {f.name: f for f in dataclasses.fields(cls)}[name].metadata


def label(cls: type, name: str) -> str:
    return _meta(cls, name).get("label") or name.replace("_", " ")


def seed_state(cls: type, cfg: Any, prefix: str, force: bool = False) -> None:
    """Put `cfg`'s values into the widgets' session-state keys (before the widgets are drawn)."""
    for k, v in to_dict(cfg).items():
        key = prefix + k
        if force or key not in st.session_state:
            st.session_state[key] = list(v) if isinstance(v, tuple) else v     # a multiselect holds a list


def seed_from_url(cls: type, prefix: str, flag: str) -> list[str]:
    """Once per session: seed widgets from the URL's query parameters; returns problems to show."""
    if st.session_state.get(flag):
        return []
    st.session_state[flag] = True
    cfg, problems = from_query(cls, dict(st.query_params))
    seed_state(cls, cfg, prefix, force=True)
    return problems


def widget(cls: type, name: str, prefix: str, container: Any = st, **kwargs: Any) -> Any:
    """Draw the widget for one field; its value lives in st.session_state[prefix + name]."""
    meta = _meta(cls, name)
    key = prefix + name
    help_text = kwargs.pop("help", None) or meta.get("help")
    opts = choices(cls, name)
    hints = typing.get_type_hints(cls)
    t = hints[name]
    lab = kwargs.pop("label", None) or label(cls, name)
    if is_list(cls, name):
        return _multiselect(cls, name, key, lab, help_text, container, **kwargs)
    if opts is not None:
        fmt = kwargs.pop("format_func", lambda v: str(v).replace("_", " "))
        return container.selectbox(lab, opts, key=key, help=help_text, format_func=fmt, **kwargs)
    if t is bool:
        return container.checkbox(lab, key=key, help=help_text, **kwargs)
    if t is str:
        return container.text_input(lab, key=key, help=help_text, **kwargs)
    lo, hi = meta.get("lo"), meta.get("hi")
    is_int = t is int or t == (int | None)
    if meta.get("log"):
        # learning rates: a log-spaced select slider reads better than a linear one
        grid = sorted({float(f"{m * 10.0**e:.0e}") for e in range(-6, 1) for m in (1, 2, 5)}
                      | {float(st.session_state.get(key, 1e-4) or 1e-4)})
        grid = [g for g in grid if (lo is None or g >= lo) and (hi is None or g <= hi)]
        return container.select_slider(lab, options=grid, key=key, help=help_text,
                                       format_func=lambda v: f"{v:.0e}" if v < 1e-2 else f"{v:g}", **kwargs)
    step = kwargs.pop("step", 1 if is_int else None)
    return container.number_input(lab, min_value=lo if not is_int or lo is None else int(lo),
                                  max_value=hi if not is_int or hi is None else int(hi), step=step, key=key,
                                  help=help_text, **kwargs)


def _multiselect(cls: type, name: str, key: str, lab: str, help_text: str | None, container: Any,
                 **kwargs: Any) -> Any:
    """A list field's widget: a multiselect over the field's allowed items (`tuple[Literal[...], ...]`), or over
    `options=` (suggestions) with new items typed in (`tuple[str, ...]`); at most `max_len` picks."""
    allowed = item_choices(cls, name)
    opts = list(allowed if allowed is not None else kwargs.pop("options", ()))
    opts += [v for v in st.session_state.get(key, []) if v not in opts]       # e.g. a typed or URL item
    kwargs.setdefault("accept_new_options", allowed is None)
    kwargs.setdefault("max_selections", _meta(cls, name).get("max_len"))
    fmt = kwargs.pop("format_func", lambda v: str(v).replace("_", " "))
    return container.multiselect(lab, opts, key=key, help=help_text, format_func=fmt, **kwargs)


def config_from_state(cls: type, prefix: str, base: Any) -> tuple[Any, str | None]:
    """The config the widgets describe (fields without a widget keep `base`'s values), or an error."""
    data = to_dict(base)
    for k in data:
        if prefix + k in st.session_state:
            data[k] = st.session_state[prefix + k]
    try:
        return from_dict(cls, data), None
    except PlaygroundError as e:
        return base, str(e)


def lesson_caption(slot: Any, preset: Any, cfg: Any) -> None:
    """A lesson preset's text in `slot`, saying so when the settings on screen are no longer the lesson's (the
    text would describe what the plots no longer show)."""
    changed = sorted(changed_fields(cfg, preset.config(type(cfg))))
    slot.caption(preset.lesson + (f" (Your settings differ from this lesson's in {', '.join(changed)}: the text "
                                  "describes the lesson's.)" if changed else ""))


def sync_url(cfg: Any) -> None:
    """Mirror the config in the URL (only fields that differ from the defaults)."""
    want = to_query(cfg)
    have = {k: st.query_params[k] for k in st.query_params}
    if want != have:
        st.query_params.from_dict(want)


def target_shape_widgets(cls: type, prefix: str) -> None:
    """The toy target's shape parameters (TargetFields) in one row: the GAN lab and the families lab."""
    c1, c2, c3 = st.columns(3)
    widget(cls, "n_modes", prefix, c1, label="modes")
    widget(cls, "radius", prefix, c2, step=0.1, format="%.2f")
    widget(cls, "std", prefix, c3, step=0.01, format="%.3f")
