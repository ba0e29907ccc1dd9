"""What the Sample page's model-specific views compute from a loaded run (`sampling.LoadedModel`).

Class-conditional GAN: the class x noise grid (row y is class y, column j one noise vector held fixed for every
class) and class interpolation with the noise fixed. PixelCNN: sampling pixel by pixel as frames, and completion
of a test image with a region hidden. Diffusion and flow matching: samples at a chosen number of steps and
sampler/solver, and the denoising trajectory of one sample as a strip. Every function returns images in [0, 1]
as numpy arrays (N, C, H, W); the same seed gives the same pictures as `LoadedModel.sample` where they overlap.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from playground.errors import PlaygroundError
from playground.images import cgan
from playground.images import models as M
from playground.images.pixelcnn import binarize, lower_half_hidden
from playground.pictures import grid_image

# The denoisers' sampling methods: DDIM is deterministic given the start noise, DDPM adds fresh noise each step;
# Euler takes one velocity per step, midpoint two (second order).
METHODS = {"diffusion": ("ddim", "ddpm"), "flow_matching": ("euler", "midpoint")}
REGIONS = ("lower half", "right half", "centre square", "rows from")
UNDECIDED = (0.80, 0.88, 1.0)      # the colour of not-yet-drawn or hidden pixels in the pixel views
MAX_IMAGES = 256
# The Sample page's defaults, shared with `python -m playground images view`.
GRID_COLUMNS, INTERP_STEPS, INTERP_ROWS, STRIP_STATES, COMPLETIONS = 8, 8, 4, 10, 8
PIXEL_IMAGES, PIXEL_FPS = 9, 5      # the pixel-by-pixel sampler: images drawn at once, frames a second
PIXEL_TILE_PX = 120                 # about this many pixels per image in the sampler and completion
MAX_ANIMATION_BYTES = 1 << 29       # the pixel animation's frames held in memory at once (512 MiB)


def _require(gen, family: str, what: str) -> None:
    if gen.family != family:
        raise PlaygroundError(f"{what} is for {family} runs; this run trains a {gen.cfg.model} model")


def _count(n: int, what: str = "images") -> int:
    if not 1 <= int(n) <= MAX_IMAGES:
        raise PlaygroundError(f"{what} must be between 1 and {MAX_IMAGES}, got {n}")
    return int(n)


def _device(gen) -> torch.device:
    return next(gen.net.parameters()).device


def class_labels(gen, n: int, label: int | None = None) -> torch.Tensor | None:
    """n labels for a conditional run: all `label`, or every class equally often (as `LoadedModel.sample`);
    None for an unconditional run (where a label is an error)."""
    if not gen.num_classes:
        if label is not None:
            raise PlaygroundError(f"this {gen.cfg.model} run is not class-conditional: it takes no class")
        return None
    if label is None:
        return gen.labels(n)
    if not 0 <= int(label) < gen.num_classes:
        raise PlaygroundError(f"class must be between 0 and {gen.num_classes - 1}, got {label}")
    return torch.full((n,), int(label), dtype=torch.long)


# ------------------------------------------------------------------ class-conditional GAN
def class_noise_grid(gen, columns: int = GRID_COLUMNS, seed: int = 0, truncation: float | None = None) -> np.ndarray:
    """(K * columns) images, row-major: row y is class y, column j uses the j-th noise vector of `seed` in
    every row, so a column varies only the class and a row only the noise."""
    _require(gen, "gan", "the class x noise grid")
    if not gen.num_classes:
        raise PlaygroundError(f"the class x noise grid needs a class-conditional run; {gen.cfg.model} is not")
    z = M.noise(_count(columns, "columns"), gen.latent_dim, torch.Generator().manual_seed(int(seed)),
                truncation=truncation)
    out = cgan.class_noise_grid(gen.net, z.to(_device(gen)))
    return M.to_unit(gen.cfg.model, out.flatten(0, 1)).cpu().numpy()


def class_interpolation(gen, a: int, b: int, steps: int = INTERP_STEPS, seed: int = 0, rows: int = INTERP_ROWS
                        ) -> np.ndarray:
    """(rows * steps) images, row-major: row r holds the r-th noise vector of `seed` fixed while the class
    weights move on the line from one_hot(a) to one_hot(b)."""
    _require(gen, "gan", "class interpolation")
    class_labels(gen, 2, int(a)), class_labels(gen, 2, int(b))          # both classes exist
    if not 2 <= int(steps) <= 32:
        raise PlaygroundError(f"steps must be between 2 and 32, got {steps}")
    z = M.noise(_count(rows, "rows"), gen.latent_dim, torch.Generator().manual_seed(int(seed)))
    out = [cgan.class_interpolation(gen.net, zr.to(_device(gen)), int(a), int(b), int(steps)) for zr in z]
    return M.to_unit(gen.cfg.model, torch.cat(out)).cpu().numpy()


# ------------------------------------------------------------------ PixelCNN
def pixel_frames(gen, n: int = 16, seed: int = 0, every: int = 28, label: int | None = None
                 ) -> Iterator[tuple[int, np.ndarray]]:
    """(pixels drawn, images) every `every` pixels in raster order and at the end; pixels not drawn yet read
    0.5. The last frame is `LoadedModel.sample(n, seed)` (the same draws from the same generator)."""
    _require(gen, "pixelcnn", "pixel-by-pixel sampling")
    n = _count(n)
    if int(every) < 1:
        raise PlaygroundError(f"pixels per frame must be at least 1, got {every}")
    y = _labels_on_device(gen, n, label)
    for done, images in gen.net.sampling_states(n, gen.resolution, torch.Generator().manual_seed(int(seed)),
                                                y=y, every=int(every)):
        yield done, images.numpy()


def pixels_per_frame(size: int) -> int:
    """The sampler's default pace: half a row of pixels per frame."""
    return max(1, size // 2)


def pixel_animation(gen, n: int = PIXEL_IMAGES, seed: int = 0, every: int | None = None,
                    label: int | None = None, scale: int = 1) -> list[np.ndarray]:
    """The pixel-by-pixel sampler's frames as RGB pictures (H, W, 3), the undrawn pixels in the UNDECIDED colour,
    from the first `every` pixels to the finished images (`LoadedModel.sample(n, seed)`)."""
    every = pixels_per_frame(gen.resolution) if every is None else every
    if int(every) < 1:
        raise PlaygroundError(f"pixels per frame must be at least 1, got {every}")
    nrow = int(np.ceil(np.sqrt(_count(n))))
    frames = -(-gen.resolution ** 2 // int(every))
    side = nrow * (gen.resolution * int(scale) + 1) + 1
    if frames * side * side * 3 > MAX_ANIMATION_BYTES:      # every frame is held before the GIF is written
        raise PlaygroundError(f"{frames} frames of {side}x{side} pixels is too large an animation: draw more pixels "
                              "per frame, fewer images or a smaller scale")
    return [grid_image(undecided_in_colour(images), nrow=nrow, upscale=scale)
            for _, images in pixel_frames(gen, n, seed, every, label)]


def hidden_region(size: int, region: str = "lower half", first_row: int | None = None) -> torch.Tensor:
    """The `known` mask (1, 1, size, size) of a completion: True where the image is kept. 'rows from' hides the
    rows from `first_row` down (like 'lower half', an exact draw from p(hidden | known) in raster order); the
    right half and the centre square keep later pixels that the raster order cannot condition on."""
    if region == "lower half":
        return lower_half_hidden(size)
    known = torch.ones(1, 1, size, size, dtype=torch.bool)
    if region == "rows from":
        r = size // 2 if first_row is None else int(first_row)
        if not 1 <= r < size:
            raise PlaygroundError(f"the first hidden row must be between 1 and {size - 1}, got {first_row}")
        known[..., r:, :] = False
    elif region == "right half":
        known[..., size // 2:] = False
    elif region == "centre square":
        a, b = size // 4, size - size // 4
        known[..., a:b, a:b] = False
    else:
        raise PlaygroundError(f"unknown region {region!r}: choose one of {', '.join(REGIONS)}")
    return known


def held_out_images(gen, count: int = 100) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The first `count` images of the run's dataset's test split at the run's resolution, binarised as the
    PixelCNN was trained (its likelihood split), with their labels."""
    from playground.images.training_data import load_training_data

    ds = load_training_data(gen.cfg, split="test", resolution=gen.resolution)
    if ds.channels != 1:
        raise PlaygroundError(f"{gen.cfg.dataset} has {ds.channels} channels; the PixelCNN models one")
    k = min(int(count), len(ds))
    return binarize(ds.images[:k]), None if ds.labels is None else ds.labels[:k]


def completion(gen, image: torch.Tensor, known: torch.Tensor, n: int = COMPLETIONS, seed: int = 0,
               label: int | None = None) -> np.ndarray:
    """n completions (n, 1, H, W) of one image (1, H, W) in [0, 1], binarised, where only `known` is kept;
    a conditional run completes as class `label` (its true class, say)."""
    _require(gen, "pixelcnn", "completion")
    n = _count(n)
    if image.shape[-2:] != (gen.resolution, gen.resolution):
        raise PlaygroundError(f"the image is {tuple(image.shape[-2:])}; this run draws {gen.resolution}px images")
    y = _labels_on_device(gen, n, label)
    given = binarize(image.reshape(1, gen.resolution, gen.resolution))
    return gen.net.complete(given, known, n, torch.Generator().manual_seed(int(seed)), y=y).numpy()


def masked(image: torch.Tensor, known: torch.Tensor) -> np.ndarray:
    """The image (1, 1, H, W) with its hidden pixels at 0.5 (shown as undecided)."""
    x = binarize(image.reshape(1, 1, *image.shape[-2:]))
    return torch.where(known.reshape(1, 1, *x.shape[-2:]), x, torch.full_like(x, 0.5)).numpy()


def undecided_in_colour(images: np.ndarray) -> np.ndarray:
    """Binary one-channel images (N, 1, H, W) with 0.5 marking undecided pixels, as RGB (N, 3, H, W) in which
    those pixels take the UNDECIDED colour: the frontier of the raster scan stands out."""
    grey = np.repeat(images, 3, axis=1)
    open_ = np.isclose(images[:, 0], 0.5)
    for c, v in enumerate(UNDECIDED):
        grey[:, c][open_] = v
    return grey


# ------------------------------------------------------------------ diffusion and flow matching
def methods(gen) -> tuple[tuple[str, ...], str]:
    """(the denoiser's sampling methods, the run's own)."""
    _require(gen, "denoiser", "sampling methods")
    own = gen.cfg.sampler if gen.cfg.model == "diffusion" else gen.cfg.solver
    return METHODS[gen.cfg.model], own


def max_steps(gen) -> int:
    """The most sampling steps that mean something: diffusion's T noise levels; flow matching: 1000."""
    return int(gen.net.timesteps) if gen.cfg.model == "diffusion" else 1000


def _labels_on_device(gen, n: int, label: int | None) -> torch.Tensor | None:
    """`class_labels` on the device of the run's network (None for an unconditional run)."""
    y = class_labels(gen, n, label)
    return None if y is None else y.to(_device(gen))


def _path(gen, n: int, seed: int, steps: int | None, method: str | None, label: int | None) -> list[torch.Tensor]:
    _require(gen, "denoiser", "denoising")
    choices, own = methods(gen)
    method = method or own
    if method not in choices:
        raise PlaygroundError(f"{gen.cfg.model} samples with {' or '.join(choices)}, not {method!r}")
    if steps is not None and not 1 <= int(steps) <= max_steps(gen):
        raise PlaygroundError(f"sampling steps must be between 1 and {max_steps(gen)}, got {steps}")
    y = _labels_on_device(gen, n, label)
    kw = {"sampler" if gen.cfg.model == "diffusion" else "solver": method}
    return gen.net.trajectory(n, torch.Generator().manual_seed(int(seed)), steps=steps, y=y, **kw)


def denoiser_samples(gen, n: int = 16, seed: int = 0, steps: int | None = None, method: str | None = None,
                     label: int | None = None) -> np.ndarray:
    """n samples at `steps` sampling steps with `method` (default: the run's own, as `LoadedModel.sample`)."""
    from playground.images.diffusion import to_images

    return to_images(_path(gen, _count(n), seed, steps, method, label)[-1]).cpu().numpy()


def denoising_strip(gen, seed: int = 0, steps: int | None = None, method: str | None = None, states: int = STRIP_STATES,
                    label: int | None = None) -> tuple[np.ndarray, list[int]]:
    """One sample's way from noise to image, as two rows of images: `states` evenly spaced states of its
    trajectory (first the start noise of `seed`, last the sample), and below each the model's estimate of the
    finished image from that state; with the number of sampling steps taken before each."""
    from playground.images.diffusion import to_images

    if not 2 <= int(states) <= 32:
        raise PlaygroundError(f"states shown must be between 2 and 32, got {states}")
    path = _path(gen, 1, seed, steps, method, label)
    picks = sorted({int(round(i)) for i in np.linspace(0, len(path) - 1, int(states))})
    y = _labels_on_device(gen, 1, label)
    guesses = [gen.net.estimate(path[i], i, steps, y) for i in picks]
    return torch.cat([to_images(path[i]) for i in picks] + [to_images(g) for g in guesses]).cpu().numpy(), picks


def with_row_labels(picture: np.ndarray, labels: list[str], margin: int = 28, font_px: int = 14) -> np.ndarray:
    """A grid picture (H, W) or (H, W, 3) uint8 with a white margin on its left holding one label per row of
    tiles, centred on the row (the class of each row of the class x noise grid)."""
    from PIL import Image, ImageDraw, ImageFont

    rgb = picture if picture.ndim == 3 else np.repeat(picture[:, :, None], 3, axis=2)
    canvas = Image.new("RGB", (rgb.shape[1] + margin, rgb.shape[0]), "white")
    canvas.paste(Image.fromarray(np.ascontiguousarray(rgb)), (margin, 0))
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default(size=font_px)
    row_h = rgb.shape[0] / max(1, len(labels))
    for i, text in enumerate(labels):
        draw.text((margin / 2, (i + 0.5) * row_h), str(text), fill=(60, 60, 60), font=font, anchor="mm")
    return np.asarray(canvas)
