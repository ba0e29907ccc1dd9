"""One-click lessons of the games page (the one Preset type): each shows what one fix does to the game."""

from __future__ import annotations

from playground.presets import Preset

GAME_PRESETS: dict[str, Preset] = {
    "simultaneous": Preset(
        "Simultaneous steps spiral out",
        "Both players step at once along a field that circles the equilibrium: every step multiplies "
        "|z|² by exactly 1 + η², so the path spirals outwards.", {}),
    "alternating": Preset(
        "Alternating steps orbit",
        "x moves first, then y answers the new x: the step keeps x² + y² − η·x·y fixed, so the path circles "
        "forever, neither converging nor diverging; the average of the iterates does converge.",
        {"method": "alternating"}),
    "smaller_step": Preset(
        "A smaller step only slows the spiral",
        "η = 0.02 instead of 0.1: the growth per step, 1 + η², is tiny, but it compounds over the (five "
        "times more) steps needed to go round once.", {"lr": 0.02, "steps": 1000}),
    "hist_avg": Preset(
        "Historical averaging damps the circling",
        "Each player is also pulled towards the mean of its own past values: the spiral turns inwards.",
        {"hist_avg": 0.5, "steps": 1000}),
    "consensus": Preset(
        "Consensus optimisation converges",
        "Both players also descend ½|v|², the field's squared length: on x·y each step multiplies |z|² by "
        "(1 − η c)² + η², below 1 here, so the path spirals into the equilibrium.", {"consensus": 1.0}),
    "dirac": Preset(
        "The Dirac GAN with simultaneous steps",
        "A generator that is one point θ against a linear D(x) = ψx, with data at 0: near the equilibrium "
        "the same circling as x·y (slope ½).", {"game": "dirac", "steps": 500}),
    "dirac_r1": Preset(
        "The Dirac GAN with R1",
        "R1 penalises D's slope at the data, γ/2 ψ²: the discriminator's part of the field now points "
        "inwards and the path converges to θ = 0 (Mescheder et al. 2018).", {"game": "dirac", "r1": 1.0}),
}
