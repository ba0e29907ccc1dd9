"""ToyConfig: every setting of the GAN lab (page widgets, CLI flags, saved JSON and URL all come from it)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from playground.configs import fill_derived, live_fields, spec
from playground.errors import PlaygroundError
from playground.objectives import NAMES as OBJECTIVE_NAMES

Dist = Literal["ring8", "grid25", "two_gaussians", "three_blobs", "line", "circle", "two_moons", "spiral",
               "swiss_roll", "gaussians8_ffjord", "rings", "two_spirals", "pinwheel", "checkerboard", "image",
               "bimodal1d", "mixture1d", "uniform1d", "custom"]
DISTS_1D = ("bimodal1d", "mixture1d", "uniform1d")
Loss = Literal[OBJECTIVE_NAMES]   # the objectives table decides the choices (and their order)
Optim = Literal["adam", "rmsprop", "sgd"]
Activation = Literal["relu", "leaky_relu", "elu", "tanh"]
Noise = Literal["gaussian", "uniform"]

# Per-target defaults of the shape parameters; a field left at None takes these (see `resolved`).
TARGET_DEFAULTS: dict[str, dict] = {
    "ring8": {"n_modes": 8, "radius": 2.0, "std": 0.02},
    "grid25": {"n_modes": 5, "radius": 2.0, "std": 0.05},   # n_modes = points per side, radius = spacing
    "two_gaussians": {"n_modes": 2, "radius": 2.0, "std": 0.5},
    "three_blobs": {"n_modes": 3, "radius": 2.0, "std": 0.3},
    "line": {"n_modes": 1, "radius": 2.0, "std": 0.05},      # segment from -radius to radius on the diagonal
    "circle": {"n_modes": 1, "radius": 2.0, "std": 0.05},
    "two_moons": {"n_modes": 2, "radius": 1.0, "std": 0.05},
    "spiral": {"n_modes": 1, "radius": 3.0, "std": 0.05},
    "swiss_roll": {"n_modes": 1, "radius": 3.0, "std": 0.05},
    # the flow literature's toy sets, with FFJORD's parameters (see playground/toy/targets/literature.py)
    "gaussians8_ffjord": {"n_modes": 8, "radius": 4 / 1.414, "std": 0.5 / 1.414},
    "rings": {"n_modes": 4, "radius": 3.0, "std": 0.08},       # n_modes circles, the outer one of `radius`
    "two_spirals": {"n_modes": 2, "radius": math.pi, "std": 0.1},
    "pinwheel": {"n_modes": 5, "radius": 2.0, "std": 0.2},     # n_modes arms; std tangential (radial 3x)
    "checkerboard": {"n_modes": 4, "radius": 4.0, "std": 0.05},  # n_modes squares per side on [-r, r]^2
    "image": {"n_modes": 1, "radius": 3.0, "std": 0.05},       # a picture on [-r, r]^2, blurred by std
    "bimodal1d": {"n_modes": 2, "radius": 2.0, "std": 0.5},
    "mixture1d": {"n_modes": 2, "radius": 2.0, "std": 0.5},
    "uniform1d": {"n_modes": 1, "radius": 2.0, "std": 0.0},   # U(-radius, radius)
    "custom": {"n_modes": 1, "radius": 1.0, "std": 0.0},
}


@dataclass(frozen=True)
class TargetFields:
    """The toy target's fields, shared by every config that trains on a toy target (GAN lab, families lab), so a
    target means the same thing everywhere. Shape parameters left at None take the target's own."""

    dist: Dist = spec("ring8", "target distribution")
    n_modes: int | None = spec(None, "number of modes (ring8: points on the ring; grid25: points per side)",
                               lo=1, hi=40)
    radius: float | None = spec(None, "ring radius / grid spacing / size of the shape", lo=0.1, hi=10.0)
    std: float | None = spec(None, "standard deviation of each mode, or noise around a curve", lo=0.0, hi=5.0)
    formula: str = spec("0.5*N(-2,0.5)+0.5*N(2,0.5)", "1D mixture for dist=mixture1d, e.g. 0.3*N(-2,0.5)+0.7*N(1,1)")

    def __post_init__(self) -> None:
        fill_derived(self)

    def derived_defaults(self) -> dict:
        return dict(TARGET_DEFAULTS[self.dist])


@dataclass(frozen=True)
class ToyConfig(TargetFields):
    """A GAN on a toy 1D/2D distribution. Fields marked live change without resetting training."""

    RENAMED = {"noise_dim": "latent_dim"}   # one vocabulary across configs (README, headless use)

    # --- data (changing any resets training): the TargetFields above
    # --- models (changing any resets training)
    latent_dim: int = spec(2, "dimension of the generator's noise", lo=1, hi=8)
    noise: Noise = spec("gaussian", "noise distribution")
    g_layers: int = spec(3, "generator hidden layers", lo=1, hi=8)
    g_width: int = spec(64, "generator hidden width", lo=4, hi=512)
    d_layers: int = spec(3, "discriminator hidden layers", lo=1, hi=8)
    d_width: int = spec(64, "discriminator hidden width", lo=4, hi=512)
    activation: Activation = spec("relu", "hidden activation of both networks")
    init_offset: float = spec(0.0, "shift of the generator's initial output (a 'bad start' far from the data)",
                              lo=-10.0, hi=10.0)
    spectral_norm: bool = spec(False, "spectral normalisation of the discriminator's layers")
    g_batchnorm: bool = spec(False, "batch normalisation before each hidden activation of the generator")
    d_maxout: int = spec(1, "maxout pieces per discriminator hidden unit (1 = the plain activation)", lo=1, hi=8)
    init_std: float = spec(0.0, "initial weights drawn from N(0, init_std) with zero biases (0 = PyTorch's "
                                "default initialisation)", lo=0.0, hi=1.0)
    # --- stabilisation toolbox: architecture (changing either resets training)
    minibatch_std: bool = spec(False, "minibatch standard deviation: D also sees the spread of the batch it "
                                      "judges, so a collapsed generator stands out")
    pack: int = spec(1, "PacGAN packing: D judges this many samples at once, concatenated (1 = off)", lo=1, hi=8)
    seed: int = spec(0, "random seed: the run is fully determined by the config and this", lo=0, hi=2**31 - 1)
    # --- training (live)
    loss: Loss = spec("nonsaturating", "adversarial objective", live=True)
    r1: float = spec(0.1, "R1 penalty weight gamma (0 = off): gamma/2 * E|grad D(real)|^2", lo=0.0, hi=100.0,
                     live=True)
    gp_weight: float = spec(10.0, "gradient-penalty weight lambda for wgan_gp", lo=0.0, hi=100.0, live=True)
    clip: float = spec(0.01, "weight-clipping bound for wgan", lo=1e-4, hi=1.0, live=True)
    d_opt: Optim = spec("adam", "discriminator optimiser", live=True)
    g_opt: Optim = spec("adam", "generator optimiser", live=True)
    d_lr: float = spec(2e-3, "discriminator learning rate", lo=1e-6, hi=1.0, live=True, log=True)
    g_lr: float = spec(2e-3, "generator learning rate", lo=1e-6, hi=1.0, live=True, log=True)
    beta1: float = spec(0.5, "Adam beta1 / RMSprop-SGD momentum", lo=0.0, hi=0.999, live=True)
    lr_half_life: int = spec(2000, "learning rates halve every this many steps (0 = constant): sharpens the modes "
                                "late in training", lo=0, hi=1_000_000, live=True)
    d_steps: int = spec(1, "discriminator steps per iteration", lo=1, hi=20, live=True)
    g_steps: int = spec(1, "generator steps per iteration", lo=1, hi=20, live=True)
    batch_size: int = spec(128, "samples per step", lo=8, hi=4096, live=True)
    # --- stabilisation toolbox (live; every one off by default)
    feature_matching: bool = spec(False, "feature matching: G matches the mean of D's last hidden layer on real "
                                         "data instead of fooling D's output", live=True)
    real_label: float = spec(1.0, "one-sided label smoothing: D's target for real samples (1 = off, 0.9 is "
                                  "usual); sigmoid and least-squares objectives only", lo=0.5, hi=1.0, live=True)
    instance_noise: float = spec(0.0, "instance noise: std of Gaussian noise added to every sample D sees, "
                                      "real and generated (0 = off)", lo=0.0, hi=5.0, live=True)
    instance_noise_steps: int = spec(2000, "the instance noise falls linearly to 0 over this many steps "
                                           "(0 = constant)", lo=0, hi=1_000_000, live=True)
    hist_avg: float = spec(0.0, "historical averaging: weight λ of λ‖θ − mean of past θ‖² in each player's loss "
                                "(0 = off)", lo=0.0, hi=100.0, live=True)
    unrolled_steps: int = spec(0, "unrolled discriminator: G is scored by D after this many look-ahead updates, "
                                  "with gradients through them (0 = off)", lo=0, hi=10, live=True)
    g_ema: float = spec(0.0, "exponential moving average of G's weights, shown and measured instead of G "
                             "(decay, e.g. 0.999; 0 = off)", lo=0.0, hi=0.9999, live=True)
    # --- evaluation
    eval_samples: int = spec(2500, "fresh samples used for each metric evaluation", lo=100, hi=100_000, live=True)

    @property
    def dim(self) -> int:
        return 1 if self.dist in DISTS_1D else 2

    def validate(self) -> None:
        if self.dist == "mixture1d":
            from playground.formula import parse_mixture

            parse_mixture(self.formula)
        if self.dist not in ("uniform1d", "custom") and self.std <= 0:
            raise PlaygroundError(f"std must be positive for {self.dist}")


LIVE_FIELDS = live_fields(ToyConfig)
