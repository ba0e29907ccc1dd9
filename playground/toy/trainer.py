"""The toy GAN step loop: two MLPs, their optimisers, live setting changes and loss history.

Training draws all its randomness from one generator seeded by the config; displays and metrics use
generators of their own and put D in eval mode, so how often a page looks never changes the run.
"""

from __future__ import annotations

import copy
import time
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
import torch

from playground.configs import changed_fields
from playground.objectives import Objective, get_objective
from playground.penalties import gradient_penalty, r1_from_output
from playground.toy.config import LIVE_FIELDS, ToyConfig
from playground.toy.nets import (batch_statistic, bn_stats_frozen, hidden_part, make_discriminator, make_generator,
                                 sample_noise)
from playground.toy.targets import Target, make_target
from playground.toy.tricks import (
    ParameterAverage,
    ema_update,
    feature_matching_loss,
    instance_noise_std,
    pack,
    pack_copies,
)
from playground.toy.unrolled import moments_from, unroll


def make_optimizer(kind: str, params, lr: float, beta1: float) -> torch.optim.Optimizer:
    # foreach=True: one multi-tensor kernel per update instead of a Python loop over the parameters (on CPU
    # PyTorch defaults to the loop, which costs about a third of a toy step).
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(beta1, 0.999), foreach=True)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=beta1 if beta1 < 0.99 else 0.0, foreach=True)
    return torch.optim.SGD(params, lr=lr, momentum=beta1, foreach=True)


@contextmanager
def evaluating(*modules: torch.nn.Module):
    """Modules in eval mode for a look (batch norm uses its running statistics, spectral norm's power
    iteration and the minibatch-std statistic stay as they are), back to their previous mode after."""
    was = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, w in zip(modules, was):
            m.train(w)


class ToyGAN:
    """One GAN on one toy target. `train(n)` advances n iterations of d_steps D and g_steps G updates."""

    def __init__(self, cfg: ToyConfig, points: np.ndarray | None = None):
        cfg.validate()
        self.cfg = cfg
        self.points = points
        self.target: Target = make_target(self.cfg, points)
        c = self.cfg
        self.dim = self.target.dim
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(c.seed)
            self.G = make_generator(c.latent_dim, self.dim, c.g_layers, c.g_width, c.activation,
                                    batchnorm=c.g_batchnorm, init_std=c.init_std)
            self.D = make_discriminator(self.dim * c.pack, c.d_layers, c.d_width, c.activation, c.spectral_norm,
                                        maxout=c.d_maxout, init_std=c.init_std, minibatch_std=c.minibatch_std)
            if c.init_offset:
                with torch.no_grad():
                    self.G[-1].bias.add_(c.init_offset)
        self.rng = torch.Generator().manual_seed(c.seed)
        self.d_opt = make_optimizer(c.d_opt, self.D.parameters(), c.d_lr, c.beta1)
        self.g_opt = make_optimizer(c.g_opt, self.G.parameters(), c.g_lr, c.beta1)
        self.D_features = hidden_part(self.D)      # shares D's modules: feature matching's f(x)
        self.G_ema: torch.nn.Module | None = None
        self._avg_d: ParameterAverage | None = None
        self._avg_g: ParameterAverage | None = None
        self._set_objective()
        self._set_tricks()
        self.step = 0          # completed iterations
        self.d_updates = 0
        self.g_updates = 0
        self._d_hist: list[torch.Tensor] = []
        self._g_hist: list[torch.Tensor] = []
        self._hist_steps: list[int] = []
        self._n_hist = 0
        self._buf = np.zeros((2, 1024))   # rows: d_loss, g_loss; grows by doubling
        self._steps = np.zeros(1024, dtype=np.int64)   # the steps, kept as integers so losses() copies nothing
        self._last_d = torch.tensor(float("nan"))
        self._last_g = torch.tensor(float("nan"))

    # ---- settings -------------------------------------------------------------------------------------

    def _set_objective(self) -> None:
        self.objective: Objective = get_objective(self.cfg.loss)
        self.d_loss_fn, self.g_loss_fn = self.objective.d_loss, self.objective.g_loss
        alpha, smoothed = self.cfg.real_label, self.objective.smoothed_d_loss
        if alpha < 1 and smoothed is not None:
            self.d_loss_fn = lambda real, fake: smoothed(real, fake, alpha)

    def _set_tricks(self) -> None:
        """Start or stop the toolbox's state: parameter averages from now on, G's EMA from a copy of G now."""
        c = self.cfg
        if c.hist_avg > 0:
            self._avg_d = self._avg_d or ParameterAverage(self.D.parameters())
            self._avg_g = self._avg_g or ParameterAverage(self.G.parameters())
        else:
            self._avg_d = self._avg_g = None
        if c.g_ema > 0:
            if self.G_ema is None:
                self.G_ema = copy.deepcopy(self.G).requires_grad_(False)
        else:
            self.G_ema = None

    @property
    def display_G(self) -> torch.nn.Module:
        """The generator that displays and metrics use: G's EMA when it is on, else G."""
        return self.G if self.G_ema is None else self.G_ema

    def needs_reset(self, new: ToyConfig) -> set[str]:
        """The changed fields that cannot be applied to a running model (data, architecture, noise, seed)."""
        return changed_fields(self.cfg, new) - LIVE_FIELDS

    def apply(self, new: ToyConfig) -> None:
        """Apply live changes (losses, optimisers, learning rates, steps, batch) without resetting."""
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
        self._set_tricks()
        self._set_lrs()

    # ---- the step loop --------------------------------------------------------------------------------

    def _noised(self, *xs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Instance noise at this step's level on the samples D is about to see (none drawn when off)."""
        c = self.cfg
        s = instance_noise_std(c.instance_noise, self.step, c.instance_noise_steps)
        if s <= 0:
            return xs
        return tuple(x + s * torch.randn(x.shape, generator=self.rng) for x in xs)

    def step_d(self) -> torch.Tensor:
        """One discriminator update on a fresh real batch and a fresh fake batch (of packs, when packing)."""
        c = self.cfg
        n = c.batch_size * c.pack
        real = self.target.sample(n, self.rng)
        with torch.no_grad(), bn_stats_frozen(self.G):
            fake = self.G(sample_noise(n, c.latent_dim, c.noise, self.rng))
        if c.instance_noise:
            real, fake = self._noised(real, fake)
        if c.pack > 1:
            real, fake = pack(real, c.pack), pack(fake, c.pack)
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
        loss = loss.detach()
        if self._avg_d is not None:
            loss = loss + self._avg_d.add_gradient(c.hist_avg)
        self.d_opt.step()
        if self.objective.clip:
            with torch.no_grad():
                for p in self.D.parameters():
                    p.clamp_(-c.clip, c.clip)
        if self._avg_d is not None:
            self._avg_d.update()
        self.d_updates += 1
        self._last_d = loss
        return self._last_d

    def step_g(self) -> torch.Tensor:
        """One generator update on a fresh noise batch (the toolbox decides what scores it)."""
        c = self.cfg
        n = c.batch_size * c.pack
        fake = self.G(sample_noise(n, c.latent_dim, c.noise, self.rng))
        if c.instance_noise:
            (fake,) = self._noised(fake)
        fake = pack(fake, c.pack)
        params = self._unrolled_d() if c.unrolled_steps else None
        if c.feature_matching:
            real = self.target.sample(n, self.rng)
            if c.instance_noise:
                (real,) = self._noised(real)
            with torch.no_grad():
                real_f = self._d_call(params, pack(real, c.pack), features=True)
            loss = feature_matching_loss(real_f, self._d_call(params, fake, features=True))
        else:
            loss = self.g_loss_fn(self._d_call(params, fake)).mean()
        self.g_opt.zero_grad(set_to_none=True)
        if params is None:
            loss.backward()
        else:       # only G's gradient: the look-ahead's own parameters need none
            g_params = list(self.G.parameters())
            for p, g in zip(g_params, torch.autograd.grad(loss, g_params)):
                p.grad = g
        loss = loss.detach()
        if self._avg_g is not None:
            loss = loss + self._avg_g.add_gradient(c.hist_avg)
        self.g_opt.step()
        if self._avg_g is not None:
            self._avg_g.update()
        if self.G_ema is not None:
            ema_update(self.G_ema, self.G, c.g_ema)
        self.g_updates += 1
        self._last_g = loss
        return self._last_g

    def _d_call(self, params: dict | None, x: torch.Tensor, features: bool = False) -> torch.Tensor:
        """D's output (or its last hidden layer) at x, with D's own parameters or the look-ahead's `params`."""
        net = self.D_features if features else self.D
        if params is None:
            return net(x)
        if features:
            names = dict(net.named_parameters())
            params = {k: v for k, v in params.items() if k in names}
        return torch.func.functional_call(net, params, (x,))

    def _unrolled_d(self) -> dict:
        """D's parameters after cfg.unrolled_steps differentiable look-ahead updates on fresh batches, each
        against G's current samples (so the result depends on G)."""
        c = self.cfg
        n = c.batch_size * c.pack
        batches = []
        for _ in range(c.unrolled_steps):
            real = self.target.sample(n, self.rng)
            with bn_stats_frozen(self.G):
                fake = self.G(sample_noise(n, c.latent_dim, c.noise, self.rng))
            batches.append((pack(real, c.pack), pack(fake, c.pack)))

        def d_loss(params: dict, i: int) -> torch.Tensor:
            real, fake = batches[i]
            call = torch.func.functional_call
            return self.d_loss_fn(call(self.D, params, (real,)), call(self.D, params, (fake,))).mean()

        named = dict(self.D.named_parameters())
        adam = isinstance(self.d_opt, torch.optim.Adam)
        group = self.d_opt.param_groups[0]
        return unroll(named, d_loss, c.unrolled_steps, group["lr"], "adam" if adam else "sgd",
                      betas=group["betas"] if adam else (0.5, 0.999), moments=moments_from(self.d_opt, named))

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
                size = max(need, 2 * self._buf.shape[1])
                grown, steps = np.zeros((2, size)), np.zeros(size, dtype=np.int64)
                grown[:, :self._n_hist], steps[:self._n_hist] = self._buf[:, :self._n_hist], self._steps[:self._n_hist]
                self._buf, self._steps = grown, steps
            sl = slice(self._n_hist, need)
            self._steps[sl] = self._hist_steps
            self._buf[0, sl] = torch.stack(self._d_hist).numpy()
            self._buf[1, sl] = torch.stack(self._g_hist).numpy()
            self._n_hist = need
            self._d_hist, self._g_hist, self._hist_steps = [], [], []
        n = self._n_hist
        return self._steps[:n], self._buf[0, :n], self._buf[1, :n]

    # ---- looking without touching ---------------------------------------------------------------------

    def sample(self, n: int, seed: int = 12345) -> np.ndarray:
        """n generator samples from noise drawn with its own seed (training RNG untouched; G's EMA when on)."""
        g = torch.Generator().manual_seed(seed)
        return self.generate(sample_noise(n, self.cfg.latent_dim, self.cfg.noise, g))

    def _d_single(self, x: torch.Tensor) -> torch.Tensor:
        """What D is asked about a single point: the point itself, or a pack of its copies when packing."""
        return pack_copies(x, self.cfg.pack)

    def d_output(self, x: np.ndarray) -> np.ndarray:
        """D's raw output at points x (eval mode: spectral norm's power iteration is not advanced)."""
        with evaluating(self.D), torch.no_grad():
            out = self.D(self._d_single(torch.as_tensor(x, dtype=torch.float32)))
        return out.numpy()[:, 0].astype(np.float64)

    def sample_gradients(self, x: np.ndarray) -> np.ndarray:
        """-d(per-sample generator loss)/dx at generated points x: where G's update pushes each sample. With
        feature matching, the loss is n times the batch's feature-matching loss against 1,000 fixed real points
        (a sample's share of it); with the minibatch std feature, D sees the spread of these points as one
        batch, so each arrow includes the push through it; the unrolled look-ahead is not part of the arrows."""
        with evaluating(self.D), batch_statistic(self.D):
            xt = torch.as_tensor(x, dtype=torch.float32).requires_grad_(True)
            if self.cfg.feature_matching:
                real = self.target.sample(1000, torch.Generator().manual_seed(99))
                with torch.no_grad():
                    real_f = self.D_features(self._d_single(real))
                loss = len(x) * feature_matching_loss(real_f, self.D_features(self._d_single(xt)))
            else:
                loss = self.g_loss_fn(self.D(self._d_single(xt))).sum()
            (grad,) = torch.autograd.grad(loss, xt)
        return -grad.numpy().astype(np.float64)

    def generate(self, z: torch.Tensor) -> np.ndarray:
        """The displayed generator (G, or its EMA) at noise z, in eval mode (batch norm's running statistics)."""
        g = self.display_G
        with evaluating(g), torch.no_grad():
            return g(z).numpy().astype(np.float64)

    def with_config(self, **changes) -> ToyConfig:
        return replace(self.cfg, **changes)
