"""Pictures from image batches: one grid builder and one PNG encoder for every page, run and CLI command.

Images are floats in [0, 1], (C, H, W) or a batch (N, C, H, W), as torch tensors or numpy arrays; pictures are
uint8 arrays (H, W) for one channel and (H, W, 3) for colour, ready for PIL, st.image or Plotly.
"""

from __future__ import annotations

import io
import math

import numpy as np
import torch


def _tensor(images) -> torch.Tensor:
    if isinstance(images, torch.Tensor):
        return images.detach().float().cpu()
    return torch.from_numpy(np.asarray(images, dtype=np.float32))


def to_uint8(image) -> np.ndarray:
    """One image (C, H, W) in [0, 1] as a uint8 picture: (H, W) for one channel, (H, W, 3) otherwise (alpha
    dropped). Values are clipped to [0, 1] and rounded to the nearest of 256 levels."""
    a = (_tensor(image).clamp(0, 1) * 255 + 0.5).to(torch.uint8)
    return a[0].numpy() if a.shape[0] == 1 else a[:3].permute(1, 2, 0).numpy()


def grid_image(images, nrow: int | None = None, pad: int = 1, pad_value: float = 1.0,
               upscale: int = 1) -> np.ndarray:
    """A batch (N, C, H, W) as one uint8 picture, `nrow` tiles per row (default: a square-ish grid), with `pad`
    pixels of grey level `pad_value` around every tile (torchvision's make_grid layout). `upscale` repeats
    each pixel of the tiles that many times (nearest neighbour), so small images stay crisp."""
    from torchvision.utils import make_grid

    x = _tensor(images).clamp(0, 1)
    if upscale > 1:
        x = x.repeat_interleave(upscale, 2).repeat_interleave(upscale, 3)
    nrow = nrow or math.ceil(math.sqrt(len(x)))
    if len(x) == 1:                 # make_grid returns a lone image without its frame; keep the frame
        g = torch.nn.functional.pad(x[0], (pad, pad, pad, pad), value=pad_value)
    else:
        g = make_grid(x, nrow=nrow, padding=pad, pad_value=pad_value)
    return to_uint8(g[:1] if x.shape[1] == 1 else g)      # make_grid turns one channel into three


def png_bytes(img: np.ndarray, scale: int = 1, compress_level: int = 6) -> bytes:
    """A uint8 picture (H, W) or (H, W, 3) as PNG bytes, optionally upscaled `scale` times (nearest neighbour).
    `compress_level` 1 is several times faster than PIL's default 6 for pictures sent on every update."""
    from PIL import Image

    im = Image.fromarray(img)
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()
