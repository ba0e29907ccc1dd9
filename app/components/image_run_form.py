"""The Train page's "New run" form: ImageRunConfig's widgets, only those the chosen model family uses.

Every widget is keyed by its config field (config_widgets), so a preset, the URL and the form agree; settings
that do not apply to the family keep their values and are left out of the form.
"""

from __future__ import annotations

import streamlit as st

from app.components.config_widgets import seed_state, widget
from playground.images.config import CONDITIONAL_MODELS, MODEL_LOSS, PRESETS, RESOLUTIONS, ImageRunConfig
from playground.objectives import get_objective

SS = st.session_state
UNET_LEVELS = ("1,2", "1,2,2", "1,2,4", "1,2,2,2")       # channel multipliers, one per U-Net level
FAMILY_NOTE = {
    "gan": "a generator against a discriminator: sharp samples, no likelihood",
    "vae": "encoder and decoder trained on the ELBO: a bound on the likelihood",
    "pixelcnn": "pixels one at a time in raster order: an exact likelihood (nats, bits/dim) on binarised "
                "images; sampling draws one pixel at a time",
    "denoiser": "a U-Net that undoes noise (diffusion) or follows a velocity field (flow matching) over many "
                "sampling steps",
}


def _on_preset(p: str) -> None:
    name = SS[p + "preset"]
    if name in PRESETS:
        seed_state(ImageRunConfig, PRESETS[name].config(ImageRunConfig), p, force=True)


def _on_model(p: str) -> None:
    """A new model starts with its published objective (a GAN; others have none) and unconditional unless it
    can take labels (the user may then change either)."""
    model = SS[p + "model"]
    SS[p + "loss"] = MODEL_LOSS.get(model)
    if model not in CONDITIONAL_MODELS:
        SS[p + "conditional"] = False
    if model not in MODEL_LOSS:                      # augmentation is of what a GAN's D sees
        SS[p + "augment"] = "none"
    defaults = ImageRunConfig(model=model)
    if model in ("diffusion", "flow_matching"):      # the model's own default number of sampling steps
        SS[p + "sample_steps"] = defaults.sample_steps


def _resolution(p: str) -> None:
    # A selectbox shows None as "no choice", so "the dataset's own" is 0 here and None in the config.
    SS[p + "res_choice"] = SS.get(p + "resolution") or 0

    def on_change() -> None:
        SS[p + "resolution"] = SS[p + "res_choice"] or None

    st.selectbox("resolution", [0, *RESOLUTIONS], key=p + "res_choice", on_change=on_change,
                 format_func=lambda r: "dataset's own" if not r else f"{r}x{r}")


def _unet_levels(p: str) -> None:
    """unet_mults as a choice of common depths (a multiselect cannot hold the repeated multipliers)."""
    have = ",".join(str(int(m)) for m in SS.get(p + "unet_mults") or (1, 2, 2))
    SS[p + "unet_choice"] = have
    opts = list(UNET_LEVELS) + ([have] if have not in UNET_LEVELS else [])

    def on_change() -> None:
        SS[p + "unet_mults"] = [int(v) for v in SS[p + "unet_choice"].split(",")]

    st.selectbox("U-Net channel multipliers (one per level)", opts, key=p + "unet_choice", on_change=on_change,
                 help=ImageRunConfig.__dataclass_fields__["unet_mults"].metadata.get("help"))


def _gan_settings(p: str, model: str) -> None:
    c1, c2, c3 = st.columns(3)
    widget(ImageRunConfig, "g_width", p, c1, label="G width", step=8)
    widget(ImageRunConfig, "d_width", p, c2, label="D width", step=8)
    widget(ImageRunConfig, "latent_dim", p, c3, label="z dim")
    widget(ImageRunConfig, "extra_layers", p, label="extra 3x3 conv layers in G" + ("" if model == "cgan"
                                                                                    else " and D"))
    widget(ImageRunConfig, "g_lr", p, label="G learning rate")
    widget(ImageRunConfig, "d_lr", p, label="D learning rate")
    c1, c2 = st.columns(2)
    widget(ImageRunConfig, "beta1", p, c1, label="Adam β1", step=0.1)
    widget(ImageRunConfig, "beta2", p, c2, label="Adam β2", step=0.001, format="%.3f")
    widget(ImageRunConfig, "d_steps", p, label="D steps per G step")
    widget(ImageRunConfig, "augment", p, label="augment what D sees (DiffAugment)")
    objective = get_objective(SS[p + "loss"])
    if objective.penalty == "gradient_penalty":
        widget(ImageRunConfig, "gp_weight", p, label="gradient penalty λ", step=1.0)
    if objective.clip:
        widget(ImageRunConfig, "clip", p, label="weight clipping c", format="%.3f", step=0.005)


def _one_net_settings(p: str, model: str) -> None:
    """VAE, PixelCNN and the denoisers: one network, one learning rate."""
    if model == "vae":                   # the VAE lab's conv VAE: one width for encoder and decoder
        c1, c2 = st.columns(2)
        widget(ImageRunConfig, "d_width", p, c1, label="VAE width", step=8)
        widget(ImageRunConfig, "latent_dim", p, c2, label="z dim")
        widget(ImageRunConfig, "kl_weight", p, label="KL weight β", step=0.1)
        widget(ImageRunConfig, "binarize", p, label="binarised pixels (ELBO comparable with PixelCNN)")
    elif model == "pixelcnn":
        c1, c2 = st.columns(2)
        widget(ImageRunConfig, "pixelcnn_width", p, c1, label="channels", step=8)
        widget(ImageRunConfig, "pixelcnn_blocks", p, c2, label="residual blocks")
        widget(ImageRunConfig, "pixelcnn_maps", p, label="class-and-position maps (channels; 0: a class bias only)",
               step=4)
    else:
        c1, c2 = st.columns(2)
        widget(ImageRunConfig, "unet_width", p, c1, label="U-Net width", step=8)
        widget(ImageRunConfig, "unet_blocks", p, c2, label="blocks per level")
        _unet_levels(p)
        if model == "diffusion":
            c1, c2 = st.columns(2)
            widget(ImageRunConfig, "timesteps", p, c1, label="noise levels T", step=100)
            widget(ImageRunConfig, "schedule", p, c2)
            widget(ImageRunConfig, "sampler", p)
        else:
            widget(ImageRunConfig, "solver", p, label="ODE solver")
        widget(ImageRunConfig, "sample_steps", p, label="sampling steps (grids and scores)")
    widget(ImageRunConfig, "g_lr", p, label="learning rate")
    c1, c2 = st.columns(2)
    widget(ImageRunConfig, "beta1", p, c1, label="Adam β1", step=0.1)
    widget(ImageRunConfig, "beta2", p, c2, label="Adam β2", step=0.001, format="%.3f")


def new_run_form(p: str) -> bool:
    """Draw the form in the current container (the sidebar); True when "Launch run" was pressed."""
    st.header("New run")
    st.selectbox("Preset", list(PRESETS), key=p + "preset", format_func=lambda k: PRESETS[k].title,
                 on_change=_on_preset, args=(p,), help="known-good starting points")
    st.caption(PRESETS[SS[p + "preset"]].lesson)
    widget(ImageRunConfig, "dataset", p)
    if SS[p + "dataset"] in ("folder", "npz", "mnist", "fashion_mnist", "cifar10", "celeba"):
        widget(ImageRunConfig, "data_path", p, label="data folder / file")
    _resolution(p)
    widget(ImageRunConfig, "model", p, on_change=_on_model, args=(p,))
    model = SS[p + "model"]
    family = ImageRunConfig(model=model).family
    st.caption(FAMILY_NOTE[family])
    if family == "gan":
        SS[p + "loss"] = SS.get(p + "loss") or MODEL_LOSS[model]
        widget(ImageRunConfig, "loss", p, label="objective (any, with any architecture)")
        st.caption(get_objective(SS[p + "loss"]).formula)
    else:
        SS[p + "loss"] = None                    # the other families train on their own objective
    if model == "cgan":
        st.caption("class-conditional: G and D see the labels; the sample grid has one row per class")
    elif model in CONDITIONAL_MODELS:
        widget(ImageRunConfig, "conditional", p, label="class-conditional (one row per class in the grid)")
    c1, c2 = st.columns(2)
    widget(ImageRunConfig, "steps", p, c1, step=100)
    widget(ImageRunConfig, "batch_size", p, c2, step=16)
    with st.expander("Model and optimiser"):
        (_gan_settings if family == "gan" else _one_net_settings)(p, model)
        widget(ImageRunConfig, "ema_decay", p, label="EMA decay of the sampling weights", step=0.001,
               format="%.4f")
        widget(ImageRunConfig, "seed", p)
    with st.expander("Hardware"):
        widget(ImageRunConfig, "device", p)
        c1, c2 = st.columns(2)
        widget(ImageRunConfig, "amp", p, c1, label="mixed precision")
        widget(ImageRunConfig, "channels_last", p, c2, label="channels last")
        widget(ImageRunConfig, "threads", p, label="CPU threads (0 = default)")
        st.number_input("processes (torchrun, DDP)", 1, 16, key=p + "nproc",
                        help="more than one starts the trainer under torchrun: gloo on CPU, NCCL on GPUs")
    with st.expander("Logging and scores"):
        widget(ImageRunConfig, "sample_every", p, step=50)
        widget(ImageRunConfig, "checkpoint_every", p, step=100)
        widget(ImageRunConfig, "eval_every", p, label="score every (0 = at the end)", step=100)
        widget(ImageRunConfig, "eval_samples", p, label="images per score", step=100)
        widget(ImageRunConfig, "features", p, label="score features")
        widget(ImageRunConfig, "log_every", p)
    st.text_input("runs folder", key=p + "runs_dir", help="where run directories live (default: $PLAYGROUND_RUNS "
                  "or runs/)")
    st.text_input("run name (optional)", key=p + "name")
    return st.button("Launch run", type="primary", key=p + "launch", icon=":material/rocket_launch:",
                     width="stretch")
