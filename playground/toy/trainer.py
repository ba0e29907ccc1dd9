"""The toy GAN step loop: two MLPs, their optimisers, live setting changes and loss history.

Training draws all its randomness from one generator seeded by the config; displays and metrics use
generators of their own and put D in eval mode, so how often a page looks never changes the run.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch

from playground.configs import changed_fields
from playground.objectives import Objective, get_objective
from playground.penalties import gradient_penalty, r1_from_output
from playground.toy.config import LIVE_FIELDS, ToyConfig
from playground.toy.nets import make_discriminator, make_generator, sample_noise
from playground.toy.targets import Target, make_target


def make_optimizer(kind: str, params, lr: float, beta1: float) -> torch.optim.Optimizer:
    # foreach=True: one multi-tensor kernel per update instead of a Python loop over the parameters (on CPU
    # PyTorch defaults to the loop, which costs about a third of a toy step).
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(beta1, 0.999), foreach=True)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=beta1 if beta1 < 0.99 else 0.0, foreach=True)
    return torch.optim.SGD(params, lr=lr, momentum=beta1, foreach=True)


class ToyGAN:
    """One GAN on one toy target. `train(n)` advances n iterations of d_steps D and g_steps G updates."""

    def __init__(self, cfg: ToyConfig, points: np.ndarray | None = None):
        cfg.validate()
        self.cfg = cfg.resolved()
        self.points = points
        self.target: Target = make_target(self.cfg, points)
        c = self.cfg
        self.dim = self.target.dim
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(c.seed)
            self.G = make_generator(c.noise_dim, self.dim, c.g_layers, c.g_width, c.activation)
            self.D = make_discriminator(self.dim, c.d_layers, c.d_width, c.activation, c.spectral_norm)
            if c.init_offset:
                with torch.no_grad():
                    self.G[-1].bias.add_(c.init_offset)
        self.rng = torch.Generator().manual_seed(c.seed)
        self.d_opt = make_optimizer(c.d_opt, self.D.parameters(), c.d_lr, c.beta1)
        self.g_opt = make_optimizer(c.g_opt, self.G.parameters(), c.g_lr, c.beta1)
        self._set_objective()
        self.step = 0          # completed iterations
        self.d_updates = 0
        self.g_updates = 0
        self._d_hist: list[torch.Tensor] = []
        self._g_hist: list[torch.Tensor] = []
        self._hist_steps: list[int] = []
        self._n_hist = 0
        self._buf = np.zeros((3, 1024))   # rows: step, d_loss, g_loss; grows by doubling
        self._last_d = torch.tensor(float("nan"))
        self._last_g = torch.tensor(float("nan"))

    # ---- settings -------------------------------------------------------------------------------------

    def _set_objective(self) -> None:
        self.objective: Objective = get_objective(self.cfg.loss)
        self.d_loss_fn, self.g_loss_fn = self.objective.d_loss, self.objective.g_loss

    def needs_reset(self, new: ToyConfig) -> set[str]:
        """The changed fields that cannot be applied to a running model (data, architecture, noise, seed)."""
        return changed_fields(self.cfg, new.resolved()) - LIVE_FIELDS

    def apply(self, new: ToyConfig) -> None:
        """Apply live changes (losses, optimisers, learning rates, steps, batch) without resetting."""
        new = new.resolved()
        blocked = self.needs_reset(new)
        if blocked:
            raise ValueError(f"changing {sorted(blocked)} needs a reset")
        old = self.cfg
        self.cfg = new
        if new.d_opt != old.d_opt:
            self.d_opt = make_optimizer(new.d_opt, self.D.parameters(), new.d_lr, new.beta1)
        if new.g_opt != old.g_opt:
            self.g_opt = make_optimizer(new.g_opt, self.G.parameters(), new.g_lr, new.beta1)
        for opt in (self.d_opt, self.g_opt):
            for group in opt.param_groups:
                if "betas" in group:
                    group["betas"] = (new.beta1, group["betas"][1])
                elif "momentum" in group:
                    group["momentum"] = new.beta1 if not isinstance(opt, torch.optim.RMSprop) or new.beta1 < 0.99 \
                        else 0.0
        self._set_objective()
        self._set_lrs()

    # ---- the step loop --------------------------------------------------------------------------------

    def step_d(self) -> torch.Tensor:
        """One discriminator update on a fresh real batch and a fresh fake batch."""
        c = self.cfg
        real = self.target.sample(c.batch_size, self.rng)
        with torch.no_grad():
            fake = self.G(sample_noise(c.batch_size, c.noise_dim, c.noise, self.rng))
        if c.r1 > 0:
            real.requires_grad_(True)      # R1 reuses this forward pass: no second D(real)
        real_out = self.D(real)
        loss = self.d_loss_fn(real_out, self.D(fake)).mean()
        if self.objective.penalty == "gradient_penalty" and c.gp_weight > 0:
            loss = loss + c.gp_weight * gradient_penalty(self.D, real.detach(), fake, self.rng)
        if c.r1 > 0:
            loss = loss + c.r1 * r1_from_output(real_out, real)
        self.d_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.d_opt.step()
        if self.objective.clip:
            with torch.no_grad():
                for p in self.D.parameters():
                    p.clamp_(-c.clip, c.clip)
        self.d_updates += 1
        self._last_d = loss.detach()
        return self._last_d

    def step_g(self) -> torch.Tensor:
        """One generator update on a fresh noise batch."""
        c = self.cfg
        z = sample_noise(c.batch_size, c.noise_dim, c.noise, self.rng)
        loss = self.g_loss_fn(self.D(self.G(z))).mean()
        self.g_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.g_opt.step()
        self.g_updates += 1
        self._last_g = loss.detach()
        return self._last_g

    def _record(self) -> None:
        self._hist_steps.append(self.step)
        self._d_hist.append(self._last_d)
        self._g_hist.append(self._last_g)

    def train(self, iterations: int) -> None:
        """`iterations` full iterations (d_steps D updates, then g_steps G updates)."""
        for _ in range(iterations):
            for _ in range(self.cfg.d_steps):
                self.step_d()
            for _ in range(self.cfg.g_steps):
                self.step_g()
            self.step += 1
            self._record()
            if self.cfg.lr_half_life:
                self._set_lrs()

    def _set_lrs(self) -> None:
        """Learning rates at the current step: base * 0.5 ** (step / half_life)."""
        f = 0.5 ** (self.step / self.cfg.lr_half_life) if self.cfg.lr_half_life else 1.0
        self.d_opt.param_groups[0]["lr"] = self.cfg.d_lr * f
        self.g_opt.param_groups[0]["lr"] = self.cfg.g_lr * f

    def train_for(self, seconds: float, max_iterations: int = 1_000_000) -> int:
        """Train whole iterations until `seconds` have passed; returns how many ran."""
        end = time.perf_counter() + seconds
        n = 0
        while n < max_iterations and time.perf_counter() < end:
            self.train(1)
            n += 1
        return n

    def single_step(self, which: str) -> None:
        """A lesson step: 'd' (one D update), 'g' (one G update) or 'both' (one full iteration)."""
        if which == "both":
            self.train(1)
            return
        (self.step_d if which == "d" else self.step_g)()
        self.step += 1
        self._record()
        if self.cfg.lr_half_life:
            self._set_lrs()        # a lesson step counts on the schedule like a full one

    def losses(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, d_loss, g_loss) for every recorded iteration (views into an amortised buffer)."""
        k = len(self._d_hist)
        if k:
            need = self._n_hist + k
            if need > self._buf.shape[1]:
                grown = np.zeros((3, max(need, 2 * self._buf.shape[1])))
                grown[:, :self._n_hist] = self._buf[:, :self._n_hist]
                self._buf = grown
            sl = slice(self._n_hist, need)
            self._buf[0, sl] = self._hist_steps
            self._buf[1, sl] = torch.stack(self._d_hist).numpy()
            self._buf[2, sl] = torch.stack(self._g_hist).numpy()
            self._n_hist = need
            self._d_hist, self._g_hist, self._hist_steps = [], [], []
        b = self._buf[:, :self._n_hist]
        return b[0].astype(np.int64), b[1], b[2]

    # ---- looking without touching ---------------------------------------------------------------------

    def sample(self, n: int, seed: int = 12345) -> np.ndarray:
        """n generator samples from noise drawn with its own seed (training RNG untouched)."""
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            return self.G(sample_noise(n, self.cfg.noise_dim, self.cfg.noise, g)).numpy().astype(np.float64)

    def d_output(self, x: np.ndarray) -> np.ndarray:
        """D's raw output at points x (eval mode: spectral norm's power iteration is not advanced)."""
        was = self.D.training
        self.D.eval()
        try:
            with torch.no_grad():
                return self.D(torch.as_tensor(x, dtype=torch.float32)).numpy()[:, 0].astype(np.float64)
        finally:
            self.D.train(was)

    def sample_gradients(self, x: np.ndarray) -> np.ndarray:
        """-d(per-sample generator loss)/dx at generated points x: where G's update pushes each sample."""
        was = self.D.training
        self.D.eval()
        try:
            xt = torch.as_tensor(x, dtype=torch.float32).requires_grad_(True)
            loss = self.g_loss_fn(self.D(xt))
            (grad,) = torch.autograd.grad(loss.sum(), xt)
        finally:
            self.D.train(was)
        return -grad.numpy().astype(np.float64)

    def generate(self, z: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return self.G(z).numpy().astype(np.float64)

    def with_config(self, **changes) -> ToyConfig:
        return replace(self.cfg, **changes)
