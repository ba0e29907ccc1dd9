"""Where the engine finds its shipped files, from a checkout and from an installed wheel alike.

A checkout keeps the shipped models in the top-level `pretrained/` folder; a wheel carries the same folder
inside the package as `playground/pretrained/` (setup.py maps it). `PLAYGROUND_PRETRAINED` overrides both,
for models kept elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def package_parent() -> Path:
    """The folder holding the `playground` package (a checkout's root, or site-packages): what a child
    process needs on its PYTHONPATH to import this same engine."""
    return PACKAGE.parent


def pretrained_dir() -> Path:
    """The folder of shipped models and their cards (vae/, image_runs/, features/)."""
    override = os.environ.get("PLAYGROUND_PRETRAINED")
    if override:
        return Path(override)
    installed = PACKAGE / "pretrained"          # inside an installed wheel
    if installed.is_dir():
        return installed
    return PACKAGE.parent / "pretrained"        # a checkout, or an editable install of one
