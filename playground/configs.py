"""One config dataclass drives CLI flags, widgets, saved JSON and URL query parameters.

A field's `metadata` (built with `spec`) carries its help text, numeric bounds and whether it can change
while training runs. Everything here is generic over flat dataclasses of bool/int/float/str/Literal fields and
list fields, typed `tuple[X, ...]` with X one of those: a flag takes comma-separated or repeated values, JSON
holds a list, a URL the comma-joined items; items are checked one by one, the length against `min_len`/`max_len`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import types
import typing
from typing import Any, Literal, get_args, get_origin

from playground.errors import PlaygroundError


def spec(default: Any, help: str, *, lo: float | None = None, hi: float | None = None,
         live: bool = False, log: bool = False, label: str | None = None,
         min_len: int | None = None, max_len: int | None = None) -> Any:
    """A dataclass field with the metadata the CLI, widgets and validation read (`lo`/`hi` bound a number or
    each item of a list field; `min_len`/`max_len` bound a list field's length)."""
    return dataclasses.field(default=default, metadata={
        "help": help, "lo": lo, "hi": hi, "live": live, "log": log, "label": label,
        "min_len": min_len, "max_len": max_len})


def _field_type(cls: type, f: dataclasses.Field) -> Any:
    return typing.get_type_hints(cls, include_extras=False)[f.name]


def choices(cls: type, name: str) -> tuple | None:
    """The allowed values of a Literal field, else None."""
    t, _ = _optional(typing.get_type_hints(cls)[name])
    return get_args(t) if get_origin(t) is Literal else None


def _list_item(t: Any) -> Any | None:
    """The item type of a list field's type `tuple[X, ...]`, else None."""
    args = get_args(t)
    return args[0] if get_origin(t) is tuple and len(args) == 2 and args[1] is Ellipsis else None


def is_list(cls: type, name: str) -> bool:
    """Whether a field is a list field (`tuple[X, ...]`)."""
    return _list_item(_optional(typing.get_type_hints(cls)[name])[0]) is not None


def item_choices(cls: type, name: str) -> tuple | None:
    """The allowed items of a `tuple[Literal[...], ...]` field, else None."""
    item = _list_item(_optional(typing.get_type_hints(cls)[name])[0])
    return get_args(item) if get_origin(item) is Literal else None


def split_items(name: str, value: Any) -> list:
    """A list field's raw items: a comma-separated string (flags, URLs, configs saved before the field became a
    list) or a list/tuple (JSON, widgets, repeated flags), whose string items may hold commas too."""
    if isinstance(value, str):
        return [s.strip() for s in value.split(",") if s.strip()]
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in (split_items(name, v) if isinstance(v, str) else [v])]
    raise PlaygroundError(f"{name}: expected a list or comma-separated values, got {value!r}")


def _optional(t: Any) -> tuple[Any, bool]:
    """(inner type, True) for `X | None`, else (t, False)."""
    args = get_args(t)
    if get_origin(t) in (typing.Union, types.UnionType) and type(None) in args:
        inner = [a for a in args if a is not type(None)]
        return inner[0], True
    return t, False


def _base_type(t: Any) -> type:
    t, _ = _optional(t)
    if get_origin(t) is Literal:
        return type(get_args(t)[0])
    return t


def coerce(cls: type, name: str, value: Any) -> Any:
    """Convert `value` (possibly a string from a flag or URL) to the field's type, or raise PlaygroundError."""
    f = {f.name: f for f in dataclasses.fields(cls)}[name]
    t, optional = _optional(_field_type(cls, f))
    if optional and (value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "default"))):
        return None
    item = _list_item(t)
    if item is None:
        return _coerce_value(name, t, f.metadata, value)
    items = tuple(_coerce_value(name, item, f.metadata, v) for v in split_items(name, value))
    lo, hi = f.metadata.get("min_len"), f.metadata.get("max_len")
    if lo is not None and len(items) < lo:
        raise PlaygroundError(f"{name}: give at least {lo} value{'s' if lo > 1 else ''}")
    if hi is not None and len(items) > hi:
        raise PlaygroundError(f"{name}: at most {hi} values, got {len(items)}")
    return items


def _coerce_value(name: str, t: Any, meta: Any, value: Any) -> Any:
    """One value (a scalar field, or one item of a list field) converted to type `t` and checked."""
    allowed = get_args(t) if get_origin(t) is Literal else None
    base = _base_type(t)
    try:
        if base is bool:
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("1", "true", "yes", "on"):
                    value = True
                elif low in ("0", "false", "no", "off"):
                    value = False
                else:
                    raise ValueError(value)
            value = bool(value)
        elif base is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            if isinstance(value, bool):
                raise ValueError(value)
            if isinstance(value, str):
                as_float = float(value)          # accepts "64" and "64.0", not "2.7"
                if not as_float.is_integer():
                    raise ValueError(value)
                value = int(value) if value.strip().lstrip("+-").isdigit() else int(as_float)
            else:
                value = int(value)
        elif base is float:
            if isinstance(value, bool):
                raise ValueError(value)
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(value)
        elif base is str:
            value = str(value)
    except (TypeError, ValueError):
        raise PlaygroundError(f"{name}: expected {base.__name__}, got {value!r}") from None
    if allowed is not None and value not in allowed:
        raise PlaygroundError(f"{name}: {value!r} is not one of {', '.join(map(str, allowed))}")
    lo, hi = meta.get("lo"), meta.get("hi")
    if isinstance(value, str):
        if len(value) > 2000:
            raise PlaygroundError(f"{name}: value too long ({len(value)} characters)")
        return value
    if lo is not None and value < lo:
        raise PlaygroundError(f"{name}: {value} is below the minimum {lo}")
    if hi is not None and value > hi:
        raise PlaygroundError(f"{name}: {value} is above the maximum {hi}")
    return value


def to_dict(cfg: Any) -> dict:
    return dataclasses.asdict(cfg)


def renamed(cls: type) -> dict[str, str]:
    """Old field name -> current name, for configs saved (JSON, URLs, run directories) before a rename."""
    return dict(getattr(cls, "RENAMED", {}))


def renamed_keys(cls: type, data: dict) -> dict:
    """`data` with old field names replaced by the current ones; both names at once is an error."""
    old_to_new = renamed(cls)
    if not old_to_new:
        return data
    out = {}
    for k, v in data.items():
        new = old_to_new.get(k, k)
        if new in out and new != k:
            raise PlaygroundError(f"{k} is the old name of {new}: give only {new}")
        if new != k and new in data:
            raise PlaygroundError(f"{k} is the old name of {new}: give only {new}")
        out[new] = v
    return out


def fill_derived(cfg: Any) -> None:
    """Fill fields left at None from `cfg.derived_defaults()` (defaults that depend on other fields, such as a
    target's shape parameters). Called by a config's __post_init__, so every config object is resolved in one
    place however it was built; frozen dataclasses are filled with object.__setattr__."""
    for k, v in cfg.derived_defaults().items():
        if getattr(cfg, k) is None:
            object.__setattr__(cfg, k, v)


def from_dict(cls: type, data: dict, *, strict: bool = True) -> Any:
    """Build and validate a config from a mapping; unknown keys are an error when `strict`."""
    if not isinstance(data, dict):
        raise PlaygroundError(f"expected a JSON object with {cls.__name__} fields, got {type(data).__name__}")
    data = renamed_keys(cls, data)
    data = {k: v for k, v in data.items() if k not in getattr(cls, "RETIRED", ())}   # fields since removed
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown and strict:
        raise PlaygroundError(f"unknown setting(s): {', '.join(unknown)}")
    values = {k: coerce(cls, k, v) for k, v in data.items() if k in names}
    cfg = cls(**values)
    check = getattr(cfg, "validate", None)
    if check is not None:
        check()
    return cfg


def from_saved(cls: type, data: dict, *, strict: bool = True) -> Any:
    """A config as an earlier version saved it: a field it predates takes the value that reproduces what that run
    did (`cls.SAVED_BEFORE`), not today's default, so its checkpoint still fits the network built from it."""
    if isinstance(data, dict):
        data = {**{k: v for k, v in getattr(cls, "SAVED_BEFORE", {}).items() if k not in data}, **data}
    return from_dict(cls, data, strict=strict)


def to_json(cfg: Any) -> str:
    return json.dumps(to_dict(cfg), indent=2, sort_keys=True)


def from_json(cls: type, text: str | bytes) -> Any:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PlaygroundError(f"not valid JSON: {e}") from None
    except (ValueError, RecursionError) as e:       # a 5,000-digit integer, or nesting thousands deep
        raise PlaygroundError(f"not a config: {str(e)[:120] or type(e).__name__}") from None
    return from_dict(cls, data)


def _fmt(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return ",".join(_fmt(x) for x in v)
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def to_query(cfg: Any) -> dict[str, str]:
    """Query parameters for the fields that differ from their defaults (short, shareable URLs)."""
    default = type(cfg)()
    derived = cfg.derived_defaults() if hasattr(cfg, "derived_defaults") else {}
    out = {}
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        if f.name in derived:                       # left out when it is what the other fields imply
            if v != derived[f.name]:
                out[f.name] = _fmt(v)
        elif v != getattr(default, f.name):
            out[f.name] = _fmt(v)
    return out


def from_query(cls: type, params: dict[str, Any]) -> tuple[Any, list[str]]:
    """Config from query parameters; bad or unknown values are skipped and reported, never fatal."""
    names = {f.name for f in dataclasses.fields(cls)}
    values, problems = {}, []
    old_to_new = renamed(cls)
    for k, v in params.items():
        if old_to_new.get(k) is not None and old_to_new[k] not in params:
            k = old_to_new[k]                      # a link made before a field was renamed
        if k not in names:
            continue
        if isinstance(v, list) and not is_list(cls, k):
            v = v[-1]                              # a repeated parameter: the last one counts (lists: all)
        try:
            values[k] = coerce(cls, k, v)
        except PlaygroundError as e:
            problems.append(str(e))
    try:
        cfg = from_dict(cls, values)
    except PlaygroundError as e:
        problems.append(str(e))
        cfg = cls()
    return cfg, problems


def add_arguments(parser: argparse.ArgumentParser, cls: type, only: typing.Collection[str] | None = None) -> None:
    """One `--flag` per field (or per field named in `only`), with the field's default, choices and help."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if only is not None and f.name not in only:
            continue
        t, _ = _optional(hints[f.name])
        flag = "--" + f.name.replace("_", "-")
        old_flags = ["--" + o.replace("_", "-") for o, n in renamed(cls).items() if n == f.name]
        help_text = f.metadata.get("help", "")
        allowed = get_args(t) if get_origin(t) is Literal else None
        base = _base_type(t)
        kwargs: dict[str, Any] = {"dest": f.name, "default": None, "help": f"{help_text} (default: {_fmt(f.default)})"}
        if _list_item(t) is not None:              # comma-separated or repeated; items checked by coerce
            items = item_choices(cls, f.name)
            kwargs.update(action="append", type=str, metavar="A,B,...", help=(
                f"{help_text} ({'items: ' + ', '.join(map(str, items)) + '; ' if items else ''}"
                f"comma-separated or repeated; default: {_fmt(f.default)})"))
        elif allowed is not None:
            kwargs["choices"] = allowed
            kwargs["type"] = base
        elif base is bool:
            kwargs["type"] = str
            kwargs["metavar"] = "{0,1}"
        else:
            kwargs["type"] = str
        parser.add_argument(flag, *old_flags, **kwargs)   # old names of renamed fields still work


def from_args(cls: type, ns: argparse.Namespace, base: Any = None) -> Any:
    """Config from parsed flags: flags given override `base` (or the defaults)."""
    data = to_dict(base) if base is not None else {}
    for f in dataclasses.fields(cls):
        v = getattr(ns, f.name, None)
        if v is not None:
            data[f.name] = v
    return from_dict(cls, data)


def to_args(cfg: Any) -> list[str]:
    """Command-line flags that `add_arguments` + `from_args` turn back into `cfg` (how a launcher passes a
    config to a trainer process): every field, booleans as 1/0, floats exactly, lists comma-joined, and None as
    `none` where the field's default is not None."""
    out: list[str] = []
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        if v is None:
            if f.default is None:
                continue
            text = "none"
        elif isinstance(v, (list, tuple)):
            text = ",".join(_fmt(x) for x in v)
        else:
            text = _fmt(v)
        out += ["--" + f.name.replace("_", "-"), text]
    return out


def live_fields(cls: type) -> set[str]:
    """Fields that may change while training without a reset."""
    return {f.name for f in dataclasses.fields(cls) if f.metadata.get("live")}


def changed_fields(a: Any, b: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(a) if getattr(a, f.name) != getattr(b, f.name)}
