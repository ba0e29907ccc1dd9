"""The divergence lab's explanations: what each view shows, in plain words, with the numbers of the snapshot.

Plain strings (Markdown), so the page only places them and a test can check what they say for a given result.
"""

from __future__ import annotations

import numpy as np

INTRO = ("Fit a model q to a target p by minimising a divergence. Forward KL (maximum likelihood) covers every "
         "mode; reverse KL locks onto one; Jensen-Shannon (the GAN's divergence) sits in between, and the α family "
         "moves continuously from one behaviour to the other. Values are in nats: the 1D ones are quadrature "
         "accurate to about 1e-9, the landscape's and the 2D ones sums over a lattice, accurate to about 1e-3.")
CAMERA = "PNG: use the camera button in each chart's toolbar (top right of the chart)."
FITS_PLAY = ("Press ▶ play to watch each optimisation (L-BFGS from the start that found the global best); the "
             "slider steps through it. " + CAMERA)
MEASURED = ("Each row's own divergence is smallest at its own fit; `gan_value_optimal_d` is the GAN game's value "
            "at the best discriminator, −log 4 + 2·JS.")
LANDSCAPE = ("**What you see.** The colour is log₁₀ of the divergence between the target and N(μ, σ) (yellow is "
             "small). Pink lines are the optimiser's paths from each start (open circle); red crosses are the "
             "distinct local minima they ended in and the star is the global best. Mode-seeking divergences "
             "(reverse KL, Neyman χ², α < 0) have one basin per mode; mass-covering ones (KL, Pearson χ²) one "
             "wide basin. Blank regions are where the divergence is infinite (for χ² and α outside [0, 1], q's "
             "tails must be wider or narrower than p's).")
ALPHA = ("**What you see.** D_α(p‖q) = ∫[αp + (1−α)q − p^α q^(1−α)] / (α(1−α)). Large α punishes q for missing "
         "mass where p has it (mass-covering: KL at 1, Pearson at 2); small α punishes q for putting mass where p "
         "has none (mode-seeking: reverse KL at 0, Neyman at −1). Moving the slider slides the best single "
         "Gaussian between the two behaviours; a jump in the sweep means the global best switched from covering "
         "both modes to one mode.")
ALPHA_HELP = "−1 Neyman χ², 0 reverse KL, ½ Hellinger, 1 KL, 2 Pearson χ²"
def fits_2d_story(diagonal: bool) -> str:
    """What the 2D fits show; a diagonal Gaussian can match only the diagonal of the target's covariance."""
    matched = ("mean and the diagonal of its covariance (a diagonal Gaussian cannot tilt: one axis-aligned "
               "ellipse around everything)" if diagonal else "mean and covariance (one ellipse around everything)")
    return (f"**What you see.** Each ellipse is the best Gaussian under one divergence. Forward KL matches the "
            f"target's {matched}; reverse KL and Neyman χ² settle on one blob (several equally good choices on the "
            "ring); JS depends on how far apart the blobs are.")
SATURATION = ("**Saturation.** The original (minimax) generator loss log(1 − D) is flat where the discriminator "
              "confidently rejects a fake (logit ≪ 0): its gradient vanishes exactly when the generator is worst. "
              "The non-saturating loss −log D has the same fixed point but a gradient close to −1 there, which is "
              "why GANs are trained with it.")


def minima_count(n: int) -> str:
    return f"{n} distinct local minim{'um' if n == 1 else 'a'}"


def count_modes(density, floor: float = 0.01) -> int:
    """Local maxima of a density sampled on a grid, ignoring bumps below `floor` of its peak."""
    d = np.asarray(density, dtype=float)
    peak = (d[1:-1] > d[:-2]) & (d[1:-1] >= d[2:]) & (d[1:-1] > floor * d.max())
    return int(peak.sum())


def fits_story(snap: dict) -> str:
    """What the 1D fits show, including where the textbook picture fails (JS covering the modes)."""
    by = {f["name"]: f for f in snap["fits"]}
    lines = ["**What you see.** The grey area is the target; each line is the model that minimises one divergence."]
    std = snap["std"]
    if "kl" in by and "mu" in by["kl"]["params"]:
        lines.append(f"- Forward KL is maximum likelihood: its single-Gaussian optimum matches the target's mean "
                     f"and std exactly (μ = {snap['mean']:.4g}, σ = {std:.4g}), covering every mode even if that "
                     "puts mass where the target has none.")
    if "rkl" in by:
        n = len(by["rkl"]["minima"])
        lines.append("- Reverse KL punishes q for putting mass where p has little, so it is *mode-seeking*: the "
                     f"restarts found {minima_count(n)}"
                     + (" (roughly one per mode); the global best is the heaviest mode." if n > 1 else "."))
    if "js" in by and "sigma" in by["js"]["params"]:
        s = by["js"]["params"]["sigma"]
        if count_modes(snap["p"]) < 2:          # one mode: no covering-or-picking story to tell
            lines.append(f"- Jensen-Shannon's best single Gaussian has σ = {s:.3g} (the target's std is {std:.3g}); "
                         "with a single mode there is no mode to pick or miss.")
        elif s > 0.7 * std:
            lines.append(f"- Here Jensen-Shannon's best single Gaussian is wide (σ = {s:.3g}, the target's std is "
                         f"{std:.3g}): it covers the modes, **unlike the textbook picture** where JS behaves like "
                         "reverse KL. This happens when modes overlap or are close in weight.")
        else:
            lines.append(f"- Jensen-Shannon's best single Gaussian is narrow (σ = {s:.3g}): it picks a mode, like "
                         "reverse KL. JS saturates at log 2 once q and p barely overlap, so it barely rewards "
                         "covering a far mode; check the local-minima list for its other minima.")
    return "\n".join(lines)


def factorised_story(closed_form: dict) -> str:
    """The mean-field picture: a diagonal Gaussian fitted to a correlated one under forward and reverse KL."""
    kl, rkl = closed_form["kl"], closed_form["rkl"]
    return ("**The factorised case.** For a correlated Gaussian with covariance Σ and precision Λ = Σ⁻¹, the best "
            f"*diagonal* Gaussian under forward KL has variances Σᵢᵢ = ({kl[0]:.4f}, {kl[1]:.4f}): it matches the "
            "marginals, so it is too narrow along the ellipse's long axis and puts mass across its short axis, "
            "where the target has almost none. Under reverse KL it has variances 1/Λᵢᵢ = "
            f"({rkl[0]:.4f}, {rkl[1]:.4f}): it fits inside the ellipse, too narrow along the axes (the mean-field "
            "variational picture).")


def gan_story(q_text: str) -> str:
    return (f"**What you see.** With q = `{q_text}`, the best discriminator is D*(x) = p/(p + q): above ½ where "
            "real data is likelier, below where fakes are. At D*, the GAN's value is −log 4 + 2·JS(p‖q), so a "
            "generator trained against a perfect discriminator minimises Jensen-Shannon. Where p and q barely "
            "overlap, D* is 0 or 1 almost everywhere and JS is stuck near log 2: the gradient problem below.")
