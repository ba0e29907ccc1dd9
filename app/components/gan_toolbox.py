"""The GAN lab's stabilisation toolbox: one widget per ToyConfig toolbox field, each with a one-line lesson."""

from __future__ import annotations

import streamlit as st

from app.components.config_widgets import widget
from playground.objectives import Objective
from playground.toy.config import ToyConfig

# field -> (label, what it does, in one line); the order is the order on the page
LESSONS: dict[str, tuple[str, str]] = {
    "r1": ("R1 penalty γ", "Penalises D's slope at real data: D cannot sharpen without bound, so training "
                           "settles instead of orbiting (Mescheder et al. 2018)."),
    "spectral_norm": ("spectral norm on D (resets)", "Caps every layer's gain at 1: D is Lipschitz, its "
                                                     "gradients stay informative (Miyato et al. 2018)."),
    "feature_matching": ("feature matching", "G matches the batch mean of D's last hidden layer on real data "
                                             "instead of fooling D (Salimans et al. 2016)."),
    "minibatch_std": ("minibatch std feature (resets)", "D also sees the batch's spread: a collapsed batch is "
                                                        "easy to spot, so G is pushed to spread out."),
    "real_label": ("one-sided label smoothing α", "D aims at α < 1 on real data, never at certainty; its "
                                                  "optimum becomes α·p/(p+q) (drawn in 1D)."),
    "instance_noise": ("instance noise σ", "Blurs real and generated samples alike so their supports overlap "
                                           "and D's gradient is defined everywhere; annealed to 0."),
    "instance_noise_steps": ("noise annealed over (steps)", ""),
    "hist_avg": ("historical averaging λ", "Each player is pulled towards the mean of its own past "
                                            "parameters, which damps the circling of the two players."),
    "unrolled_steps": ("unrolled D: look-ahead steps k", "G is scored by D after k more updates, so G sees "
                                                         "D's answer to its move (Metz et al. 2017); slow."),
    "pack": ("packing m (PacGAN, resets)", "D judges m samples at once: a generator that repeats itself "
                                           "is caught (Lin et al. 2018)."),
    "g_ema": ("EMA of G (decay)", "Shows and measures an exponential moving average of G's weights, which "
                                  "smooths the generator's oscillations away."),
}
STEPS = {"r1": 0.1, "real_label": 0.05, "instance_noise": 0.05, "instance_noise_steps": 500, "hist_avg": 0.1,
         "g_ema": 0.001}
FORMATS = {"g_ema": "%.4f", "real_label": "%.2f"}


def _is_on(prefix: str, name: str) -> bool:
    value = st.session_state.get(prefix + name, getattr(ToyConfig(), name))
    return value != getattr(ToyConfig(), name)


def gan_toolbox(prefix: str, objective: Objective) -> None:
    """Draw the toolbox (R1 and spectral norm first) in an expander, open when any fix is switched on."""
    fixes = [k for k in LESSONS if k not in ("r1", "instance_noise_steps")]
    with st.expander("Stabilisation toolbox", expanded=any(_is_on(prefix, k) for k in fixes)):
        for name, (label, lesson) in LESSONS.items():
            if name == "instance_noise_steps" and not st.session_state.get(prefix + "instance_noise"):
                continue
            kwargs = {"step": STEPS[name]} if name in STEPS else {}
            if name in FORMATS:
                kwargs["format"] = FORMATS[name]
            widget(ToyConfig, name, prefix, label=label, **kwargs)
            if name == "real_label" and objective.smoothed_d_loss is None:
                lesson = f"Not used by the {objective.name} objective (no probability to smooth)."
            if lesson:
                st.caption(lesson)
        st.caption("Two time-scale learning rates (TTUR): give D a larger learning rate than G under "
                   "Optimisation, or load the 'TTUR' lesson preset.")
