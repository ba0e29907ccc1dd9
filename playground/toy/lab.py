"""A GAN-lab session: the model plus what the page keeps between frames (fixed display noise, metrics
history) and `snapshot()`, the plain-numpy picture of the current state that figure builders draw.

A snapshot has two halves: the history (loss and metric curves, which only the training process has) and
the picture (generated points, D over the plane, arrows: forward passes through the two networks). The
generator shown is `ToyGAN.display_G` (G's exponential moving average when it is on).
`LabSession.state()` ships the history plus the networks' weights (about 70 KB), and a `LabView` in another
process redraws the picture from them, so drawing frames costs the training process nothing but a copy.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import torch

from playground.numerics import optimal_discriminator
from playground.toy.config import ToyConfig
from playground.toy.fields import blurred_density, d_curve, d_grid, kde_1d, log_density, manifold
from playground.toy.metrics import evaluate
from playground.toy.nets import sample_noise
from playground.toy.plots import downsample
from playground.toy.trainer import ToyGAN
from playground.toy.tricks import instance_noise_std

DISPLAY_SEED = 2024   # noise and real points shown on screen are fixed, so samples visibly move
EVAL_SEED = 777       # metrics use samples of their own noise, never the training stream's


def eval_seed(step: int) -> int:
    """The noise seed of the metrics at `step`: the lab's curve and `toy train --eval-every`'s history draw the
    same samples at the same step, however the training was chunked."""
    return EVAL_SEED * 1_000_003 + int(step)
N_SHOW = 500
SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_thread = threading.local()


def display_points(gan: ToyGAN, n_show: int = N_SHOW) -> tuple[torch.Tensor, np.ndarray]:
    """(noise, real points) shown on screen: fixed by DISPLAY_SEED, so two processes agree exactly."""
    g = torch.Generator().manual_seed(DISPLAY_SEED)
    c = gan.cfg
    z = sample_noise(n_show, c.latent_dim, c.noise, g)
    return z, gan.target.sample(n_show, g).numpy().astype(np.float64)


def picture(gan: ToyGAN, z_show: torch.Tensor, real_show: np.ndarray, show_arrows: bool = True,
            show_manifold: bool = True, grid: int = 48) -> dict[str, Any]:
    """The forward-pass half of a snapshot: samples, arrows, D over the view (2D) or D, q, D* (1D)."""
    fake = gan.generate(z_show)
    bounds = tuple(float(b) for b in gan.target.bounds)
    snap: dict[str, Any] = {"dim": gan.dim, "bounds": bounds, "real": real_show, "fake": fake,
                            "arrows": gan.sample_gradients(fake) if show_arrows else None}
    if gan.dim == 2:
        snap["grid_x"], snap["grid_y"], snap["d_grid"] = d_grid(gan, bounds, grid)
        # a packed D judges m points at once: the heatmap asks it about m copies of each point
        snap["d_note"] = f"heatmap: D asked about {gan.cfg.pack} copies of each point" if gan.cfg.pack > 1 else None
        snap["manifold"] = manifold(gan) if show_manifold else None
        return snap
    x0, x1 = bounds
    xs = np.linspace(x0, x1, 400)
    fake_kde = gan.sample(gan.cfg.eval_samples, seed=DISPLAY_SEED)
    real_kde = None if gan.target.has_density else \
        gan.target.sample(gan.cfg.eval_samples, torch.Generator().manual_seed(1)).numpy()
    snap["xs"], snap["q"], snap["d"] = xs, kde_1d(fake_kde, xs), d_curve(gan, xs)
    snap["p"] = np.exp(gan.target.log_prob(xs[:, None])) if real_kde is None else kde_1d(real_kde, xs)
    # D's optimum is taken under what D is trained on: the densities blurred by this step's instance noise
    c = gan.cfg
    sigma = instance_noise_std(c.instance_noise, gan.step, c.instance_noise_steps)
    p_seen = snap["p"] if sigma <= 0 else (
        blurred_density(gan.target.log_prob, xs, sigma) if real_kde is None else kde_1d(real_kde, xs, sigma))
    q_seen = snap["q"] if sigma <= 0 else kde_1d(fake_kde, xs, sigma)
    exact = real_kde is None and sigma <= 0          # the target's own log-density: no underflow far out
    log_p = gan.target.log_prob(xs[:, None]) if exact else log_density(p_seen)
    snap.update(d_optimum(gan, log_p, log_density(q_seen), sigma))
    return snap


def d_optimum(gan: ToyGAN, log_p: np.ndarray, log_q: np.ndarray, sigma: float = 0.0) -> dict[str, Any]:
    """The 1D view's optimal D along x, with its legend label: D* = p/(p+q); asked about m copies of x, a packed
    D's optimum is p^m/(p^m+q^m) = sigmoid(m log(p/q)) (packs of independent samples); under instance noise σ,
    p and q are the blurred densities D is trained on; one-sided label smoothing α scales it by α. A minibatch
    std feature makes D judge the whole batch: no pointwise optimum (None, and a note saying so)."""
    c = gan.cfg
    if c.minibatch_std:
        return {"d_star": None, "d_star_smooth": None, "d_star_label": None,
                "d_star_note": "no D* drawn: with the minibatch std feature D judges the whole batch, not a point"}
    m = c.pack
    power = str(m).translate(SUPERSCRIPTS) if m > 1 else ""
    ratio = f"p{power}/(p{power}+q{power})"
    label = (f"optimal D*, {m} copies of x: " if m > 1 else "optimal D*(x) = ") + ratio
    if sigma > 0:
        label += f", p and q blurred by σ = {sigma:.2f}"
    alpha = c.real_label
    smooth = alpha < 1 and gan.objective.smoothed_d_loss is not None
    return {"d_star": optimal_discriminator(m * log_p, m * log_q),
            # one-sided label smoothing moves D's optimum to α times it: drawn beside D* while it is on
            "d_star_smooth": gan.objective.optimal_display(m * log_p, m * log_q, alpha) if smooth else None,
            "d_star_label": label, "d_star_smooth_label": f"smoothed D* = α·{ratio}" if smooth else None,
            "d_star_note": None}


def _weights(module: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


class LabSession:
    """Owns a ToyGAN and the display state; thread-safe `advance` / `snapshot` via one lock."""

    def __init__(self, cfg: ToyConfig, points: np.ndarray | None = None, n_show: int = N_SHOW):
        self.gan = ToyGAN(cfg, points)
        self.lock = threading.Lock()
        self.z_show, self.real_show = display_points(self.gan, n_show)
        self.metrics: list[dict[str, Any]] = []
        self.evaluate_now()

    @property
    def cfg(self) -> ToyConfig:
        return self.gan.cfg

    def advance(self, seconds: float) -> int:
        with self.lock:
            return self.gan.train_for(seconds)

    def evaluate_now(self) -> dict[str, Any]:
        """Metrics on cfg.eval_samples fresh generator samples, appended to the history."""
        x = self.gan.sample(self.cfg.eval_samples, seed=eval_seed(self.gan.step))
        m = {"step": self.gan.step, **evaluate(self.gan.target, x)}
        if self.metrics and self.metrics[-1]["step"] == m["step"]:
            self.metrics[-1] = m
        else:
            self.metrics.append(m)
        return m

    def history(self, max_points: int = 400) -> dict[str, Any]:
        """The curves half of a snapshot, thinned so a frame stays small however long the run is."""
        gan = self.gan
        steps, dl, gl = downsample(*gan.losses(), n=max_points)
        hist = self.metrics if len(self.metrics) <= max_points else \
            [self.metrics[i] for i in np.linspace(0, len(self.metrics) - 1, max_points).astype(int)]
        return {"step": gan.step, "loss": gan.cfg.loss, "loss_steps": steps, "d_loss": dl, "g_loss": gl,
                "metrics": list(hist)}

    def snapshot(self, show_arrows: bool = True, show_manifold: bool = True, grid: int = 48,
                 max_points: int = 400) -> dict[str, Any]:
        """Everything a frame needs, as numpy arrays and floats."""
        with self.lock:
            return {**self.history(max_points),
                    **picture(self.gan, self.z_show, self.real_show, show_arrows, show_manifold, grid)}

    def state(self, max_points: int = 400) -> dict[str, Any]:
        """The history plus the config and both networks' weights: what a LabView needs for a snapshot."""
        with self.lock:
            return {**self.history(max_points), "cfg": self.gan.cfg, "g": _weights(self.gan.display_G),
                    "d": _weights(self.gan.D)}


class LabView:
    """A display-only replica of a LabSession in another process: same config, same data, same display
    noise; `snapshot(state)` loads the shipped weights and does the picture's forward passes here."""

    def __init__(self, cfg: ToyConfig, points: np.ndarray | None = None, n_show: int = N_SHOW):
        self.gan = ToyGAN(cfg, points)
        self.z_show, self.real_show = display_points(self.gan, n_show)
        self.lock = threading.Lock()

    def snapshot(self, state: dict[str, Any], show_arrows: bool = True, show_manifold: bool = True,
                 grid: int = 48) -> dict[str, Any]:
        if not getattr(_thread, "one", False):
            torch.set_num_threads(1)    # OpenMP's count is per thread: a frame must not take both cores
            _thread.one = True
        gan = self.gan
        with self.lock:
            if state["cfg"] != gan.cfg:
                gan.apply(state["cfg"])         # live changes only: the loss decides arrows and D's display
            gan.step = state["step"]
            with torch.no_grad():
                for net, key in ((gan.display_G, "g"), (gan.D, "d")):   # G's EMA when it is on
                    for name, t in net.state_dict().items():   # in place: same tensors, same modules
                        t.copy_(torch.from_numpy(state[key][name]))
            pic = picture(gan, self.z_show, self.real_show, show_arrows, show_manifold, grid)
        return {**{k: v for k, v in state.items() if k not in ("cfg", "g", "d")}, **pic}
