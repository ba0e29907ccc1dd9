"""The families lab's live session: models in lockstep, what each one's native view shows, history, scoreboard.

`LiveLab` is what the page's training process (playground/families/worker.py) owns. While playing, the
process calls `train_chunk(seconds)` between the page's commands and `frame()` returns the latest snapshot (plain
numpy arrays, see `model_view`), recorded in its History (with the exact training state now and then, to branch
from). Every method takes the lab's lock, so the lab can also be shared by threads. Views use fixed noise and
fixed target points of their own, so the pictures move smoothly and looking never touches the training
generators.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import torch

from playground.errors import PlaygroundError
from playground.families.lockstep import Lockstep
from playground.families.scoreboard import scoreboard
from playground.history import History

VIEW_SEED = 424_242
N_SHOW = 300                  # samples and target points drawn in each view
N_PATHS = 24                  # trajectories drawn as lines (diffusion, flow matching)
N_GRID = 44                   # heatmap cells per side
N_ARROWS = 15                 # arrows per side of a vector field
MAX_LOSS_POINTS = 300
VIEW_SHARE = 0.05             # while playing, redrawing views may take at most 5% of the training time
STATE_EVERY = 4               # recorded frames per captured training state (at most 16 are kept anyway)


def _f32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def _losses(tr) -> dict:
    """The loss curve, block-averaged to at most MAX_LOSS_POINTS points."""
    v = np.asarray(tr.losses, dtype=np.float64)
    steps = np.arange(1, len(v) + 1, dtype=np.float64)
    k = max(1, int(np.ceil(len(v) / MAX_LOSS_POINTS)))
    m = len(v) // k * k
    if k > 1:
        steps, v = steps[:m].reshape(-1, k).mean(1), v[:m].reshape(-1, k).mean(1)
    return {"loss_steps": _f32(steps), "loss": _f32(v)}


def _at_time(times: np.ndarray, path: np.ndarray, t: float) -> np.ndarray:
    """The points of a path (K+1, n, d) at the recorded time nearest t."""
    return path[int(np.argmin(np.abs(times - t)))]


def model_view(tr, real: np.ndarray, view: dict) -> dict[str, Any]:
    """What one model's native view draws now, as float32 arrays (see plots.py for how each is drawn).

    view: {"t": time in [0, 1] (diffusion: 0 = data, 1 = noise; flow matching: 0 = noise, 1 = data),
    "layer": flow layers applied to the noise grid, "given": the slice value of the autoregressive model}."""
    model, target = tr.model, tr.target
    fam, bounds, dim = model.family, target.bounds, target.dim
    g = torch.Generator().manual_seed(VIEW_SEED)
    out: dict[str, Any] = {"family": fam, "likelihood": model.likelihood, "step": tr.step, **_losses(tr)}
    if fam not in ("diffusion", "flow_matching"):           # those two take their samples from their paths
        with torch.no_grad():
            out["samples"] = _f32(model.sample(N_SHOW, g).numpy())
    if dim == 1:
        return {**out, **_view_1d(tr, real, view)}
    if fam in ("flow", "autoregressive"):
        from playground.families.flow_views import density_grid

        out["density"] = {k: _f32(v) for k, v in density_grid(model, bounds, N_GRID).items()}
    if fam == "flow":
        from playground.families.flow_views import noise_grid, warp_stages

        stages = warp_stages(model, noise_grid(2, lines=11, points=41))
        layer = int(np.clip(view.get("layer", len(stages) - 1), 0, len(stages) - 1))
        out.update(grid=_f32(stages[layer]), layer=layer, n_layers=len(stages) - 1)
    elif fam == "autoregressive":
        from playground.families.ar_views import conditional, marginal

        lo, hi = (bounds[0], bounds[1]) if model.first == 0 else (bounds[2], bounds[3])
        given = float(np.clip(view.get("given", (lo + hi) / 2), lo, hi))
        m, c = marginal(model, bounds), conditional(model, given, bounds)
        out.update(first=m["variable"], second=c["variable"], given=given, marginal_x=_f32(m["x"]),
                   marginal=_f32(np.exp(m["log_q"])), conditional_x=_f32(c["x"]),
                   conditional=_f32(np.exp(c["log_q"])))
    elif fam == "vae":
        from playground.families.vae2d_views import decoded, encoder_map

        enc = encoder_map(model, real[:200], n_ellipse=16)
        out.update(latent_means=_f32(enc["means"]), latent_dim=model.latent_dim, data_for_latent=_f32(real[:200]),
                   decoded_means=_f32(decoded(model, N_SHOW, VIEW_SEED)["means"]))
        if "ellipses" in enc:
            out["ellipses"] = _f32(enc["ellipses"][:60])
    elif fam == "diffusion":
        from playground.families.diffusion_views import forward_noising, reverse_trajectory, score_field

        t = float(np.clip(view.get("t", 0.5), 0.0, 1.0))
        times, path = reverse_trajectory(model, N_SHOW, seed=VIEW_SEED + 1)
        pts, score = score_field(model, max(t, 1.0 / model.timesteps), bounds, N_ARROWS)
        out.update(t=t, forward=_f32(forward_noising(model, real, t, seed=VIEW_SEED + 2)),
                   reverse=_f32(_at_time(times, path, t)), paths=_f32(path[:, :N_PATHS]), path_times=_f32(times),
                   samples=_f32(path[-1]),
                   arrow_points=_f32(pts), arrows=_f32(score), sampler=model.sampler, sample_steps=model.sample_steps)
    elif fam == "flow_matching":
        from playground.families.fm_views import trajectories, velocity_field

        t = float(np.clip(view.get("t", 0.5), 0.0, 1.0))
        times, path = trajectories(model, N_SHOW, seed=VIEW_SEED + 1)
        pts, vel = velocity_field(model, t, bounds, N_ARROWS)
        out.update(t=t, at_t=_f32(_at_time(times, path, t)), paths=_f32(path[:, :N_PATHS]), path_times=_f32(times),
                   samples=_f32(path[-1]),
                   arrow_points=_f32(pts), arrows=_f32(vel), solver=model.solver, sample_steps=model.sample_steps)
    elif fam == "gan":
        from playground.families.grids import grid_points

        pts = grid_points(bounds, 48)
        d = model.gan.d_output(pts).reshape(48, 48).T               # grid is x-major: rows along y after .T
        _, d_loss, g_loss = model.gan.losses()
        out.update(d_grid=_f32(d), d_x=_f32(np.linspace(bounds[0], bounds[1], 48)),
                   d_y=_f32(np.linspace(bounds[2], bounds[3], 48)), sigmoid=model.gan.objective.sigmoid_output,
                   d_loss=_f32(_thin(d_loss)), g_loss=_f32(_thin(g_loss)))
    return out


def _thin(v: np.ndarray) -> np.ndarray:
    k = max(1, int(np.ceil(len(v) / MAX_LOSS_POINTS)))
    m = len(v) // k * k
    return v[:m].reshape(-1, k).mean(1) if k > 1 else v


def _view_1d(tr, real: np.ndarray, view: dict) -> dict:
    """1D: the model's density where it has an exact one (flow, autoregressive, the VAE by quadrature) on the
    target's; diffusion and flow matching draw their trajectories x(t)."""
    model, fam = tr.model, tr.model.family
    xs = np.linspace(tr.target.bounds[0], tr.target.bounds[1], 240)
    out: dict[str, Any] = {"xs": _f32(xs)}
    with torch.no_grad():
        x = torch.as_tensor(xs[:, None], dtype=torch.float32)
        if fam in ("flow", "autoregressive"):
            out["q"] = _f32(np.exp(model.log_prob(x).double().numpy()))
        elif fam == "vae":
            out["q"] = _f32(np.exp(model.log_prob_quadrature(x).double().numpy()))
    if fam == "gan":
        _, d_loss, g_loss = model.gan.losses()
        out.update(d_loss=_f32(_thin(d_loss)), g_loss=_f32(_thin(g_loss)))
    if fam == "diffusion":
        from playground.families.diffusion_views import reverse_trajectory

        times, path = reverse_trajectory(model, N_SHOW, seed=VIEW_SEED + 1)
        out.update(paths=_f32(path[:, :N_PATHS * 2, 0]), path_times=_f32(times), samples=_f32(path[-1]))
    elif fam == "flow_matching":
        from playground.families.fm_views import trajectories

        times, path = trajectories(model, N_SHOW, seed=VIEW_SEED + 1)
        out.update(paths=_f32(path[:, :N_PATHS * 2, 0]), path_times=_f32(times), samples=_f32(path[-1]))
    return out


class LiveLab:
    """A Lockstep with views, history and the latest scoreboard, safe to use from two threads."""

    def __init__(self, cfgs: list, target=None, points: np.ndarray | None = None, history: History | None = None):
        self.lock = threading.RLock()
        self.ls = Lockstep(cfgs, target, points)
        self.target = self.ls.target
        self.real = _f32(self.target.sample(N_SHOW, torch.Generator().manual_seed(VIEW_SEED + 7)).numpy())
        self.target_p = None                # 1D: the target's exact density on the views' grid
        if self.target.dim == 1 and self.target.has_density:
            xs = np.linspace(self.target.bounds[0], self.target.bounds[1], 240)
            self.target_p = _f32(np.exp(self.target.log_prob(xs[:, None])))
        self.views: list[dict] = [{} for _ in cfgs]
        self.history = history or History(max_frames=120, max_states=16, max_state_bytes=120_000_000, every=5)
        self.scores: list[dict | None] = [None] * len(cfgs)
        self.playing = False
        self.error: str | None = None
        self.wall = 0.0                     # seconds spent training in play slices and steps
        self._cache: list[dict | None] = [None] * len(cfgs)
        self._budget = 0.0                  # seconds of view redrawing earned by training (see snapshot)
        self.record(force=True)

    # --- the models
    @property
    def cfgs(self) -> list:
        return self.ls.cfgs

    @property
    def step(self) -> int:
        return self.ls.step

    @property
    def done(self) -> bool:
        return self.ls.step >= self.ls.steps

    def set_view(self, i: int, **view: Any) -> None:
        with self.lock:
            self.views[i].update(view)

    def apply(self, cfgs: list) -> None:
        with self.lock:
            self.ls.apply(cfgs)

    # --- training
    def train_chunk(self, seconds: float) -> int:
        """While playing, train for about `seconds` (at least one tick; playing ends with the run or an error);
        returns the ticks made."""
        with self.lock:
            if self.done:
                self.playing = False
            if not self.playing:
                return 0
            before = self.ls.step
            self._train(lambda: self.ls.advance(seconds))
            if self.done:
                self.playing = False
            return self.ls.step - before

    def frame(self) -> dict:
        """The snapshot of now (while playing: views within their time budget), recorded in the history."""
        with self.lock:
            if self.done:
                self.playing = False
            snap = self.snapshot()
            self.record(snap)
            return snap

    def step_once(self, n: int = 1) -> dict:
        """n lockstep ticks (the Step button); records the frame with its state."""
        with self.lock:
            self._train(lambda: [self.ls.tick() for _ in range(n)])
            snap = self.snapshot()
            self.record(snap, force=True)
            return snap

    def _train(self, fn) -> None:
        t0 = time.perf_counter()
        try:
            fn()
        except (RuntimeError, ValueError) as e:       # a diverged model: stop playing, say why, keep the page
            self.playing = False
            self.error = f"training stopped: {type(e).__name__}: {str(e)[:200]}"
        dt = time.perf_counter() - t0
        self.wall += dt
        self._budget += VIEW_SHARE * dt

    # --- looking
    def snapshot(self, fresh: bool | None = None) -> dict:
        """Every model's view. Fresh (the default when paused): each view shows the current step. While playing,
        views are redrawn within a time budget (VIEW_SHARE of the training time), the stalest first, so a slow
        view (ODE paths) cannot starve training; a view whose settings changed is always redrawn."""
        with self.lock:
            fresh = (not self.playing) if fresh is None else fresh
            stale = []
            for i, tr in enumerate(self.ls.trainers):
                hit = self._cache[i]
                if not (hit is not None and hit["view"] == self.views[i] and hit["trainer"] is tr
                        and hit["cfg"] is tr.cfg):
                    self._redraw(i)                       # new model, settings or view: at once
                elif hit["step"] != tr.step:
                    stale.append(i)
            for i in sorted(stale, key=lambda i: self._cache[i]["at"]):
                if not (fresh or self._budget >= self._cache[i]["cost"]):
                    break                                 # the stalest waits for its budget: none jumps it
                self._budget -= self._redraw(i)
            cap = max([2.0] + [1.1 * c["cost"] for c in self._cache])
            self._budget = min(self._budget, cap) if not fresh else 0.0
            return {"step": self.ls.step, "steps": self.ls.steps, "dim": self.target.dim,
                    "bounds": self.target.bounds, "dist": self.target.name, "real": self.real,
                    "target_p": self.target_p, "playing": self.playing, "error": self.error,
                    "losses": [tr.losses[-1] if tr.losses else float("nan") for tr in self.ls.trainers],
                    "models": [c["data"] for c in self._cache]}

    def _redraw(self, i: int) -> float:
        """Recompute model i's view; returns the seconds it took."""
        tr, view, t0 = self.ls.trainers[i], dict(self.views[i]), time.perf_counter()
        data = model_view(tr, self.real, view)
        cost = time.perf_counter() - t0
        self._cache[i] = {"view": view, "trainer": tr, "cfg": tr.cfg, "step": tr.step, "at": t0, "cost": cost,
                          "data": data}
        return cost

    def record(self, snap: dict | None = None, force: bool = False) -> None:
        """Put the snapshot (default: a fresh one) and the training state in the history, if due."""
        with self.lock:
            if not (force or self.history.due(self.ls.step)):
                return
            snap = snap if snap is not None else self.snapshot()
            since = next((k for k, e in enumerate(reversed(self.history.entries)) if e.state is not None), None)
            if force or since is None or since + 1 >= STATE_EVERY:
                self.history.record(self.ls.step, snap, self.ls.capture(), self.ls.state_bytes(), force=True)
            else:                         # a capture costs ~2 ms: only every STATE_EVERY-th frame keeps one
                self.history.record(self.ls.step, snap, force=True)

    def evaluate(self) -> list[dict]:
        """The scoreboard row of every model now (fresh samples and held-out target points)."""
        torch.set_num_threads(1)
        with self.lock:
            rows = []
            for tr in self.ls.trainers:
                row = scoreboard(tr.model, self.target, n=tr.cfg.eval_samples, steps=tr.step, seconds=tr.seconds)
                rows.append({**row, "evaluated_at": tr.step})
            self.scores = rows
            return rows

    # --- branching
    def branch(self, index: int, cfgs: list) -> int:
        """Continue from history entry `index` (or the nearest earlier one with a state) with `cfgs`, which may
        change any setting that keeps the networks' shapes; later history is dropped. Returns the step."""
        with self.lock:
            i, entry = self.history.branch_point(index)
            if [c.dist for c in cfgs] != [self.cfgs[0].dist] * len(cfgs) or \
                    any(getattr(c, k) != getattr(self.cfgs[0], k) for c in cfgs for k in ("n_modes", "radius", "std")):
                raise PlaygroundError("the target is part of the history: reset to train on another one")
            ls = Lockstep(cfgs, self.target)
            ls.restore(entry.state)
            self.ls = ls
            self.views = (self.views + [{} for _ in cfgs])[:len(cfgs)]
            self._cache = [None] * len(cfgs)
            self.history.truncate(i)
            self.scores = [None] * len(cfgs)
            self.playing, self.error = False, None
            return ls.step

    # --- export
    def animation(self, fmt: str = "gif", fps: float = 8.0, size: int = 300) -> bytes:
        """The history as an animated GIF or an MP4: every frame's main views side by side."""
        from playground.families.plots import frame_picture
        from playground.history import encode_gif, encode_mp4

        pictures = self.history.pictures(lambda e: frame_picture(e.frame, size))
        if fmt == "gif":
            return encode_gif(pictures, fps)
        if fmt == "mp4":
            return encode_mp4(pictures, fps)
        raise PlaygroundError(f"unknown animation format {fmt!r}: choose gif or mp4")
