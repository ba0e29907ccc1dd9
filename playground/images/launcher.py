"""Start, stop, resume and delete training runs as background processes (what the Train page's buttons do).

A started run gets its directory at once (config.json, status `queued`), so a list read from disk shows it
before the child process has even imported torch. Children run in their own session: closing the app or
restarting the server does not kill them, and the page finds them again on disk.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from playground.configs import to_dict
from playground.errors import PlaygroundError
from playground.images.config import ImageRunConfig
from playground.images.rundir import RunDir, delete_run, new_run_name
from playground.paths import package_parent

ROOT = package_parent()      # on the child's PYTHONPATH: the same engine as this process
_CHILDREN: dict[str, subprocess.Popen] = {}      # run path -> process (reaped on every call)


def _reap() -> None:
    for key, proc in list(_CHILDREN.items()):
        if proc.poll() is not None:
            del _CHILDREN[key]


def config_flags(cfg: ImageRunConfig) -> list[str]:
    flags = []
    for k, v in to_dict(cfg).items():
        if v is None:
            continue
        flags += ["--" + k.replace("_", "-"), ("1" if v else "0") if isinstance(v, bool) else str(v)]
    return flags


def _spawn(run: RunDir, args: list[str], nproc: int, threads: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env["OMP_NUM_THREADS"] = str(threads or 1)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if nproc > 1:
        torchrun = Path(sys.executable).parent / "torchrun"
        cmd = [str(torchrun), "--standalone", f"--nproc_per_node={nproc}", "-m", "playground.images.train", *args]
    else:
        cmd = [sys.executable, "-m", "playground.images.train", *args]
    out = open(run.path / "process.out", "ab")
    try:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    finally:
        out.close()
    _CHILDREN[str(run.path)] = proc
    run.write_status(pid=proc.pid, host=socket.gethostname(), launched=time.time(), error=None)
    return proc


def start(cfg: ImageRunConfig, name: str | None = None, *, nproc: int = 1) -> Path:
    """Create the run directory (state queued) and start its training process; returns the directory."""
    _reap()
    cfg.validate()
    root = Path(cfg.runs_dir)
    root.mkdir(parents=True, exist_ok=True)
    name = name or new_run_name(to_dict(cfg))
    if not name or "/" in name or name.startswith("."):
        raise PlaygroundError(f"bad run name {name!r}")
    path = root / name
    if path.exists():
        raise PlaygroundError(f"a run named {name} already exists in {root}")
    run = RunDir.create(path, to_dict(cfg))
    run.log("queued by the launcher")
    _spawn(run, [*config_flags(cfg), "--out", str(path), "--json"], nproc, cfg.threads)
    return path


def stop(run_dir: str | Path) -> None:
    """Ask the run to stop gracefully (it finishes the step, checkpoints and ends in state `stopped`)."""
    run = RunDir.open(run_dir)
    st = run.effective_status()
    if st.get("state") not in ("running", "queued"):
        raise PlaygroundError(f"{run.name} is not running (state {st.get('state')})")
    run.request_stop()
    run.log("stop requested")


def resume(run_dir: str | Path, *, steps: int | None = None, nproc: int = 1) -> None:
    """Continue a stopped, failed or killed run from its latest checkpoint (optionally to more steps)."""
    _reap()
    run = RunDir.open(run_dir)
    st = run.effective_status()
    if st.get("state") in ("running", "queued") and not st.get("process_gone"):
        raise PlaygroundError(f"{run.name} is still {st.get('state')}")
    if not run.latest_path.exists():
        raise PlaygroundError(f"{run.name} has no checkpoint to resume from")
    cfg = run.config()
    if st.get("state") == "completed" and (steps is None or steps <= int(cfg.get("steps", 0))):
        raise PlaygroundError(f"{run.name} is complete: give more steps to train it further")
    args = ["--resume", str(run.path), "--json"]
    if steps is not None:
        args += ["--steps", str(int(steps))]
    run.clear_stop()
    run.write_status(state="queued", error=None, process_gone=None)
    run.log("resume requested")
    _spawn(run, args, nproc, int(cfg.get("threads") or 1))


def delete(run_dir: str | Path) -> None:
    _reap()
    delete_run(run_dir)


def wait(run_dir: str | Path, timeout: float = 60.0) -> dict:
    """Block until the run's process ends (tests, scripts); returns the final status."""
    proc = _CHILDREN.get(str(Path(run_dir)))
    if proc is not None:
        proc.wait(timeout=timeout)
    _reap()
    return RunDir.open(run_dir).effective_status()


def running() -> list[str]:
    _reap()
    return list(_CHILDREN)
