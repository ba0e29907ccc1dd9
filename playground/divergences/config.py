"""DivergenceConfig: every setting of the divergence lab (page widgets, saved JSON and the URL come from it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from playground.configs import spec
from playground.divergences.densities import PRESETS_1D, TARGETS_2D, resolve_target_1d
from playground.divergences.measures import NAMES, NAMES_2D, parse_divergence
from playground.errors import PlaygroundError

Family1D = Literal["gaussian", "mixture"]
Family2D = Literal["gaussian", "gaussian_diag"]
Target2D = Literal["two_blobs", "ring", "correlated"]
View = Literal["fits", "landscape", "alpha", "2d", "gan"]
PARAM_2D_DEFAULTS = {"two_blobs": 4.0, "ring": 2.0, "correlated": 0.9}
# The page's slider for the 2D target's parameter: label, min, max, step.
PARAM_2D_SLIDERS = {"two_blobs": ("separation", 1.0, 8.0, 0.25), "ring": ("radius", 1.0, 4.0, 0.25),
                    "correlated": ("correlation ρ", -0.95, 0.95, 0.05)}


@dataclass(frozen=True)
class DivergenceConfig:
    """The divergence lab: a 1D target and the divergences fitted to it, the α slider, a 2D case, the GAN link."""

    view: View = spec("fits", "the view shown: fits, landscape, alpha, 2d or gan")
    # --- 1D target and fits
    target: str = spec(PRESETS_1D["lecture"][0], "1D target: a formula like 0.3*N(-2,0.5)+0.7*N(1.5,1) (N takes "
                       "the std; U(low,high) parts allowed) or a preset name")
    divergences: tuple[str, ...] = spec(("kl", "rkl", "js"), "divergences fitted and overlaid: "
                                        + ", ".join(NAMES) + " or alpha:<value>", min_len=1, max_len=8)
    family: Family1D = spec("gaussian", "model family: one Gaussian, or a mixture of `components` Gaussians")
    components: int = spec(2, "number of Gaussians of the mixture family", lo=1, hi=5)
    restarts: int = spec(12, "starts of the multi-start fit", lo=1, hi=200)
    live: bool = spec(True, "refit as soon as a setting changes (off: only when Fit is pressed)")
    seed: int = spec(0, "seed of the random starts", lo=0, hi=2**31 - 1)
    # --- landscape and α family
    landscape: str = spec("rkl", "divergence drawn over (μ, σ) in the landscape view")
    alpha: float = spec(0.5, "α of the α-divergence family (−1 Neyman, 0 reverse KL, ½ Hellinger, 1 KL, 2 Pearson)",
                        lo=-3.0, hi=4.0)
    # --- GAN link
    gan_q: str = spec("", "model q of the GAN panel: a formula, or empty for the first divergence's fit")
    # --- 2D
    target2d: Target2D = spec("correlated", "2D target")
    param2d: float | None = spec(None, "two_blobs: separation; ring: radius; correlated: correlation "
                                 "(empty: the target's default)", lo=-20.0, hi=20.0)
    family2d: Family2D = spec("gaussian_diag", "2D model: Gaussian with full or diagonal covariance")
    divergences2d: tuple[str, ...] = spec(("kl", "rkl"), "divergences fitted in 2D: " + ", ".join(NAMES_2D)
                                          + " or alpha:<value>", max_len=8)

    def validate(self) -> None:
        resolve_target_1d(self.target)
        for n in self.divergences:
            parse_divergence(n)
        parse_divergence(self.landscape)
        if self.gan_q.strip():
            resolve_target_1d(self.gan_q)
        for n in self.divergences2d:
            if parse_divergence(n).kind == "w1":
                raise PlaygroundError("divergences2d: w1 is available in 1D only")
        if self.param2d is not None:
            from playground.divergences.densities import target_2d

            target_2d(self.target2d, self.param2d)
        if self.target2d not in TARGETS_2D:  # pragma: no cover - Literal already checks
            raise PlaygroundError(f"unknown 2D target {self.target2d}")

    @property
    def divergence_list(self) -> list[str]:
        return [parse_divergence(n).name for n in self.divergences]

    @property
    def divergence_list_2d(self) -> list[str]:
        return [parse_divergence(n).name for n in self.divergences2d]

    @property
    def param2d_value(self) -> float:
        return PARAM_2D_DEFAULTS[self.target2d] if self.param2d is None else self.param2d
