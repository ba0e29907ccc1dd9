"""A run is a directory; the training process owns it, everyone else reads it (plus a stop-request file).

    config.json     the ImageRunConfig (written once, at creation)
    status.json     state, step, ETA, device, error...; always replaced atomically (temp file + os.replace)
    metrics.jsonl   one JSON object per logged step (losses, throughput; FID/KID/precision/recall when scored)
    samples/        step_00000200.png: a grid from the run's fixed noise batch
    checkpoints/    latest.pt and best.pt (weights, optimisers, EMA, RNG state), replaced atomically
    log.txt         human-readable log
    STOP            present = please stop gracefully (the trainer checkpoints and ends in state `stopped`)

Nothing here imports torch at module level except for checkpoints, so listing runs stays fast.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from playground.errors import PlaygroundError

STATES = ("queued", "running", "completed", "failed", "stopped")
CHECKPOINT_FORMAT = "playground.images/1"


# ------------------------------------------------------------------ atomic files
def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync, then os.replace: readers see old or new, never half."""
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
    atomic_write_bytes(path, (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode())


def read_json(path: Path | str) -> Any:
    return json.loads(Path(path).read_text())


# ------------------------------------------------------------------ checkpoints
def save_checkpoint(path: Path | str, state: dict) -> None:
    import torch

    buf = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, **state}, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: Path | str) -> dict:
    """Load with weights_only=True: tensors, numbers, strings and containers only; anything else is refused."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise PlaygroundError(f"no checkpoint at {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError, TypeError,
            ImportError, KeyError, IndexError, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise PlaygroundError(f"{path} is not a trusted checkpoint (refused by the weights-only loader: "
                              f"{first[:160]})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise PlaygroundError(f"{path} is not a checkpoint written by this trainer")
    return ckpt


# ------------------------------------------------------------------ images
def grid_image(images: np.ndarray, nrow: int | None = None, pad: int = 1) -> np.ndarray:
    """(N, C, H, W) floats in [0, 1] -> one uint8 image (H', W') or (H', W', 3) with `pad` pixels between."""
    images = np.asarray(images, dtype=np.float32)
    n, c, h, w = images.shape
    nrow = nrow or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / nrow))
    out = np.ones((c, rows * (h + pad) + pad, nrow * (w + pad) + pad), dtype=np.float32)
    for i in range(n):
        r, q = divmod(i, nrow)
        out[:, pad + r * (h + pad): pad + r * (h + pad) + h, pad + q * (w + pad): pad + q * (w + pad) + w] = images[i]
    out = (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)
    return out[0] if c == 1 else out[:3].transpose(1, 2, 0)


def png_bytes(img: np.ndarray, scale: int = 1) -> bytes:
    from PIL import Image

    im = Image.fromarray(img)
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


# ------------------------------------------------------------------ processes
def pid_alive(pid: int | None, host: str | None = None) -> bool | None:
    """True/False for a process on this machine (zombies count as dead); None if it ran elsewhere."""
    if not pid:
        return False
    if host and host != socket.gethostname():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


# ------------------------------------------------------------------ the run directory
class RunDir:
    def __init__(self, path: Path | str):
        self.path = Path(path)

    # paths
    config_path = property(lambda self: self.path / "config.json")
    status_path = property(lambda self: self.path / "status.json")
    metrics_path = property(lambda self: self.path / "metrics.jsonl")
    log_path = property(lambda self: self.path / "log.txt")
    stop_path = property(lambda self: self.path / "STOP")
    samples_dir = property(lambda self: self.path / "samples")
    checkpoints_dir = property(lambda self: self.path / "checkpoints")
    latest_path = property(lambda self: self.path / "checkpoints" / "latest.pt")
    best_path = property(lambda self: self.path / "checkpoints" / "best.pt")

    @property
    def name(self) -> str:
        return self.path.name

    # creation and opening
    @classmethod
    def create(cls, path: Path | str, config: dict) -> "RunDir":
        run = cls(path)
        if run.path.exists() and any(run.path.iterdir()) and not run._queued_shell():
            raise PlaygroundError(f"{run.path} already exists and is not empty: pass --resume {run.path} to "
                                  "continue it, or choose another --out")
        run.samples_dir.mkdir(parents=True, exist_ok=True)
        run.checkpoints_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(run.config_path, config)
        run.write_status(state="queued", step=0, total_steps=int(config.get("steps", 0)), error=None)
        return run

    def _queued_shell(self) -> bool:
        """A directory prepared by the launcher (config + status `queued`, no checkpoint yet) may be taken over."""
        return (self.config_path.is_file() and self.read_status().get("state") == "queued"
                and not self.latest_path.exists())

    @classmethod
    def open(cls, path: Path | str) -> "RunDir":
        run = cls(path)
        if not run.path.is_dir():
            raise PlaygroundError(f"no run directory at {run.path}")
        if not run.config_path.is_file():
            raise PlaygroundError(f"{run.path} is not a run directory (it has no config.json)")
        try:
            data = read_json(run.config_path)
        except (OSError, ValueError) as e:
            raise PlaygroundError(f"{run.path}/config.json is unreadable: {e}") from None
        if not isinstance(data, dict) or "model" not in data or "dataset" not in data:
            raise PlaygroundError(f"{run.path} is not a run directory (config.json has no model/dataset)")
        return run

    def config(self) -> dict:
        return read_json(self.config_path)

    def remove_temp_files(self) -> list[str]:
        """Delete temp files left by a writer killed between writing and renaming (only the owner calls this)."""
        gone = []
        for p in [*self.path.glob(".*.tmp"), *self.samples_dir.glob(".*.tmp"), *self.checkpoints_dir.glob(".*.tmp")]:
            try:
                p.unlink()
                gone.append(p.name)
            except OSError:
                pass
        return gone

    # status
    def read_status(self) -> dict:
        try:
            st = read_json(self.status_path)
            return st if isinstance(st, dict) else {"state": "failed", "error": "status.json is not an object"}
        except FileNotFoundError:
            return {"state": "queued", "step": 0}
        except (OSError, ValueError) as e:
            return {"state": "failed", "error": f"status.json unreadable: {e}"}

    def write_status(self, **fields: Any) -> dict:
        st = self.read_status() if self.status_path.exists() else {}
        st.update(fields)
        st["updated"] = time.time()
        atomic_write_json(self.status_path, st)
        return st

    def effective_status(self) -> dict:
        """status.json, with a run whose process vanished without a final word reported as failed."""
        st = self.read_status()
        if st.get("state") in ("running", "queued") and st.get("pid"):
            alive = pid_alive(st.get("pid"), st.get("host"))
            if alive is False:
                ck = self.checkpoint_step()
                why = self.process_output_tail()
                st = {**st, "state": "failed", "process_gone": True,
                      "error": (f"the training process ended: {why}" if why else
                                "the training process ended without a final status (killed?)")
                      + (f"; resume continues from the checkpoint at step {ck}" if ck is not None else "")}
        return st

    def process_output_tail(self) -> str | None:
        """The last line a launched process printed (an import error, a crash), if any."""
        p = self.path / "process.out"
        if not p.exists():
            return None
        lines = [ln for ln in p.read_text(errors="replace").splitlines()[-20:] if ln.strip()]
        errs = [ln for ln in lines if ln.startswith("error:") or "Error" in ln]
        return (errs or [None])[-1]

    # metrics
    def append_metrics(self, row: dict) -> None:
        with open(self.metrics_path, "a") as f:
            f.write(json.dumps(row, sort_keys=True) + "\n")
            f.flush()

    def read_metrics(self) -> list[dict]:
        """Every complete line (a line cut short by a kill is skipped)."""
        if not self.metrics_path.exists():
            return []
        rows = []
        for line in self.metrics_path.read_text().splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                rows.append(row)
        return rows

    def truncate_metrics(self, upto_step: int) -> None:
        """Keep only lines with step <= upto_step (a resumed run rewrites what came after its checkpoint)."""
        rows = [r for r in self.read_metrics() if int(r.get("step", 0)) <= upto_step]
        atomic_write_bytes(self.metrics_path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode())

    # samples
    def sample_path(self, step: int) -> Path:
        return self.samples_dir / f"step_{step:08d}.png"

    def save_samples(self, step: int, images: np.ndarray) -> Path:
        p = self.sample_path(step)
        atomic_write_bytes(p, png_bytes(grid_image(images)))
        return p

    def samples(self) -> list[tuple[int, Path]]:
        out = []
        for p in sorted(self.samples_dir.glob("step_*.png")):
            try:
                out.append((int(p.stem.split("_")[1]), p))
            except (IndexError, ValueError):
                continue
        return sorted(out)

    def drop_samples_after(self, step: int) -> None:
        for s, p in self.samples():
            if s > step:
                p.unlink(missing_ok=True)

    # checkpoints
    def checkpoint_step(self) -> int | None:
        """The step of latest.pt, from status.json's record (cheap) or None if there is none."""
        if not self.latest_path.exists():
            return None
        st = self.read_status()
        return st.get("checkpoint_step")

    def checkpoints(self) -> list[str]:
        return [n for n in ("latest", "best") if (self.checkpoints_dir / f"{n}.pt").exists()]

    # log
    def log(self, message: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(self.log_path, "a") as f:
            f.write(f"{stamp} {message}\n")

    def log_tail(self, n: int = 30) -> list[str]:
        if not self.log_path.exists():
            return []
        with open(self.log_path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            text = f.read().decode(errors="replace")
        return text.splitlines()[-n:]

    # stop request
    def request_stop(self) -> None:
        self.stop_path.write_text(str(time.time()))

    def stop_requested(self) -> bool:
        return self.stop_path.exists()

    def clear_stop(self) -> None:
        self.stop_path.unlink(missing_ok=True)

    def summary(self) -> dict:
        cfg = self.config()
        st = self.effective_status()
        last_scores = None
        for row in reversed(self.read_metrics()) if st.get("state") != "queued" else []:
            if "fid" in row:
                last_scores = row
                break
        return {"name": self.name, "path": str(self.path), "state": st.get("state"), "step": st.get("step", 0),
                "total_steps": st.get("total_steps", cfg.get("steps")), "model": cfg.get("model"),
                "dataset": cfg.get("dataset"), "resolution": st.get("resolution", cfg.get("resolution")),
                "device": st.get("device"), "eta_s": st.get("eta_s"), "updated": st.get("updated"),
                "error": st.get("error"), "fid": last_scores.get("fid") if last_scores else None,
                "kid": last_scores.get("kid") if last_scores else None,
                "fid_features": last_scores.get("fid_features") if last_scores else None}


def list_runs(runs_dir: Path | str) -> list[dict]:
    """Every run directory under `runs_dir` (newest first); folders that are not runs are skipped."""
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    out = []
    for p in root.iterdir():
        if not (p / "config.json").is_file():
            continue
        try:
            out.append(RunDir.open(p).summary())
        except (PlaygroundError, OSError, ValueError):
            continue
    return sorted(out, key=lambda r: -(r.get("updated") or 0))


def delete_run(path: Path | str) -> None:
    run = RunDir.open(path)
    st = run.effective_status()
    if st.get("state") == "running" and not st.get("process_gone"):
        raise PlaygroundError(f"{run.path} is still running: stop it first")
    shutil.rmtree(run.path)


def new_run_name(cfg: dict) -> str:
    return f"{cfg.get('dataset')}-{cfg.get('model')}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid() % 1000:03d}"
