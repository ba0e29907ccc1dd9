"""A run is a directory; its training process owns it (under the writer lock), everyone else only reads it.

    config.json     the trainer's config object (written at creation; a resume may lengthen it)
    status.json     state (playground.runs.states), phase, step, ETA, pid/host, error...; replaced atomically
    metrics.jsonl   one JSON object per logged step or epoch
    samples/        step_00000200.png: a grid from the run's fixed noise
    checkpoints/    latest.pt and best.pt (playground.runs.checkpoints), replaced atomically
    log.txt         human-readable log
    LOCK            the writer lock (playground.runs.lock)
    STOP            present = please stop gracefully (the trainer checkpoints and ends `stopped`)
    launch.json     pid and host of the process the launcher started (liveness of a queued run)
    process.out     that process's stdout and stderr

Nothing here imports torch, so listing runs stays fast.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

from playground.errors import PlaygroundError
from playground.runs import events, states
from playground.runs.files import (
    append_jsonl,
    atomic_write_bytes,
    atomic_write_json,
    read_json,
    read_jsonl,
    remove_temp_files,
    write_jsonl,
)
from playground.runs.liveness import pid_alive
from playground.runs.lock import LOCK, WriterLock
from playground.runs.root import runs_root

# Files a fresh run directory may already hold without being "somebody's run" (a launcher-made shell).
_SHELL = {"config.json", "status.json", "log.txt", "launch.json", "process.out", LOCK, "samples", "checkpoints"}


class RunDir:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.lock = WriterLock(self.path)

    # paths
    config_path = property(lambda self: self.path / "config.json")
    status_path = property(lambda self: self.path / "status.json")
    metrics_path = property(lambda self: self.path / "metrics.jsonl")
    log_path = property(lambda self: self.path / "log.txt")
    stop_path = property(lambda self: self.path / "STOP")
    launch_path = property(lambda self: self.path / "launch.json")
    output_path = property(lambda self: self.path / "process.out")
    samples_dir = property(lambda self: self.path / "samples")
    checkpoints_dir = property(lambda self: self.path / "checkpoints")
    latest_path = property(lambda self: self.checkpoint_path("latest"))
    best_path = property(lambda self: self.checkpoint_path("best"))

    @property
    def name(self) -> str:
        return self.path.name

    def checkpoint_path(self, which: str = "latest") -> Path:
        """checkpoints/<which>.pt (a VAE run from before the run layer kept its latest at checkpoint.pt)."""
        p = self.checkpoints_dir / f"{which}.pt"
        legacy = self.path / "checkpoint.pt"
        if which == "latest" and not p.exists() and legacy.is_file():
            return legacy
        return p

    # ------------------------------------------------------------------ writers: creation, the lock
    @classmethod
    def create(cls, path: Path | str, config: dict, kind: str) -> RunDir:
        """A new run (state queued), returned holding the writer lock. A launcher-made shell (config + status
        queued, no checkpoint) is taken over; any other non-empty directory is refused."""
        run = cls(path)
        run.path.mkdir(parents=True, exist_ok=True)
        run.acquire()
        try:
            if not run._fresh():
                raise PlaygroundError(f"{run.path} already exists and is not empty: resume it (--resume "
                                      f"{run.path}) to continue it, or choose another --out")
            run.samples_dir.mkdir(exist_ok=True)
            run.checkpoints_dir.mkdir(exist_ok=True)
            atomic_write_json(run.config_path, config)
            run.status_path.unlink(missing_ok=True)
            run.write_status(state=states.QUEUED, kind=kind, step=0, total_steps=config.get("steps"), error=None)
        except BaseException:
            run.release()
            raise
        return run

    def _fresh(self) -> bool:
        names = {p.name for p in self.path.iterdir()}
        if not names - {LOCK}:
            return True
        return (names <= _SHELL and self.config_path.is_file() and self.read_status().get("state") == states.QUEUED
                and not self.latest_path.exists())

    def acquire(self) -> RunDir:
        """Take the writer lock (PlaygroundError naming the owner, pid@host, if another process holds it)."""
        self.lock.acquire()
        return self

    def release(self) -> None:
        self.lock.release()

    def remove_temp_files(self) -> list[str]:
        """Temp files left by a writer killed between writing and renaming (only the lock's holder calls this)."""
        return remove_temp_files(self.path, self.samples_dir, self.checkpoints_dir)

    # ------------------------------------------------------------------ readers
    @classmethod
    def open(cls, path: Path | str) -> RunDir:
        """An existing run directory (one with a readable config.json object)."""
        run = cls(path)
        if not run.path.is_dir():
            raise PlaygroundError(f"no run directory at {run.path}")
        if not run.config_path.is_file():
            raise PlaygroundError(f"{run.path} is not a run directory (it has no config.json)")
        try:
            data = read_json(run.config_path)
        except (OSError, ValueError) as e:
            raise PlaygroundError(f"{run.path}/config.json is unreadable: {e}") from None
        if not isinstance(data, dict):
            raise PlaygroundError(f"{run.path} is not a run directory (config.json is not an object)")
        return run

    def config(self) -> dict:
        data = read_json(self.config_path)
        if not isinstance(data, dict):
            raise PlaygroundError(f"{self.path}/config.json is not an object")
        return data

    def write_config(self, config: dict) -> None:
        atomic_write_json(self.config_path, config)

    @property
    def kind(self) -> str | None:
        """The family that trains this run ("images", "vae", ...), as recorded at creation."""
        kind = self.read_status().get("kind")
        if kind:
            return kind
        try:                                        # runs written before kinds were recorded
            cfg = self.config()
        except (OSError, ValueError, PlaygroundError):
            return None
        return "images" if "model" in cfg else "vae" if {"latent", "latent_dim"} & set(cfg) else None

    # ------------------------------------------------------------------ status
    def read_status(self) -> dict:
        try:
            st = read_json(self.status_path)
        except FileNotFoundError:
            return {"state": states.QUEUED, "step": 0}
        except (OSError, ValueError) as e:
            return {"state": states.FAILED, "error": f"status.json unreadable: {e}"}
        if not isinstance(st, dict):
            return {"state": states.FAILED, "error": "status.json is not an object"}
        return states.normalise(st)

    def write_status(self, **fields: Any) -> dict:
        """Merge `fields` into status.json (only the owner writes it; the launcher only before the owner starts)."""
        st = self.read_status() if self.status_path.exists() else {}
        st.update(fields)
        st["updated"] = time.time()
        atomic_write_json(self.status_path, st)
        return st

    def launch_record(self) -> dict:
        try:
            data = read_json(self.launch_path)
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def effective_status(self) -> dict:
        """status.json, with a run whose process vanished without a final word reported as failed."""
        st = self.read_status()
        if st.get("state") not in states.ACTIVE:
            return st
        if st.get("state") == states.RUNNING or st.get("pid"):
            owner = st
        else:                                        # queued: the launched process has not taken over yet
            owner = self.launch_record()
        if not owner.get("pid"):
            return st
        if pid_alive(owner.get("pid"), owner.get("host"), owner.get("proc_start")) is False:
            ck = self.checkpoint_step()
            why = self.process_output_tail()
            st = {**st, "state": states.FAILED, "process_gone": True,
                  "error": (f"the training process ended: {why}" if why else
                            "the training process ended without a final status (killed?)")
                  + (f"; resume continues from the checkpoint at step {ck}" if ck is not None else
                     "; resume starts it again from step 0")}
        return st

    def process_output_tail(self) -> str | None:
        """The last error line a launched process printed (an import error, a crash), if any."""
        if not self.output_path.exists():
            return None
        with open(self.output_path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 16 * 1024))
            lines = [ln for ln in f.read().decode(errors="replace").splitlines()[-20:] if ln.strip()]
        errs = [ln for ln in lines if ln.startswith("error:") or "Error" in ln]
        return (errs or [None])[-1]

    def is_active(self) -> bool:
        """Queued or running, with its process (as far as this machine can tell) still there."""
        st = self.effective_status()
        return st.get("state") in states.ACTIVE and not st.get("process_gone")

    # ------------------------------------------------------------------ metrics
    def append_metrics(self, row: dict) -> None:
        append_jsonl(self.metrics_path, row)
        events.log_scalars(self.path, row)     # TensorBoard beside metrics.jsonl (no-op without tensorboard)

    def read_metrics(self) -> list[dict]:
        """Every complete line (a line cut short by a kill is skipped)."""
        return read_jsonl(self.metrics_path)

    def truncate_metrics(self, upto: int, key: str = "step") -> None:
        """Keep only lines with `key` <= upto (a resumed run rewrites what came after its checkpoint)."""
        if self.metrics_path.exists():
            write_jsonl(self.metrics_path, [r for r in self.read_metrics() if int(r.get(key, 0)) <= upto])

    # ------------------------------------------------------------------ samples
    def sample_path(self, step: int) -> Path:
        return self.samples_dir / f"step_{step:08d}.png"

    def save_samples(self, step: int, images, nrow: int | None = None) -> Path:
        """A grid PNG of images (N, C, H, W) in [0, 1] for this step, `nrow` per row (default: square-ish)."""
        from playground.pictures import grid_image, png_bytes

        p = self.sample_path(step)
        p.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(p, png_bytes(grid_image(images, nrow=nrow)))
        events.log_grid(self.path, step, images, nrow)
        return p

    def samples(self) -> list[tuple[int, Path]]:
        out = []
        for p in self.samples_dir.glob("step_*.png"):
            try:
                out.append((int(p.stem.split("_")[1]), p))
            except (IndexError, ValueError):
                continue
        return sorted(out)

    def drop_samples_after(self, step: int) -> None:
        for s, p in self.samples():
            if s > step:
                p.unlink(missing_ok=True)

    # ------------------------------------------------------------------ checkpoints
    def checkpoint_step(self) -> int | None:
        """The step of latest.pt from status.json's record (cheap), or None if there is no checkpoint."""
        if not self.latest_path.exists():
            return None
        return self.read_status().get("checkpoint_step")

    def checkpoints(self) -> list[str]:
        return [n for n in ("latest", "best") if self.checkpoint_path(n).exists()]

    # ------------------------------------------------------------------ log
    def log(self, message: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(self.log_path, "a") as f:
            f.write(f"{stamp} {message}\n")

    def log_tail(self, n: int = 30) -> list[str]:
        if not self.log_path.exists():
            return []
        with open(self.log_path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode(errors="replace")
        return text.splitlines()[-n:]

    # ------------------------------------------------------------------ stop request
    def request_stop(self) -> None:
        self.stop_path.write_text(str(time.time()))

    def stop_requested(self) -> bool:
        return self.stop_path.exists()

    def clear_stop(self) -> None:
        self.stop_path.unlink(missing_ok=True)

    # ------------------------------------------------------------------ listing
    def summary(self) -> dict:
        """One row of a runs list: the effective status, with the name, kind and config's headline fields."""
        cfg = self.config()
        st = self.effective_status()
        return {**st, "name": self.name, "path": str(self.path), "kind": self.kind,
                "step": st.get("step", 0), "total_steps": st.get("total_steps", cfg.get("steps")),
                "model": cfg.get("model"), "dataset": cfg.get("dataset"),
                "resolution": st.get("resolution", cfg.get("resolution")), "config": cfg}


def list_runs(root: Path | str | None = None, kind: str | None = None) -> list[dict]:
    """Summaries of the run directories under `root` (default: runs_root()), newest first; `kind` filters by
    family. Folders that are not runs are skipped."""
    root = Path(root) if root is not None else runs_root()
    if not root.is_dir():
        return []
    out = []
    for p in root.iterdir():
        if not (p / "config.json").is_file():
            continue
        try:
            row = RunDir.open(p).summary()
        except (PlaygroundError, OSError, ValueError):
            continue
        if kind is None or row["kind"] == kind:
            out.append(row)
    return sorted(out, key=lambda r: -_seconds(r.get("updated")))


def _seconds(v: Any) -> float:
    """A status time as a number (0 for anything else a hand-edited status.json may hold)."""
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else 0.0


def delete_run(path: Path | str) -> None:
    """Remove a run directory; refused while its process runs (or while anyone holds its writer lock)."""
    run = RunDir.open(path)
    if run.is_active():
        raise PlaygroundError(f"{run.path} is still {run.read_status().get('state')}: stop it first")
    with run.lock:                                  # a writer that status.json does not know of yet
        shutil.rmtree(run.path)


def new_run_name(config: dict, kind: str) -> str:
    """dataset-model-YYYYmmdd-HHMMSS-pid: unique enough for one user, readable in a list."""
    what = config.get("model") or kind
    return f"{config.get('dataset')}-{what}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid() % 1000:03d}"
