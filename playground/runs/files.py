"""The files of a run, written so that a reader never sees half of one: a temp file, fsync, then a rename.

JSON follows the playground's one policy (`playground.numerics`): standard JSON, NaN and infinities as null.
Temp files are named `.NAME.RANDOM.tmp`, so a writer killed between writing and renaming leaves only
files that `remove_temp_files` recognises as its own.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from playground.numerics import dumps
from playground.userfiles import check_size

MAX_JSON_BYTES = 10_000_000          # config.json / status.json are a few KiB; refuse anything absurd


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write `data` to a temp file beside `path`, fsync it, then os.replace: readers see old or new, never half."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)                       # mkstemp makes 0600; runs and weights are for sharing
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_json(path: Path | str, obj: Any) -> None:
    atomic_write_bytes(path, (dumps(obj, indent=1, sort_keys=True) + "\n").encode())


def read_json(path: Path | str, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Parse a JSON file of at most `max_bytes` (OSError if it is missing, ValueError if it is not JSON)."""
    path = Path(path)
    check_size(path.stat().st_size, max_bytes, str(path))
    try:
        return json.loads(path.read_bytes())
    except RecursionError:                       # nested thousands deep: not a file this project wrote
        raise ValueError(f"{path} is nested too deeply to be one of this project's files") from None


def append_jsonl(path: Path | str, row: dict) -> None:
    """One JSON object per line, flushed at once (a line cut short by a kill is skipped by `read_jsonl`)."""
    with open(path, "a") as f:
        f.write(dumps(row, sort_keys=True) + "\n")
        f.flush()


def read_jsonl(path: Path | str) -> list[dict]:
    """Every complete object line of a .jsonl file; [] when there is none."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return []
    rows = []
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue                               # a line being written, or cut short by a kill
        if isinstance(row, dict):
            rows.append(row)
    return rows


def write_jsonl(path: Path | str, rows: list[dict]) -> None:
    """Replace a .jsonl file atomically with `rows`."""
    atomic_write_bytes(path, "".join(dumps(r, sort_keys=True) + "\n" for r in rows).encode())


def remove_temp_files(*folders: Path) -> list[str]:
    """Delete the temp files our atomic writes leave behind when killed mid-write (only a run's owner calls this)."""
    gone = []
    for folder in folders:
        for p in Path(folder).glob(".*.tmp"):
            try:
                p.unlink()
                gone.append(p.name)
            except OSError:
                pass
    return gone
