"""The families lab trained in a process of its own, one per browser session, so training and the web server
each get a core.

In the server process, training, frame building and HTTP serving shared one GIL: the page trained at 0.79 to
0.83 of headless speed on a quiet machine and 0.66 on a busy one. Here the child owns the LiveLab: it trains
in short chunks while playing, draws each model's view (within the lab's time budget), keeps the history and
scores; between chunks it answers the page. The page side turns snapshots into figures. The process
machinery (forkserver, pipe, idle pause and exit, the server's cap) is playground.workers', shared with the
GAN lab.

Every reply carries the lab's small state (settings, step, playing, scores, history steps), which the handle
keeps, so the page reads it without a round trip; `refresh()` asks for it anew.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from playground.errors import PlaygroundError
from playground.workers import Session, Worker

PROCESS_NAME = "families-worker"     # the workers' name in the process table (/proc/PID/comm)
CHUNK_S = 0.01                       # training between two looks at the pipe (at least one tick)
SLOW_S = 300.0                       # the answer time allowed to scoring and to exporting a long history


@dataclass(frozen=True)
class TargetInfo:
    """What the page needs to know of the lab's target."""

    name: str
    dim: int
    bounds: tuple


class _FamiliesSession(Session):
    """The child side: one LiveLab, rebuilt by `reset` (the `generation` counts the rebuilds)."""

    def __init__(self) -> None:
        self.lab = None
        self.generation = 0
        self.sent: list = []           # each model's view data as last sent (the parent holds them too)

    @property
    def playing(self) -> bool:
        return self.lab is not None and self.lab.playing

    def idle_pause(self) -> None:
        self.lab.playing = False

    def train_chunk(self) -> None:
        try:
            self.lab.train_chunk(CHUNK_S)
        except Exception as e:  # noqa: BLE001 - shown on the page, training paused
            self.lab.playing, self.lab.error = False, f"training stopped: {type(e).__name__}: {str(e)[:200]}"

    def state(self) -> dict[str, Any]:
        lab = self.lab
        t = lab.target
        return {"cfgs": lab.cfgs, "step": lab.step, "steps": lab.ls.steps, "playing": lab.playing,
                "error": lab.error, "scores": lab.scores, "generation": self.generation,
                "history_steps": lab.history.steps,
                "history_states": [e.state is not None for e in lab.history.entries],
                "target": TargetInfo(t.name, t.dim, tuple(float(b) for b in t.bounds)),
                "firsts": [getattr(tr.model, "first", None) for tr in lab.ls.trainers],
                "model_steps": [int(tr.model.gan.step) if hasattr(tr.model, "gan") else int(tr.step)
                                for tr in lab.ls.trainers]}

    def handle(self, cmd: str, args: tuple) -> Any:
        return self._do(cmd, args), self.state()

    def _do(self, cmd: str, args: tuple) -> Any:
        import torch

        from playground.families.live import LiveLab
        from playground.families.runs import build_target

        lab = self.lab
        if cmd == "reset":
            cfgs, points, picture = args
            self.lab = LiveLab(cfgs, build_target(cfgs[0], points, picture))   # the old lab stays on errors
            self.generation += 1
            return None
        if cmd == "state":
            return None
        if cmd == "frame":
            views, known = args
            for i, view in enumerate(views or []):
                lab.set_view(i, **view)
            snap = lab.frame()
            models = snap["models"]
            if not known:
                self.sent = list(models)
                return snap
            # Views are redrawn now and then (a time budget): send only those the parent has not got yet.
            out = [None if i < len(self.sent) and m is self.sent[i] else m for i, m in enumerate(models)]
            self.sent = list(models)
            return {**snap, "models": out}
        if cmd == "play":
            lab.playing, lab.error = not lab.done, None
        elif cmd == "pause":
            lab.playing = False
        elif cmd == "apply":
            lab.apply(args[0])
        elif cmd == "step":
            lab.playing = False
            lab.step_once(args[0])
        elif cmd == "look_back":
            lab.playing = False
            lab.record(force=True)                # the newest frame is now, with the state to branch from
        elif cmd == "history_frame":
            return lab.history.frame(args[0]).frame
        elif cmd == "branch":
            return lab.branch(*args)
        elif cmd == "evaluate":
            return lab.evaluate()
        elif cmd == "animation":
            return lab.animation(args[0])
        elif cmd == "samples":
            with lab.lock, torch.no_grad():
                tr = lab.ls.trainers[args[0]]
                return tr.model.sample(tr.cfg.eval_samples, torch.Generator().manual_seed(0)).double().numpy()
        else:
            raise ValueError(f"unknown command {cmd}")
        return None


class FamiliesWorker(Worker):
    """Parent-side handle on a families-lab training process: the calls the page and its frame feed make, each
    returning plain data (snapshots are dicts of numpy arrays, see playground.families.live.model_view).

    Raises WorkerLimitError when the server already runs worker_limits.max_workers() lab processes, and
    PlaygroundError (the process ended at once) when `cfgs` cannot be built."""

    process_name = PROCESS_NAME

    def __init__(self, cfgs: list, points: np.ndarray | None = None, picture: np.ndarray | None = None, *,
                 pause_after: float = 10.0, exit_after: float | None = None):
        super().__init__(_FamiliesSession, pause_after=pause_after, exit_after=exit_after)
        self._state: dict[str, Any] = {}
        self._frame_lock = threading.Lock()
        self._models: list = []            # each model's view data as of the last frame()
        self._generation_seen = None
        try:
            self.reset(cfgs, points, picture)
        except BaseException:
            self.close()                # nobody else holds this handle: its process must not outlive it
            raise

    def _cmd(self, cmd: str, *args: Any, timeout: float = 60.0) -> Any:
        value, self._state = self._call(cmd, *args, timeout=timeout)
        return value

    # ---- the state of the last reply
    @property
    def cfgs(self) -> list:
        return self._state["cfgs"]

    @property
    def step(self) -> int:
        return self._state["step"]

    @property
    def done(self) -> bool:
        return self._state["step"] >= self._state["steps"]

    @property
    def playing(self) -> bool:
        return self._state["playing"]

    @property
    def error(self) -> str | None:
        return self._state["error"]

    @property
    def scores(self) -> list[dict | None]:
        return self._state["scores"]

    @property
    def target(self) -> TargetInfo:
        return self._state["target"]

    @property
    def firsts(self) -> list[int | None]:
        """Each autoregressive model's first variable (0: x1, 1: x2); None for the other families."""
        return self._state["firsts"]

    @property
    def model_steps(self) -> list[int]:
        """Each model's own update counter (a GAN's engine keeps its own)."""
        return self._state["model_steps"]

    @property
    def generation(self) -> int:
        """How many times this process built its models (a reset counts; a branch does not)."""
        return self._state["generation"]

    @property
    def history_steps(self) -> list[int]:
        return self._state["history_steps"]

    def branch_point(self, index: int) -> tuple[int, int]:
        """(index, step) of the newest history entry at or before `index` that holds a state to branch from."""
        has = self._state["history_states"]
        for i in range(min(index % len(has), len(has) - 1), -1, -1):
            if has[i]:
                return i, self.history_steps[i]
        raise PlaygroundError("no saved state at or before this frame to branch from")

    # ---- commands
    def refresh(self) -> None:
        self._cmd("state")

    def reset(self, cfgs: list, points: np.ndarray | None = None, picture: np.ndarray | None = None) -> None:
        """New networks (and history) from `cfgs` in the same process, paused; the old ones stay on an error."""
        self._cmd("reset", list(cfgs), points, picture)

    def apply(self, cfgs: list) -> None:
        """Live settings for the same models; PlaygroundError when they need a reset."""
        self._cmd("apply", list(cfgs))

    def play(self) -> None:
        self._cmd("play")

    def pause(self) -> None:
        self._cmd("pause")

    def step_once(self, n: int = 1) -> None:
        """n lockstep ticks (paused), recorded in the history with their state."""
        self._cmd("step", n)

    def frame(self, views: list[dict] | None = None) -> dict:
        """The snapshot of now, with model i's view settings `views[i]` (time, layer, slice); while playing it
        is recorded in the history when due and slow views are redrawn within the training's time budget.
        `snap["changed"][i]`: whether model i's view data is new since the previous frame() of this handle
        (unchanged ones travel as None over the pipe and are filled in from the last ones)."""
        with self._frame_lock:
            known = self._models if self._generation_seen == self._state.get("generation") else None
            snap = self._cmd("frame", views, known is not None)
            if known is None or len(known) != len(snap["models"]):
                changed = [True] * len(snap["models"])
                if known is not None:            # a branch changed the number of models: send them all again
                    snap = self._cmd("frame", views, False)
            else:
                changed = [m is not None for m in snap["models"]]
                snap["models"] = [m if m is not None else k for m, k in zip(snap["models"], known)]
            self._models, self._generation_seen = snap["models"], self._state["generation"]
            return {**snap, "changed": changed}

    def look_back(self) -> None:
        """Pause and record the frame of now with its state (to scrub to and branch from)."""
        self._cmd("look_back")

    def history_frame(self, index: int) -> dict:
        return self._cmd("history_frame", index)

    def branch(self, index: int, cfgs: list) -> int:
        """Continue from history entry `index` (or the nearest earlier one with a state) with `cfgs`; returns
        the step."""
        return self._cmd("branch", index, list(cfgs))

    def evaluate(self) -> list[dict]:
        return self._cmd("evaluate", timeout=SLOW_S)

    def animation(self, fmt: str = "gif") -> bytes:
        return self._cmd("animation", fmt, timeout=SLOW_S)

    def samples(self, k: int) -> np.ndarray:
        """eval_samples fresh samples of model k (seed 0), as float64 (n, dim)."""
        return self._cmd("samples", k)
