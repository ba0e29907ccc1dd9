"""The VAE lab's in-browser decoder: a Components-v2 element that runs the decoder program of
playground/vae/export.py in JavaScript whenever a latent slider moves (no round trip to the server).

The JavaScript lives in this folder: interpreter.js (the program's interpreter, a port of
export.run_program, tested against it) and component.js (reads the sliders, paints a canvas).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

HERE = Path(__file__).parent
INTERPRETER = HERE / "interpreter.js"


def _source() -> str:
    return INTERPRETER.read_text() + "\n" + (HERE / "component.js").read_text()


# Registered once, at import (registering on every run would replace the definition each time); Streamlit
# copies it onto each runtime that mounts it, AppTest's included.
_COMPONENT = st.components.v2.component("vae_decoder", js=_source(), css=(HERE / "style.css").read_text(),
                                        isolate_styles=False)   # the canvas reads sliders in the page's DOM


def vae_decoder(program: dict, y: int | None, slider_keys: list[str], *, key: str) -> None:
    """Draw the decoded mean image of the sliders `slider_keys` (z0, z1, ...) under class `y`.

    The data changes only with the model or the class, so Streamlit's message cache sends the weights to a
    browser once per model; the slider values are read from the page itself."""
    _COMPONENT(data={"program": program, "y": int(y or 0), "keys": list(slider_keys)}, key=key)
