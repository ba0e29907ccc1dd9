"""Pictures from image batches: one grid builder and one PNG encoder for every page, run and CLI command."""

from __future__ import annotations

import io

import numpy as np


def grid_image(images: np.ndarray, nrow: int | None = None, pad: int = 1) -> np.ndarray:
    """(N, C, H, W) floats in [0, 1] -> one uint8 image (H', W') or (H', W', 3) with `pad` white pixels between."""
    images = np.asarray(images, dtype=np.float32)
    n, c, h, w = images.shape
    nrow = nrow or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / nrow))
    out = np.ones((c, rows * (h + pad) + pad, nrow * (w + pad) + pad), dtype=np.float32)
    for i in range(n):
        r, q = divmod(i, nrow)
        out[:, pad + r * (h + pad): pad + r * (h + pad) + h, pad + q * (w + pad): pad + q * (w + pad) + w] = images[i]
    out = (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)
    return out[0] if c == 1 else out[:3].transpose(1, 2, 0)


def png_bytes(img: np.ndarray, scale: int = 1) -> bytes:
    """A uint8 image (H, W) or (H, W, 3) as PNG bytes, optionally upscaled `scale` times (nearest neighbour)."""
    from PIL import Image

    im = Image.fromarray(img)
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()
