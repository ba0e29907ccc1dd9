"""A GAN-lab session: the model plus what the page keeps between frames (fixed display noise, metrics
history) and `snapshot()`, the plain-numpy picture of the current state that figure builders draw."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import torch

from playground.toy.config import ToyConfig
from playground.toy.fields import d_curve, d_grid, kde_1d, manifold, optimal_discriminator
from playground.toy.metrics import evaluate
from playground.toy.nets import sample_noise
from playground.toy.plots import downsample
from playground.toy.trainer import ToyGAN

DISPLAY_SEED = 2024   # noise and real points shown on screen are fixed, so samples visibly move
EVAL_SEED = 777       # metrics use fresh samples from their own stream, never the training stream


class LabSession:
    """Owns a ToyGAN and the display state; thread-safe `advance` / `snapshot` via one lock."""

    def __init__(self, cfg: ToyConfig, points: np.ndarray | None = None, n_show: int = 500):
        self.gan = ToyGAN(cfg, points)
        self.lock = threading.Lock()
        g = torch.Generator().manual_seed(DISPLAY_SEED)
        c = self.gan.cfg
        self.z_show = sample_noise(n_show, c.noise_dim, c.noise, g)
        self.real_show = self.gan.target.sample(n_show, g).numpy().astype(np.float64)
        self._eval_rng = np.random.default_rng(EVAL_SEED)
        self.metrics: list[dict[str, Any]] = []
        self.iter_rate = 0.0
        self.evaluate_now()

    @property
    def cfg(self) -> ToyConfig:
        return self.gan.cfg

    def advance(self, seconds: float) -> int:
        with self.lock:
            return self.gan.train_for(seconds)

    def evaluate_now(self) -> dict[str, Any]:
        """Metrics on cfg.eval_samples fresh generator samples, appended to the history."""
        seed = int(self._eval_rng.integers(2**31))
        x = self.gan.sample(self.cfg.eval_samples, seed=seed)
        m = {"step": self.gan.step, **evaluate(self.gan.target, x)}
        if self.metrics and self.metrics[-1]["step"] == m["step"]:
            self.metrics[-1] = m
        else:
            self.metrics.append(m)
        return m

    def bounds(self) -> tuple:
        return tuple(float(b) for b in self.gan.target.bounds)

    def snapshot(self, show_arrows: bool = True, show_manifold: bool = True, grid: int = 48,
                 max_points: int = 400) -> dict[str, Any]:
        """Everything a frame needs, as numpy arrays and floats."""
        gan = self.gan
        with self.lock:
            fake = gan.generate(self.z_show)
            # Curves are thinned here so a frame stays small however long the run is.
            steps, dl, gl = downsample(*gan.losses(), n=max_points)
            hist = self.metrics if len(self.metrics) <= max_points else \
                [self.metrics[i] for i in np.linspace(0, len(self.metrics) - 1, max_points).astype(int)]
            snap: dict[str, Any] = {
                "dim": gan.dim, "step": gan.step, "loss": gan.cfg.loss, "bounds": self.bounds(),
                "real": self.real_show, "fake": fake,
                "loss_steps": steps, "d_loss": dl, "g_loss": gl,
                "metrics": list(hist),
            }
            snap["arrows"] = gan.sample_gradients(fake) if show_arrows else None
            if gan.dim == 2:
                snap["grid_x"], snap["grid_y"], snap["d_grid"] = d_grid(gan, snap["bounds"], grid)
                snap["manifold"] = manifold(gan) if show_manifold else None
            else:
                x0, x1 = snap["bounds"]
                xs = np.linspace(x0, x1, 400)
                q = kde_1d(gan.sample(self.cfg.eval_samples, seed=DISPLAY_SEED), xs)
                snap["xs"] = xs
                snap["q"] = q
                snap["d"] = d_curve(gan, xs)
                if gan.target.has_density:
                    log_p = gan.target.log_prob(xs[:, None])
                    snap["p"] = np.exp(log_p)
                    snap["d_star"] = optimal_discriminator(log_p, q)
                else:
                    snap["p"] = kde_1d(gan.target.sample(self.cfg.eval_samples,
                                                         torch.Generator().manual_seed(1)).numpy(), xs)
                    snap["d_star"] = optimal_discriminator(np.log(np.maximum(snap["p"], 1e-300)), q)
        return snap
