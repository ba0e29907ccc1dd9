"""One-click lessons for the GAN lab: each is a name, a short explanation and config overrides."""

from __future__ import annotations

from playground.presets import Preset

# The mode-collapse start that every toolbox lesson is measured on (fix off); each fix's preset adds one fix.
MODE_COLLAPSE = {"dist": "ring8", "g_lr": 2e-3, "d_lr": 2e-4, "beta1": 0.5, "batch_size": 64, "g_steps": 2,
                 "latent_dim": 1, "lr_half_life": 0}
_PAIR = ("Open 'Mode collapse on ring8' first, then this one: same seed, one change. Measured "
         "(seed 0, 2,500 samples at steps 1,000 / 2,000 / 3,000 / 4,000; without the fix 0 / 0 / 0 / 0 modes): ")

# fix -> (title, what it does here, overrides on top of MODE_COLLAPSE, what we measured)
FIXES: dict[str, tuple[str, str, dict, str]] = {
    "unrolled": ("unrolled D (k = 5)", "G is scored by D five updates ahead, so chasing one mode is answered "
                 "before it pays off. About ten times slower per step.", {"unrolled_steps": 5},
                 "6 / 7 / 6 / 8 modes."),
    "pack": ("packing (PacGAN, m = 2)", "D judges two samples at once: two samples from the same mode give a "
             "collapsed G away.", {"pack": 2}, "4 / 6 / 4 / 7 modes."),
    "minibatch_std": ("minibatch std feature", "D sees the spread of each batch; a collapsed batch has none.",
                      {"minibatch_std": True}, "3 / 5 / 7 / 6 modes."),
    "ttur": ("two time-scale learning rates (TTUR)", "The start's rates swapped: D learns ten times faster "
             "than G (2e-3 vs 2e-4), so D keeps up with the mode G runs to.", {"d_lr": 2e-3, "g_lr": 2e-4},
             "6 / 5 / 5 / 8 modes."),
    "feature_matching": ("feature matching", "G matches D's mean features on real data instead of chasing "
                         "D's favourite point.", {"feature_matching": True}, "2 / 5 / 7 / 6 modes."),
    "r1": ("a strong R1 penalty (γ = 1)", "D's slope at the data is penalised ten times harder than the "
           "default.", {"r1": 1.0}, "1 / 0 / 7 / 8 modes: late, but it gets there."),
    "label_smoothing": ("one-sided label smoothing (α = 0.9)", "D never aims at certainty on real data.",
                        {"real_label": 0.9}, "0 / 0 / 0 / 0: it tempers D but is no cure for collapse."),
    "instance_noise": ("instance noise (σ = 0.5, annealed over 2,000 steps)", "Blurred samples overlap, so D's "
                       "gradient exists everywhere.", {"instance_noise": 0.5},
                       "0 / 0 / 0 / 0: smoothing the game does not stop the chase here."),
    "hist_avg": ("historical averaging (λ = 1)", "Both players are pulled towards their past average.",
                 {"hist_avg": 1.0}, "0 / 0 / 0 / 0: the pull is too weak against these learning rates."),
    "spectral_norm": ("spectral norm on D", "D's layers are 1-Lipschitz.", {"spectral_norm": True},
                      "0 / 0 / 0 / 0 here."),
    "g_ema": ("EMA of G (0.999)", "Shows the average of G's recent weights instead of G.", {"g_ema": 0.999},
              "0 / 0 / 0 / 0: averaging a generator that hops between modes lands between them."),
}

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
        dict(MODE_COLLAPSE)),
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
        {"dist": "bimodal1d", "latent_dim": 1}),
}
PRESETS.update({f"fix_{name}": Preset(f"Mode collapse fixed? {title}", f"{what} {_PAIR}{measured}",
                                      {**MODE_COLLAPSE, **changes})
                for name, (title, what, changes, measured) in FIXES.items()})

# fix -> (preset without it, preset with it): the pairs a side-by-side view would open in lockstep
LESSON_PAIRS: dict[str, tuple[str, str]] = {name: ("mode_collapse_ring8", f"fix_{name}") for name in FIXES}
