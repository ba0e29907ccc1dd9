"""Where runs live: one setting for every family, `PLAYGROUND_RUNS` (default `runs`, relative to the cwd)."""

from __future__ import annotations

import os
from pathlib import Path

ENV = "PLAYGROUND_RUNS"
DEFAULT = "runs"


def runs_root() -> Path:
    """The folder holding run directories: $PLAYGROUND_RUNS, else ./runs."""
    return Path(os.environ.get(ENV) or DEFAULT)
