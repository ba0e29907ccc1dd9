"""Every adversarial objective once, as a small frozen record chosen by name (toy lab and image trainer alike).

The losses act on D's raw output, shape (n,) or (n, 1), and return one loss per sample, shape (n,): callers
take the mean, and the toy lab differentiates single samples for its gradient arrows. With D(x) = sigmoid(l),
log D = logsigmoid(l) and log(1 - D) = logsigmoid(-l): never the log of 0, and exact in both tails (torch's
softplus switches to the identity above 20, a kink of e^-20 that float64 curves would show).

What else depends on the objective is a field of its record, never a comparison of names: how D's output
reads (`output`), the penalty or weight clipping it needs, and whether D* = p/(p+q) is D's optimum.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from playground.errors import PlaygroundError
from playground.numerics import log_ratio, sigmoid


def _flat(out: torch.Tensor) -> torch.Tensor:
    return out.reshape(-1)       # (n, 1) or (n,) -> (n,), a view


# ---- discriminator losses: (real_out, fake_out) -> per-sample loss (minimised by D)

def bce_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """-log D(x) - log(1 - D(G(z))): the minimax and non-saturating GANs share it."""
    return _flat(-F.logsigmoid(real) - F.logsigmoid(-fake))


def least_squares_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """LSGAN with labels a=0 (fake), b=1 (real): 1/2 (D(x) - 1)^2 + 1/2 D(G(z))^2."""
    return _flat(0.5 * (real - 1) ** 2 + 0.5 * fake**2)


def hinge_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """max(0, 1 - D(x)) + max(0, 1 + D(G(z))): no loss once a sample is past its margin."""
    return _flat(F.relu(1 - real) + F.relu(1 + fake))


def bce_d_loss_smoothed(real: torch.Tensor, fake: torch.Tensor, real_label: float) -> torch.Tensor:
    """One-sided label smoothing (Salimans et al. 2016): real samples get the target α = real_label, fakes keep
    0: −α log D(x) − (1 − α) log(1 − D(x)) − log(1 − D(G(z))). D's optimum becomes α p/(p+q)."""
    return _flat(-real_label * F.logsigmoid(real) - (1 - real_label) * F.logsigmoid(-real) - F.logsigmoid(-fake))


def least_squares_d_loss_smoothed(real: torch.Tensor, fake: torch.Tensor, real_label: float) -> torch.Tensor:
    """LSGAN with the real target b = α: ½(D(x) − α)² + ½D(G(z))², whose optimum is α p/(p+q) too."""
    return _flat(0.5 * (real - real_label) ** 2 + 0.5 * fake**2)


def wasserstein_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The critic maximises E f(x) - E f(G(z)); as a loss: f(G(z)) - f(x)."""
    return _flat(fake - real)


# ---- generator losses: fake_out -> per-sample loss (minimised by G)

def minimax_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """log(1 - D(G(z))): saturates (vanishing gradient) where D confidently rejects the sample."""
    return _flat(F.logsigmoid(-fake))


def nonsaturating_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """-log D(G(z)): the same fixed point as minimax, with a strong gradient where D rejects the sample."""
    return _flat(-F.logsigmoid(fake))


def least_squares_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """1/2 (D(G(z)) - 1)^2."""
    return _flat(0.5 * (fake - 1) ** 2)


def wasserstein_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """-f(G(z)); also the generator loss of the hinge GAN."""
    return _flat(-fake)


# ---- the records

@dataclass(frozen=True)
class Objective:
    """One adversarial objective and everything that depends on it.

    `output`: "logit" when D(x) = sigmoid(out) is a probability, "score" for a raw score or critic value.
    `optimal_output`: for objectives whose D optimum for a fixed G is D* = p/(p+q), the map from the logit
    of D* (log p - log q) to the raw output D should reach there; None where no such pointwise optimum exists.
    """

    name: str
    d_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    g_loss: Callable[[torch.Tensor], torch.Tensor]
    output: Literal["logit", "score"]
    d_label: str                                     # what D's output is called on screen
    formula: str
    lesson: str
    penalty: Literal["gradient_penalty"] | None = None
    clip: bool = False                               # clip D's weights after every update (original WGAN)
    optimal_output: Callable[[np.ndarray], np.ndarray] | None = None
    # the D loss with one-sided label smoothing, (real_out, fake_out, real_label) -> per-sample loss
    smoothed_d_loss: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor] | None = None

    @property
    def has_optimal_d(self) -> bool:
        return self.optimal_output is not None

    @property
    def sigmoid_output(self) -> bool:
        return self.output == "logit"

    def display(self, raw: np.ndarray) -> np.ndarray:
        """D as a reader should see it: a probability for sigmoid outputs, the raw score otherwise."""
        return sigmoid(raw) if self.sigmoid_output else np.asarray(raw, dtype=np.float64)

    def optimal_raw(self, log_p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
        """The raw output of D's optimum at points with these log-densities (see `optimal_output`)."""
        if self.optimal_output is None:
            raise PlaygroundError(f"{self.name} has no optimal discriminator D* = p/(p+q)")
        return self.optimal_output(log_ratio(log_p, log_q))

    def optimal_display(self, log_p: np.ndarray, log_q: np.ndarray, real_label: float = 1.0) -> np.ndarray:
        """D's optimum as `display` shows it: D* = p/(p+q) for every objective that has one (a probability for
        the sigmoid GANs, LSGAN's raw score), and α p/(p+q) with one-sided label smoothing α = real_label."""
        if self.optimal_output is None:
            raise PlaygroundError(f"{self.name} has no optimal discriminator D* = p/(p+q)")
        return real_label * sigmoid(log_ratio(log_p, log_q))


def _identity(a: np.ndarray) -> np.ndarray:
    return a


_BCE = "D: −log D(x) − log(1 − D(G(z)))"
_CRITIC = "critic: f(G(z)) − f(x)"

# Ordered as the toy lab offers them (the first is the default).
OBJECTIVES: dict[str, Objective] = {o.name: o for o in (
    Objective("nonsaturating", bce_d_loss, nonsaturating_g_loss, "logit", "D(x)",
              f"{_BCE} · G: −log D(G(z))",
              "The practical GAN: same fixed point as minimax, but G still learns where D rejects its samples.",
              optimal_output=_identity, smoothed_d_loss=bce_d_loss_smoothed),
    Objective("minimax", bce_d_loss, minimax_g_loss, "logit", "D(x)",
              f"{_BCE} · G: log(1 − D(G(z)))",
              "The original game: G's gradient vanishes exactly where D confidently rejects its samples.",
              optimal_output=_identity, smoothed_d_loss=bce_d_loss_smoothed),
    Objective("least_squares", least_squares_d_loss, least_squares_g_loss, "score", "D score",
              "D: ½(D(x) − 1)² + ½D(G(z))² · G: ½(D(G(z)) − 1)²",
              "LSGAN: squared errors keep pulling samples that D already classifies correctly.",
              optimal_output=sigmoid,       # the minimiser of p(o - 1)^2 + q o^2 is o = p/(p+q)
              smoothed_d_loss=least_squares_d_loss_smoothed),
    Objective("hinge", hinge_d_loss, wasserstein_g_loss, "score", "D score",
              "D: max(0, 1 − D(x)) + max(0, 1 + D(G(z))) · G: −D(G(z))",
              "Hinge (SNGAN): D stops pushing a sample once it is past the margin ±1."),
    Objective("wgan", wasserstein_d_loss, wasserstein_g_loss, "score", "critic f(x)",
              f"{_CRITIC}, weights clipped to ±c · G: −f(G(z))",
              "WGAN: a critic estimates the Wasserstein distance; weight clipping is a crude Lipschitz bound.",
              clip=True),
    Objective("wgan_gp", wasserstein_d_loss, wasserstein_g_loss, "score", "critic f(x)",
              f"{_CRITIC} + λ(‖∇f(x̂)‖ − 1)² · G: −f(G(z))",
              "WGAN-GP: a gradient penalty on real-fake interpolates keeps the critic 1-Lipschitz.",
              penalty="gradient_penalty"),
)}

NAMES: tuple[str, ...] = tuple(OBJECTIVES)


def get_objective(name: str) -> Objective:
    """The objective called `name`, or a PlaygroundError naming the choices."""
    try:
        return OBJECTIVES[name]
    except (KeyError, TypeError):
        raise PlaygroundError(f"unknown objective {name!r}; choose one of {', '.join(NAMES)}") from None
