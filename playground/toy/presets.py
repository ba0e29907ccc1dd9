"""One-click lessons for the GAN lab: each is a name, a short explanation and config overrides."""

from __future__ import annotations

from playground.presets import Preset

PRESETS: dict[str, Preset] = {
    "default": Preset(
        "Default: ring of 8 Gaussians",
        "The page's defaults. Watch D (the heatmap) light up the modes the generator has not found yet, "
        "and the purple samples follow the arrows towards them.",
        {}),
    "minimax_bad_start": Preset(
        "Minimax loss from a bad start (saturation)",
        "The generator starts far from the data and D quickly becomes confident. With the minimax loss "
        "log(1 − D(G(z))) the gradient vanishes where D ≈ 0: the arrows are almost invisible and G barely "
        "moves. Switch the loss to non-saturating while it runs and watch the arrows come back. (R1 is off so "
        "that D may become confident.)",
        {"dist": "two_gaussians", "loss": "minimax", "init_offset": 4.0, "d_steps": 5, "d_lr": 1e-3, "g_lr": 2e-4,
         "r1": 0.0, "lr_half_life": 0}),
    "nonsaturating_bad_start": Preset(
        "Non-saturating loss from the same bad start",
        "Same start as the minimax lesson, but G minimises −log D(G(z)), whose gradient is largest exactly "
        "where D rejects the samples: G walks to the data.",
        {"dist": "two_gaussians", "loss": "nonsaturating", "init_offset": 4.0, "d_steps": 5, "d_lr": 1e-3, "g_lr": 2e-4,
         "r1": 0.0, "lr_half_life": 0}),
    "mode_collapse_ring8": Preset(
        "Mode collapse on ring8",
        "A fast generator against a slow discriminator: G chases whichever mode D currently likes, so the "
        "samples hop between a few modes instead of covering all eight (watch 'modes covered').",
        {"dist": "ring8", "g_lr": 2e-3, "d_lr": 2e-4, "beta1": 0.5, "batch_size": 64, "g_steps": 2,
         "noise_dim": 1, "lr_half_life": 0}),
    "wgan_gp_grid25": Preset(
        "WGAN-GP on grid25",
        "A Wasserstein critic with gradient penalty (λ = 10) and five critic steps per generator step. The "
        "heatmap is now a critic score, not a probability; the arrows follow its slope. It is slow and blurry "
        "here (about 20 iterations a second; after 3,000 it covered 13 to 19 of the 25 modes with only ~2% of "
        "samples close to a mode centre): compare with the default non-saturating GAN with R1.",
        {"dist": "grid25", "loss": "wgan_gp", "d_steps": 5, "d_lr": 1e-4, "g_lr": 1e-4, "beta1": 0.5,
         "gp_weight": 10.0, "lr_half_life": 0}),
    "bimodal_1d": Preset(
        "1D: a large and a small mode",
        "In 1D the optimal discriminator D*(x) = p/(p+q) is drawn next to the learned D(x): where they "
        "disagree, D has not caught up with the generator.",
        {"dist": "bimodal1d", "noise_dim": 1}),
}
