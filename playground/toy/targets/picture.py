"""An image as a density: a picture's darkness, normalised, is a piecewise-constant density (exact by the pixels).

The user's bytes are untrusted: PIL decodes them with the same size limits as the image datasets (bytes and
pixels checked before anything is decoded), transparency is laid on white, and the picture is fitted into a
square of `PICTURE_RESOLUTION` pixels (padded with white, so nothing is cropped). Without an upload a small
built-in picture (a smiley drawn procedurally) is used, so the target always works.
"""

from __future__ import annotations

import io

import numpy as np

from playground.data.files import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS
from playground.errors import PlaygroundError
from playground.toy.targets.pixels import PixelTarget

PICTURE_RESOLUTION = 64           # pixels per side of the density's grid


def picture_darkness(source: bytes, resolution: int = PICTURE_RESOLUTION) -> np.ndarray:
    """Darkness (1 - grey level) in [0, 1] of an image file's bytes, (resolution, resolution), rows top down."""
    from PIL import Image, UnidentifiedImageError

    if not isinstance(source, (bytes, bytearray)):
        raise PlaygroundError("the picture must be given as the bytes of an image file")
    if len(source) > MAX_IMAGE_BYTES:
        raise PlaygroundError(f"image is {len(source)} bytes; the limit is {MAX_IMAGE_BYTES}")
    try:
        with Image.open(io.BytesIO(source)) as im:
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                raise PlaygroundError(f"image is {w}x{h} pixels; the limit is {MAX_IMAGE_PIXELS} pixels")
            rgba = im.convert("RGBA")
            grey = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("L")
            k = resolution / max(w, h)       # fit the longer side, keep the aspect; area-average or repeat pixels
            nw, nh = max(1, round(w * k)), max(1, round(h * k))
            grey = grey.resize((nw, nh), Image.Resampling.BOX if k < 1 else Image.Resampling.NEAREST)
            canvas = Image.new("L", (resolution, resolution), 255)
            canvas.paste(grey, ((resolution - nw) // 2, (resolution - nh) // 2))
            arr = np.asarray(canvas, dtype=np.float64) / 255.0
    except PlaygroundError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise PlaygroundError(f"not a readable image ({type(e).__name__}: {str(e)[:120]})") from None
    return 1.0 - arr


def default_darkness(resolution: int = PICTURE_RESOLUTION) -> np.ndarray:
    """The built-in picture: a smiley (outline, two eyes, a smile) with soft anti-aliased edges, rows top down."""
    c = (np.arange(resolution) + 0.5) / resolution * 2 - 1           # pixel centres in [-1, 1]
    x, y = np.meshgrid(c, -c)                                          # y upwards, row 0 at the top
    px = 2.0 / resolution

    def ink(dist):                       # 1 inside a shape (dist < 0), 0 outside, one pixel of ramp
        return np.clip(0.5 - dist / px, 0.0, 1.0)

    r = np.hypot(x, y)
    outline = ink(np.abs(r - 0.8) - 0.07)
    eyes = np.maximum(ink(np.hypot(x + 0.3, y - 0.25) - 0.12), ink(np.hypot(x - 0.3, y - 0.25) - 0.12))
    ang = np.arctan2(y + 0.05, x)
    smile = ink(np.abs(np.hypot(x, y + 0.05) - 0.45) - 0.06) * (ang < -0.5) * (ang > -np.pi + 0.5)
    return np.maximum(np.maximum(outline, eyes), smile)


def picture_target(name: str, radius: float, std: float, image=None) -> PixelTarget:
    """The picture `image` (image-file bytes, a darkness array (R, R) with rows top down, or None for the
    built-in one) as a density on [-radius, radius]^2, blurred by N(0, std^2 I)."""
    if image is None:
        dark = default_darkness()
    elif isinstance(image, (bytes, bytearray)):
        dark = picture_darkness(bytes(image))
    else:
        dark = np.asarray(image, dtype=np.float64)
        if dark.ndim != 2 or dark.shape[0] != dark.shape[1]:
            raise PlaygroundError(f"a picture array must be square (R, R), got shape {dark.shape}")
    # Row 0 is the top of the picture: weights[ix, iy] has y upwards, so flip the rows and transpose.
    return PixelTarget(name, np.clip(dark, 0.0, 1.0)[::-1].T, radius, std)
