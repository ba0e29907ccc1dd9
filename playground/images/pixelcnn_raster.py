"""A PixelCNN's forward pass one pixel at a time in raster order, keeping every layer's input: sampling an
image costs one position of every layer per pixel instead of a pass over the image (or a window of rows).

In raster order every activation at (row i, column c), in every layer, depends only on the pixels of the rows
above and of row i left of c: the first mask hides the centre, the later ones see only what the first saw.
So the activations at a pixel are final as soon as the pixels before it are, and a later pixel can read them
from a buffer. Each masked conv keeps its input on a canvas padded with zeros (k//2 rows above, k//2 columns
either side: the full pass's zero padding); its output at (i, j) is the kernel applied to the canvas window
of rows i - k//2 .. i, the kernel's rows below the centre being masked out anyway. The 1x1 convs, the
class bias and the class-and-position maps act on one position. The arithmetic is the full pass's,
restricted to one output position (the same draws: tests/test_images_pixelcnn.py; the speed: bench/).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from playground.images.pixelcnn import MaskedConv2d, PixelCNN


def _linear(conv: torch.nn.Conv2d) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A conv's (masked) weights as a linear map of its flattened input window: (in * kh * kw, out), bias."""
    w = conv.weight
    if isinstance(conv, MaskedConv2d):                      # rows below the centre are masked out
        w = (w * conv.mask)[:, :, :conv.kernel_size[0] // 2 + 1]
    return w.flatten(1).t().contiguous(), conv.bias


class _Canvas:
    """One masked conv's input at every position so far, and its output at one position."""

    def __init__(self, conv: MaskedConv2d, n: int, size: int, like: torch.Tensor):
        self.c = conv.kernel_size[0] // 2
        self.weight, self.bias = _linear(conv)
        self.canvas = like.new_zeros(n, conv.in_channels, size + self.c, size + 2 * self.c)

    def put(self, i: int, j: int, value: torch.Tensor) -> None:
        """The conv's input at (i, j): (N, C_in)."""
        self.canvas[:, :, i + self.c, j + self.c] = value

    def out(self, i: int, j: int) -> torch.Tensor:
        """The conv's output at (i, j): (N, C_out)."""
        window = self.canvas[:, :, i:i + self.c + 1, j:j + 2 * self.c + 1].reshape(len(self.canvas), -1)
        return torch.addmm(self.bias, window, self.weight)


class RasterForward:
    """Logits of n images pixel by pixel in raster order: `logit(i, j)` (N,) is the full pass's logit at (i, j)
    once every pixel before (i, j) was given with `place`; call it for every pixel in order (a kept pixel
    too: its activations feed the later ones), then `place` the pixel's value (N,) in {0, 1}."""

    def __init__(self, net: PixelCNN, n: int, size: int, y: torch.Tensor | None = None):
        with torch.no_grad():     # every class's projected maps: small; a batch's rows are picked per pixel
            self.maps = net.projected_maps((size, size))
        self.rows = None if self.maps is None else net.map_rows(y, n)
        like = next(net.parameters())
        self.first = _Canvas(net.first, n, size, like)
        self.convs = [_Canvas(b.conv, n, size, like) for b in net.res]
        self.reduce = [_linear(b.reduce) for b in net.res]
        self.expand = [_linear(b.expand) for b in net.res]
        self.head = [_linear(m) for m in net.head if isinstance(m, torch.nn.Conv2d)]
        bias = net._class_bias(y, n)
        self.bias = bias[:, :, 0, 0] if torch.is_tensor(bias) else 0.0
        self.blocks = net.blocks

    def _maps(self, i: int, j: int) -> list:
        """Per layer, the class-and-position term at (i, j): (N, width) each, or 0."""
        if self.maps is None:
            return [0.0] * (self.blocks + 1)
        return list(self.maps[:, :, i, j][self.rows].chunk(self.blocks + 1, 1))

    @torch.no_grad()
    def logit(self, i: int, j: int) -> torch.Tensor:
        maps = self._maps(i, j)                  # added in the full pass's order: h + bias + map
        h = self.first.out(i, j) + self.bias + maps[0]
        for conv, (wr, br), (we, be), m in zip(self.convs, self.reduce, self.expand, maps[1:]):
            conv.put(i, j, F.relu(torch.addmm(br, F.relu(h), wr)))
            h = h + torch.addmm(be, F.relu(conv.out(i, j)), we) + self.bias + m
        (w1, b1), (w2, b2) = self.head
        return torch.addmm(b2, F.relu(torch.addmm(b1, F.relu(h), w1)), w2)[:, 0]

    def place(self, i: int, j: int, value: torch.Tensor) -> None:
        self.first.put(i, j, (value * 2.0 - 1.0)[:, None])       # the first layer reads {0, 1} as {-1, 1}
