"""One config-upload widget for every page: a JSON file in, a validated config dataclass out.

The file is untrusted: JSON only, at most MAX_BYTES, parsed and validated by playground.configs.from_json.
It is read in the uploader's change callback, i.e. before the page's widgets are drawn, so `on_load` may
seed their session state (config_widgets.seed_state). A bad file changes nothing and shows one st.error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from playground.configs import from_json
from playground.errors import PlaygroundError
from playground.userfiles import read_bounded

MAX_BYTES = 100_000          # a config is a few hundred bytes


def _read(cls: type, key: str, on_load: Callable[[Any], None] | None) -> None:
    up = st.session_state.get(key)
    if up is None:                 # the file was removed
        return
    try:
        cfg = from_json(cls, read_bounded(up, MAX_BYTES, f"the config {up.name}"))
    except PlaygroundError as e:
        st.session_state[key + "__notice"] = ("error", f"{up.name}: {e}", None)
        return
    if on_load is not None:
        on_load(cfg)
    st.session_state[key + "__notice"] = ("success", f"Loaded {up.name}.", cfg)


def config_upload(cls: type, key: str, on_load: Callable[[Any], None] | None = None, *,
                  label: str = "Load a config (JSON)", container: Any = st) -> Any | None:
    """A JSON uploader for a `cls` config. Returns the config in the run right after a valid file arrives
    (having called `on_load(config)` first, before any widget was drawn), else None. A bad file shows st.error
    with its reason and keeps every setting as it was."""
    container.file_uploader(label, type=["json"], key=key, on_change=_read, args=(cls, key, on_load),
                            max_upload_size=1, help=f"a config saved from this page (JSON, at most "
                                                    f"{MAX_BYTES // 1000} kB)")
    kind, message, cfg = st.session_state.pop(key + "__notice", (None, None, None))
    if kind:
        (container.success if kind == "success" else container.error)(message)
    return cfg
