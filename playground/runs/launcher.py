"""Start, stop, resume and delete trainings as background processes, for any family, from its config object.

    path = start(ImageRunConfig(...))          # or VAEConfig(...): the trainer is chosen by the config's type
    stop(path); resume(path, steps=4000); wait(path, 60); delete(path)

A started run gets its directory at once (config.json, status `queued`), so a list read from disk shows it
before the child process has imported torch. The child is `sys.executable -m <trainer module>` with the config
as flags (`playground.configs.to_args`) and absolute paths: it needs neither a checkout nor a working folder.
Children run in their own session, so closing the app does not kill them; the page finds them again on disk.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from playground.configs import to_args, to_dict
from playground.errors import PlaygroundError
from playground.runs import states
from playground.runs.files import atomic_write_json
from playground.runs.liveness import process_start, this_host
from playground.runs.root import runs_root
from playground.runs.rundir import RunDir, delete_run, new_run_name


@dataclass(frozen=True)
class TrainerSpec:
    """A family's trainer: its config class (module:Name, imported when needed), the module run with `-m` (and
    the arguments that come first, a subcommand), and the config field that sets the run's length (what
    `resume(path, steps=...)` changes)."""

    kind: str
    config: str
    module: str
    length: str = "steps"
    prefix: tuple[str, ...] = ()

    def config_class(self) -> type:
        mod, name = self.config.split(":")
        return getattr(importlib.import_module(mod), name)


TRAINERS: dict[str, TrainerSpec] = {}


def register(spec: TrainerSpec) -> None:
    """Add a family's trainer (the module must accept `<config flags> --out DIR`, `--resume DIR [--<length> N]`
    and `--json`, and write its run directory through playground.runs)."""
    TRAINERS[spec.kind] = spec


register(TrainerSpec("images", "playground.images.config:ImageRunConfig", "playground.images.train"))
# `playground vae train` is what `python -m playground.vae.train` runs, without runpy's warning about a module
# that its package (playground.vae) has already imported.
register(TrainerSpec("vae", "playground.vae.config:VAEConfig", "playground", length="epochs", prefix=("vae", "train")))
register(TrainerSpec("families", "playground.families.config:FamilyConfig", "playground.families.runs"))


def trainer_for(cfg: object) -> TrainerSpec:
    for spec in TRAINERS.values():
        if type(cfg) is spec.config_class():
            return spec
    raise PlaygroundError(f"no trainer is registered for {type(cfg).__name__}")


_CHILDREN: dict[str, subprocess.Popen] = {}      # run path -> process (reaped on every call)


def _key(path: Path | str) -> str:
    return str(Path(path).resolve())


def _reap() -> None:
    for key, proc in list(_CHILDREN.items()):
        if proc.poll() is not None:
            del _CHILDREN[key]


def _spawn(run: RunDir, spec: TrainerSpec, args: list[str], nproc: int, threads: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": str(threads or 1)}
    if nproc > 1:       # torchrun, through the interpreter: no dependence on where its script is installed
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               "-m", spec.module, *spec.prefix, *args]
    else:
        cmd = [sys.executable, "-m", spec.module, *spec.prefix, *args]
    with open(run.output_path, "ab") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    _CHILDREN[_key(run.path)] = proc
    atomic_write_json(run.launch_path, {"pid": proc.pid, "host": this_host(), "proc_start": process_start(proc.pid),
                                        "launched": time.time(), "nproc": nproc, "module": spec.module})
    return proc


def _threads(cfg_dict: dict) -> int:
    return int(cfg_dict.get("threads") or 1)


def start(cfg: object, name: str | None = None, *, nproc: int = 1, root: Path | str | None = None) -> Path:
    """Create the run directory `root/name` (state queued; root defaults to runs_root()) and start its trainer;
    returns the directory."""
    _reap()
    spec = trainer_for(cfg)
    check = getattr(cfg, "validate", None)
    if check is not None:
        check()
    if not 1 <= int(nproc) <= 64:
        raise PlaygroundError(f"processes must be between 1 and 64, got {nproc}")
    root = Path(root) if root is not None else runs_root()
    root.mkdir(parents=True, exist_ok=True)
    data = to_dict(cfg)
    name = name or new_run_name(data, spec.kind)
    if not name or "/" in name or "\\" in name or name.startswith(".") or len(name) > 200:
        raise PlaygroundError(f"bad run name {name!r}: use letters, digits, '-' and '_'")
    path = root / name
    if path.exists():
        raise PlaygroundError(f"a run named {name} already exists in {root}")
    run = RunDir.create(path, data, spec.kind)
    try:
        run.log("queued by the launcher")
    finally:
        run.release()                               # the trainer takes the lock when it starts
    _spawn(run, spec, [*to_args(cfg), "--out", str(path.resolve()), "--json"], int(nproc), _threads(data))
    return path


def stop(path: Path | str) -> None:
    """Ask the run to stop gracefully (it finishes the step, checkpoints and ends in state `stopped`)."""
    run = RunDir.open(path)
    if not run.is_active():
        raise PlaygroundError(f"{run.name} is not running (state {run.effective_status().get('state')})")
    run.request_stop()
    run.log("stop requested")


def resume_length(path: Path | str, steps: int | None = None) -> int | None:
    """The length a resume asks for: `steps` if given; for a completed run, twice its own (the image Train page's
    Resume and `images resume` alike: a completed run trains on); else None (the run's own length)."""
    if steps is not None:
        return int(steps)
    run = RunDir.open(path)
    if run.effective_status().get("state") != states.COMPLETED or run.kind not in TRAINERS:
        return None
    return 2 * int(run.config().get(TRAINERS[run.kind].length) or 0) or None


def resume(path: Path | str, steps: int | None = None, *, nproc: int = 1) -> None:
    """Continue a stopped, failed or killed run from its latest checkpoint (from step 0 with its stored config
    if it was killed before the first one); `steps` sets a new total length (train longer)."""
    _reap()
    run = RunDir.open(path)
    st = run.effective_status()
    if run.is_active():
        raise PlaygroundError(f"{run.name} is still {st.get('state')}")
    kind = run.kind
    if kind not in TRAINERS:
        raise PlaygroundError(f"{run.name}: no trainer is registered for runs of kind {kind!r}")
    spec = TRAINERS[kind]
    cfg = run.config()
    length = int(cfg.get(spec.length) or 0)
    if st.get("state") == states.COMPLETED and (steps is None or steps <= length):
        raise PlaygroundError(f"{run.name} is complete: give more {spec.length} to train it further")
    args = ["--resume", str(run.path.resolve()), "--json"]
    if steps is not None:
        args += [f"--{spec.length}", str(int(steps))]
    run.clear_stop()
    run.write_status(state=states.QUEUED, error=None, process_gone=None, pid=None, host=None, proc_start=None)
    run.log("resume requested")
    _spawn(run, spec, args, int(nproc), _threads(cfg))


def delete(path: Path | str) -> None:
    """Remove a run directory (refused while it runs)."""
    _reap()
    delete_run(path)


def wait(path: Path | str, timeout: float = 60.0) -> dict:
    """Block until the run is no longer active (tests, scripts); returns its final status. TimeoutError if not."""
    proc = _CHILDREN.get(_key(path))
    deadline = time.monotonic() + timeout
    if proc is not None:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"{path} still running after {timeout:g} s") from None
    run = RunDir.open(path)
    while run.is_active():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} still running after {timeout:g} s")
        time.sleep(0.1)
    _reap()
    return run.effective_status()


def running() -> list[str]:
    """Run directories whose process this interpreter started and that are still going."""
    _reap()
    return list(_CHILDREN)
