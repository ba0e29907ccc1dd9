"""Run directories on disk: config.json, status.json (atomic), metrics.jsonl, checkpoint.pt, log.txt, STOP.

The training process owns the directory; readers (the page) only read it and may create the STOP file.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

STATUS = "status.json"
METRICS = "metrics.jsonl"
CONFIG = "config.json"
CHECKPOINT = "checkpoint.pt"
LOG = "log.txt"
STOP = "STOP"


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def write_status(run: Path, **fields: Any) -> dict:
    status = read_status(run) or {}
    status.update(fields)
    status["updated"] = time.time()
    write_json_atomic(Path(run) / STATUS, status)
    return status


def read_status(run: str | Path) -> dict | None:
    p = Path(run) / STATUS
    try:
        return json.loads(p.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def append_metrics(run: Path, row: dict) -> None:
    with open(Path(run) / METRICS, "a") as f:
        f.write(json.dumps(row) + "\n")


def read_metrics(run: str | Path) -> list[dict]:
    p = Path(run) / METRICS
    rows = []
    try:
        for line in p.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass  # a line being written
    except OSError:
        pass
    return rows


def log(run: Path, message: str) -> None:
    with open(Path(run) / LOG, "a") as f:
        f.write(time.strftime("%H:%M:%S ") + message + "\n")


def stop_requested(run: Path) -> bool:
    return (Path(run) / STOP).exists()


def request_stop(run: str | Path) -> None:
    (Path(run) / STOP).touch()


def list_runs(root: str | Path) -> list[Path]:
    """Run directories under root (those with a config.json or status.json), newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if (p / CONFIG).is_file() or (p / STATUS).is_file()]
    return sorted(runs, key=lambda p: p.stat().st_mtime, reverse=True)


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return False
    try:  # a zombie child counts as finished
        with open(f"/proc/{int(pid)}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True
