"""ImageRunConfig: every setting of an image-model run (CLI flags, the Train page's widgets, config.json).

A run is fully determined by its config (and the dataset files): the seed drives every random draw.
`batch_size` is per process; under torchrun each of N processes draws its own batch (global batch N * batch_size).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from playground.configs import fill_derived, from_dict, spec, to_dict
from playground.errors import PlaygroundError
from playground.images.augment import POLICIES as AUGMENT_POLICIES
from playground.objectives import NAMES as OBJECTIVE_NAMES
from playground.objectives import Objective, get_objective
from playground.presets import Preset

Dataset = Literal["digits", "sprites", "mnist5k", "mnist", "fashion_mnist", "cifar10", "celeba", "folder", "npz"]
Model = Literal["dcgan", "wgan_gp", "sngan", "cgan", "pixelcnn", "diffusion", "flow_matching", "vae"]
Device = Literal["auto", "cpu", "cuda", "mps"]
Features = Literal["auto", "classifier", "random", "inception"]
Augment = Literal[AUGMENT_POLICIES]
Loss = Literal[OBJECTIVE_NAMES]          # the objectives table decides the choices, as in the toy lab

# The objective each GAN architecture was published with: what `loss` means when a config leaves it out.
MODEL_LOSS = {"dcgan": "nonsaturating", "wgan_gp": "wgan_gp", "sngan": "hinge", "cgan": "hinge"}
GAN_MODELS = tuple(MODEL_LOSS)
# Each model's family: which networks it builds, which step trains it and how it samples (families.py).
FAMILY = {**{m: "gan" for m in GAN_MODELS}, "vae": "vae", "pixelcnn": "pixelcnn", "diffusion": "denoiser",
          "flow_matching": "denoiser"}
CONDITIONAL_MODELS = ("cgan", "pixelcnn", "diffusion", "flow_matching")   # those that can take class labels
SAMPLE_STEPS = {"diffusion": 50, "flow_matching": 25}                     # a left-out sample_steps
NATIVE_RESOLUTION = {"mnist5k": 28}        # datasets trained at their own size by default (not a power of two)

RESOLUTIONS = (8, 16, 28, 32, 64)
AUTO_RESOLUTIONS = (8, 16, 32, 64)         # what a left-out resolution rounds a dataset's own size up to


@dataclass(frozen=True)
class ImageRunConfig:
    """An image model (GAN, conditional GAN, PixelCNN, diffusion, flow matching or VAE) trained on one dataset;
    written to the run directory as config.json."""

    # --- data
    dataset: Dataset = spec("digits", "image dataset (digits and sprites need no download)")
    data_path: str = spec("data", "data folder (torchvision sets), image folder (folder) or .npz file (npz)")
    resolution: int | None = spec(None, "image size in pixels (8, 16, 28, 32 or 64); default: the dataset's own "
                                  "(mnist5k: 28), else rounded up to a power of two and capped at 64", lo=8, hi=64)
    # --- model
    model: Model = spec("dcgan", "architecture: dcgan (BN in D), wgan_gp (critic without BN), sngan (spectral "
                        "norm in D), cgan (class-conditional BN in G, projection D), pixelcnn (masked convolutions "
                        "on binarised pixels), diffusion (DDPM/DDIM with a U-Net), flow_matching (rectified flow "
                        "with a U-Net) or vae (the VAE lab's convolutional VAE)")
    loss: Loss | None = spec(None, "adversarial objective, any with any GAN architecture (default: the model's "
                             "published one: dcgan nonsaturating, wgan_gp wgan_gp, sngan and cgan hinge; none for "
                             "the other models)")
    conditional: bool = spec(False, "condition on the class labels (cgan always is; pixelcnn, diffusion and "
                             "flow_matching may; needs a labelled dataset)")
    binarize: bool = spec(False, "train on pixels thresholded at 0.5 (pixelcnn always does; a vae that does "
                          "has an ELBO comparable with pixelcnn's likelihood)")
    g_width: int = spec(64, "generator base width (channels of its last hidden layer; unused by vae)", lo=4, hi=512)
    d_width: int = spec(64, "discriminator base width (channels of its first layer); vae: its deepest conv layer "
                        "has d_width * 2^(stages-1) channels", lo=4, hi=512)
    latent_dim: int = spec(32, "noise (GAN) or latent (VAE) dimension", lo=1, hi=512)
    extra_layers: int = spec(1, "extra 3x3 conv layers (with BN) in G and the DCGAN-style D at half the image's "
                             "size (DCGAN's n_extra_layers): depth for 8x8 and 16x16 images", lo=0, hi=4)
    pixelcnn_width: int = spec(64, "PixelCNN channels (pixelcnn)", lo=4, hi=512)
    pixelcnn_blocks: int = spec(5, "PixelCNN residual blocks of masked 3x3 convs (pixelcnn)", lo=1, hi=20)
    pixelcnn_maps: int = spec(16, "channels per class and pixel of the learned maps that tell each layer the class "
                              "and the position (pixelcnn; 0: a class bias only)", lo=0, hi=64)
    unet_width: int = spec(32, "U-Net base channels (diffusion, flow_matching)", lo=8, hi=256)
    unet_mults: tuple[int, ...] = spec((1, 2, 2), "U-Net channel multipliers, one level each (the image side "
                                       "must divide by 2^(levels-1))", lo=1, hi=8, min_len=1, max_len=4)
    unet_blocks: int = spec(1, "U-Net residual blocks per level", lo=1, hi=4)
    timesteps: int = spec(1000, "diffusion noise levels T", lo=10, hi=4000)
    schedule: Literal["cosine", "linear"] = spec("cosine", "diffusion noise schedule")
    sampler: Literal["ddim", "ddpm"] = spec("ddim", "diffusion sampler (ddim: deterministic)")
    solver: Literal["euler", "midpoint"] = spec("midpoint", "flow-matching ODE solver")
    sample_steps: int | None = spec(None, "sampling steps of diffusion (default 50) and flow matching (default "
                                    "25): samples, grids and scores", lo=1, hi=1000)
    # --- optimisation
    batch_size: int = spec(64, "images per step and process", lo=2, hi=4096)
    steps: int = spec(4000, "generator (or VAE) updates to train for", lo=1, hi=10_000_000)
    g_lr: float = spec(2e-4, "generator (VAE: model) learning rate", lo=1e-6, hi=1.0, log=True)
    d_lr: float = spec(2e-4, "discriminator learning rate", lo=1e-6, hi=1.0, log=True)
    beta1: float = spec(0.5, "Adam beta1", lo=0.0, hi=0.999)
    beta2: float = spec(0.999, "Adam beta2", lo=0.0, hi=0.9999)
    augment: Augment = spec("none", "differentiable augmentation of every image D sees, real and fake alike "
                            "(DiffAugment: whole-pixel translation up to 1/8 of the side, cutout of a half-side "
                            "square): keeps D from memorising a small training set (GANs)")
    d_steps: int = spec(1, "discriminator steps per generator step (WGAN-GP: 5)", lo=1, hi=20)
    gp_weight: float = spec(10.0, "gradient-penalty weight lambda (loss wgan_gp)", lo=0.0, hi=1000.0)
    clip: float = spec(0.01, "weight-clipping bound of the critic (loss wgan)", lo=1e-4, hi=1.0)
    kl_weight: float = spec(1.0, "weight of the KL term (vae; 1 = the ELBO)", lo=0.0, hi=100.0)
    ema_decay: float = spec(0.999, "EMA decay of the generator's weights used for sampling (0 = off)",
                            lo=0.0, hi=0.99999)
    # --- hardware
    device: Device = spec("auto", "training device: auto picks CUDA, then Apple MPS, then CPU")
    amp: bool = spec(True, "mixed precision (bfloat16, or float16 with loss scaling) on CUDA")
    channels_last: bool = spec(True, "channels-last memory format on CUDA")
    threads: int = spec(0, "CPU threads for torch (0 = torch's default)", lo=0, hi=256)
    seed: int = spec(0, "random seed: the run is determined by the config and this", lo=0, hi=2**31 - 1)
    # --- logging and evaluation
    log_every: int = spec(10, "write a metrics line every N steps", lo=1, hi=100_000)
    sample_every: int = spec(200, "save a sample grid (fixed noise) every N steps", lo=1, hi=1_000_000)
    checkpoint_every: int = spec(500, "write the latest checkpoint every N steps", lo=1, hi=1_000_000)
    eval_every: int = spec(500, "compute FID/KID/precision/recall every N steps (0 = only at the end)",
                           lo=0, hi=1_000_000)
    eval_samples: int = spec(500, "generated images per evaluation", lo=16, hi=100_000)
    final_eval: bool = spec(True, "score the finished run (FID/KID/precision/recall on eval_samples images)")
    features: Features = spec("auto", "feature extractor of the scores: the project's classifier for the "
                              "dataset (auto), a fixed random CNN, or Inception-v3 if its weights are local")

    RENAMED = {"z_dim": "latent_dim", "batch": "batch_size", "data_root": "data_path"}   # one vocabulary (README)
    RETIRED = ("runs_dir",)   # where runs go is playground.runs.root.runs_root() (or --out), not the config
    SAVED_BEFORE = {"pixelcnn_maps": 0}   # runs saved before the field had no maps (configs.from_saved)

    def __post_init__(self) -> None:
        fill_derived(self)

    def derived_defaults(self) -> dict:
        """The one place left-out settings that depend on the model or dataset are resolved: a GAN's published
        objective, the sampling steps of diffusion and flow matching, mnist5k's own 28x28 size."""
        out: dict = {}
        if self.model in MODEL_LOSS:
            out["loss"] = MODEL_LOSS[self.model]
        if self.model in SAMPLE_STEPS:     # diffusion visits at most its T noise levels
            out["sample_steps"] = min(SAMPLE_STEPS[self.model], self.timesteps) if self.model == "diffusion" \
                else SAMPLE_STEPS[self.model]
        if self.dataset in NATIVE_RESOLUTION:
            out["resolution"] = NATIVE_RESOLUTION[self.dataset]
        return out

    def validate(self) -> None:
        if not self.is_gan and self.loss is not None:
            raise PlaygroundError(f"loss {self.loss} is for GANs: the {self.model} model trains on its own "
                                  "objective (leave loss out)")
        if not self.is_gan and self.augment != "none":
            raise PlaygroundError(f"augment {self.augment} transforms what a GAN's discriminator sees: the "
                                  f"{self.model} model has none (leave augment at none)")
        if self.conditional and self.model not in CONDITIONAL_MODELS:
            raise PlaygroundError(f"the {self.model} model is unconditional: for class labels choose "
                                  f"{', '.join(CONDITIONAL_MODELS)}")
        if self.resolution is not None and self.model in FAMILY and FAMILY[self.model] == "denoiser" \
                and self.resolution % 2 ** (len(self.unet_mults) - 1):
            raise PlaygroundError(f"resolution {self.resolution} does not divide by 2^{len(self.unet_mults) - 1}: "
                                  "use fewer U-Net levels (unet_mults)")
        if self.resolution is not None and self.resolution not in RESOLUTIONS:
            raise PlaygroundError(f"resolution {self.resolution} is not possible: choose one of "
                                  f"{', '.join(map(str, RESOLUTIONS))}")
        if self.model == "diffusion" and self.sample_steps is not None and self.sample_steps > self.timesteps:
            raise PlaygroundError(f"sample_steps {self.sample_steps} exceeds the {self.timesteps} noise levels "
                                  "(timesteps): choose at most that many")
        if self.eval_samples < 16:
            raise PlaygroundError("eval_samples must be at least 16")

    @property
    def is_gan(self) -> bool:
        return self.model in GAN_MODELS

    @property
    def family(self) -> str:
        """gan, vae, pixelcnn or denoiser (diffusion and flow matching)."""
        return FAMILY[self.model]

    @property
    def is_conditional(self) -> bool:
        """Whether the model takes class labels (a cgan always does)."""
        return self.model == "cgan" or self.conditional

    @property
    def binarized(self) -> bool:
        """Whether training sees {0, 1} pixels (pixelcnn always does)."""
        return self.model == "pixelcnn" or self.binarize

    @property
    def objective(self) -> Objective:
        """The adversarial objective's record (losses, D's output kind, penalty or clipping)."""
        return get_objective(self.loss)


def resolve_resolution(requested: int | None, native: int) -> int:
    """The training resolution: the requested one, or the dataset's own rounded to 8..64 (powers of two)."""
    if requested is not None:
        if requested not in RESOLUTIONS:
            raise PlaygroundError(f"resolution {requested} is not possible: choose one of "
                                  f"{', '.join(map(str, RESOLUTIONS))}")
        return requested
    for r in AUTO_RESOLUTIONS:
        if native <= r:
            return r
    return AUTO_RESOLUTIONS[-1]


DEFAULT_PRESET = "dcgan_digits"      # the Train page's form opens on it; the dataclass's defaults equal it

# Known-good starting points. Each reads as the published recipe scaled to small images.
PRESETS: dict[str, Preset] = {
    "dcgan_digits": Preset("DCGAN on digits (8x8)", "Radford et al.: Adam 2e-4, beta1 0.5, BN, BCE, plus one "
                           "extra 3x3 conv layer in G and D (at 8x8 the published stack is two layers deep); "
                           "about three CPU minutes (the shipped digits-dcgan)",
                           {"dataset": "digits", "model": "dcgan", "loss": "nonsaturating", "g_width": 64,
                            "d_width": 64, "extra_layers": 1, "latent_dim": 32, "batch_size": 64, "steps": 4000}),
    "wgan_gp_digits": Preset("WGAN-GP on digits (8x8)", "Gulrajani et al.: critic without BN, lambda 10, "
                             "5 critic steps, Adam 1e-4 (0, 0.9)",
                             {"dataset": "digits", "model": "wgan_gp", "loss": "wgan_gp", "g_width": 128,
                              "d_width": 64, "latent_dim": 32, "batch_size": 64, "steps": 2000, "g_lr": 1e-4,
                              "d_lr": 1e-4, "beta1": 0.0, "beta2": 0.9, "d_steps": 5}),
    "sngan_digits": Preset("SNGAN on digits (8x8)", "Miyato et al.: spectral norm in D, hinge loss",
                           {"dataset": "digits", "model": "sngan", "loss": "hinge", "g_width": 128, "d_width": 64,
                            "latent_dim": 32, "batch_size": 64, "steps": 3000, "beta1": 0.5, "beta2": 0.999}),
    "vae_digits": Preset("Convolutional VAE on digits (8x8)", "ELBO with a Bernoulli decoder",
                         {"dataset": "digits", "model": "vae", "latent_dim": 16, "batch_size": 64, "steps": 3000,
                          "g_lr": 1e-3, "ema_decay": 0.0}),
    "dcgan_mnist5k": Preset("DCGAN on mnist5k (28x28)", "the 5,000 real MNIST digits shipped in a wheel (no "
                            "download), 7x7 -> 14 -> 28; about four CPU minutes (the shipped mnist5k-dcgan)",
                            {"dataset": "mnist5k", "model": "dcgan", "loss": "nonsaturating", "g_width": 64,
                             "d_width": 64, "latent_dim": 64, "batch_size": 64, "steps": 4000}),
    "sngan_mnist5k": Preset("SNGAN on mnist5k (28x28)", "DCGAN's generator against a spectrally normalised D "
                            "(Miyato et al.), hinge loss, Adam(4e-4; 0, 0.9): the cGAN's recipe without the labels; "
                            "about twelve CPU minutes (the shipped mnist5k-sngan)",
                            {"dataset": "mnist5k", "model": "sngan", "loss": "hinge", "g_width": 64, "d_width": 32,
                             "latent_dim": 64, "batch_size": 64, "steps": 3000, "g_lr": 4e-4, "d_lr": 4e-4,
                             "beta1": 0.0, "beta2": 0.9}),
    "cgan_mnist5k": Preset("Class-conditional GAN on mnist5k (28x28)", "conditional BN and a one-hot input in G, "
                           "projection D with spectral norm, hinge loss, Adam(4e-4; 0, 0.9) (Miyato & Koyama); "
                           "rows of the sample grid are the classes (the shipped mnist5k-cgan)",
                           {"dataset": "mnist5k", "model": "cgan", "loss": "hinge", "g_width": 64, "d_width": 32,
                            "latent_dim": 64, "batch_size": 64, "steps": 2000, "g_lr": 4e-4, "d_lr": 4e-4,
                            "beta1": 0.0, "beta2": 0.9}),
    "pixelcnn_mnist5k": Preset("PixelCNN on binarised mnist5k (28x28)", "exact likelihood (nats, bits/dim) on the "
                               "binarised test split; samples are drawn one pixel at a time",
                               {"dataset": "mnist5k", "model": "pixelcnn", "pixelcnn_width": 64, "pixelcnn_blocks": 5,
                                "batch_size": 64, "steps": 2000, "g_lr": 1e-3, "beta1": 0.9, "ema_decay": 0.999,
                                "eval_every": 0, "sample_every": 500}),
    "cpixelcnn_mnist5k": Preset("Class-conditional PixelCNN on binarised mnist5k", "p(x | y) with a map of the "
                                "class and the position in every layer: the likelihood of each digit given its label",
                                {"dataset": "mnist5k", "model": "pixelcnn", "conditional": True,
                                 "pixelcnn_width": 64, "pixelcnn_blocks": 5, "batch_size": 64, "steps": 2000,
                                 "g_lr": 1e-3, "beta1": 0.9, "ema_decay": 0.999, "eval_every": 0,
                                 "sample_every": 500}),
    "vae_mnist5k_binarized": Preset("Convolutional VAE on binarised mnist5k", "ELBO and importance-weighted bound "
                                    "on the same binarised test split as the PixelCNN's exact likelihood",
                                    {"dataset": "mnist5k", "model": "vae", "binarize": True, "latent_dim": 16,
                                     "d_width": 32, "batch_size": 64, "steps": 3000, "g_lr": 1e-3, "beta1": 0.9,
                                     "ema_decay": 0.0}),
    "diffusion_mnist5k": Preset("Diffusion on mnist5k (28x28)", "noise prediction with a small U-Net, cosine "
                                "schedule, T = 1000, DDIM sampling in 50 steps (the steps are a slider when sampling)",
                                {"dataset": "mnist5k", "model": "diffusion", "unet_width": 32, "unet_mults": [1, 2, 2],
                                 "batch_size": 64, "steps": 3000, "g_lr": 1e-3, "beta1": 0.9, "ema_decay": 0.999,
                                 "eval_samples": 200, "sample_every": 500}),
    "cdiffusion_mnist5k": Preset("Class-conditional diffusion on mnist5k", "the U-Net adds a class embedding to its "
                                 "time embedding; rows of the sample grid are the classes",
                                 {"dataset": "mnist5k", "model": "diffusion", "conditional": True, "unet_width": 32,
                                  "unet_mults": [1, 2, 2], "batch_size": 64, "steps": 3000, "g_lr": 1e-3,
                                  "beta1": 0.9, "ema_decay": 0.999, "eval_samples": 200, "sample_every": 500}),
    "flow_matching_mnist5k": Preset("Flow matching on mnist5k (28x28)", "rectified flow with the same U-Net, "
                                    "midpoint ODE solver in 25 steps",
                                    {"dataset": "mnist5k", "model": "flow_matching", "unet_width": 32,
                                     "unet_mults": [1, 2, 2], "batch_size": 64, "steps": 3000, "g_lr": 1e-3,
                                     "beta1": 0.9, "ema_decay": 0.999, "eval_samples": 200, "sample_every": 500}),
    "cflow_mnist5k": Preset("Class-conditional flow matching on mnist5k", "rectified flow with a class "
                            "embedding in the U-Net; rows of the sample grid are the classes",
                            {"dataset": "mnist5k", "model": "flow_matching", "conditional": True, "unet_width": 32,
                             "unet_mults": [1, 2, 2], "batch_size": 64, "steps": 3000, "g_lr": 1e-3, "beta1": 0.9,
                             "ema_decay": 0.999, "eval_samples": 200, "sample_every": 500}),
    "dcgan_sprites": Preset("DCGAN on sprites (16x16)", "procedural sprites; no download",
                            {"dataset": "sprites", "model": "dcgan", "resolution": 16, "latent_dim": 64,
                             "steps": 5000}),
    "dcgan_mnist": Preset("DCGAN on MNIST (32x32)", "needs MNIST under data/ (or a network connection)",
                          {"dataset": "mnist", "model": "dcgan", "resolution": 32, "steps": 10000,
                           "batch_size": 128}),
    "sngan_cifar10": Preset("SNGAN on CIFAR-10 (32x32)", "needs CIFAR-10 under data/; a GPU job",
                            {"dataset": "cifar10", "model": "sngan", "resolution": 32, "g_width": 128,
                             "d_width": 128, "latent_dim": 128, "batch_size": 64, "steps": 50000, "beta1": 0.5}),
    "dcgan_celeba": Preset("DCGAN on CelebA (64x64)", "the published DCGAN setting; needs CelebA under data/",
                           {"dataset": "celeba", "model": "dcgan", "resolution": 64, "batch_size": 128,
                            "steps": 20000}),
}
# The dataclass's defaults are the Train page's opening preset (so a bare `images train` launches what the page
# does). Every other preset was tuned, and its shipped model trained, under the earlier defaults latent_dim 100
# and extra_layers 0: they keep them, so their runs and cards stay what they were.
for _name, _preset in PRESETS.items():
    if _name != DEFAULT_PRESET:
        for _field, _value in (("latent_dim", 100), ("extra_layers", 0)):
            _preset.overrides.setdefault(_field, _value)


def preset_config(name: str, **overrides) -> ImageRunConfig:
    if name not in PRESETS:
        raise PlaygroundError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}")
    return PRESETS[name].config(ImageRunConfig, **overrides)


def with_updates(cfg: ImageRunConfig, **changes) -> ImageRunConfig:
    return from_dict(ImageRunConfig, {**to_dict(replace(cfg)), **changes})
