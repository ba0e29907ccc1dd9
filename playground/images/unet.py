"""A small U-Net f(x, t[, y]) for diffusion and flow matching on images (Ho et al. 2020, scaled down).

Each resolution level has residual blocks (GroupNorm, SiLU, 3x3 convs) into which a sinusoidal embedding of
the time t in [0, 1] (and, if conditional, a class embedding) is added as a per-channel shift; levels are
joined by stride-2 convs going down and nearest upsampling + conv going up, with skip connections
concatenated. No attention: at 28 or 32 pixels the receptive field of three levels covers the image. The
output has the input's shape (noise or velocity), and the last conv starts at zero so an untrained model
predicts 0.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from playground.errors import PlaygroundError


def time_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal features of t in [0, 1] (N,) -> (N, dim); t is scaled by 1000 as for integer DDPM steps."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    ang = 1000.0 * t.float().reshape(-1, 1) * freqs
    return torch.cat([torch.sin(ang), torch.cos(ang)], dim=1)


def _groups(channels: int) -> int:
    return math.gcd(8, channels)


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, emb_dim: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(_groups(c_in), c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(_groups(c_out), c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x))) + self.emb(emb)[:, :, None, None]
        return self.skip(x) + self.conv2(F.silu(self.norm2(h)))


class UNet(nn.Module):
    """f(x, t, y) with x (N, C, R, R), t (N,) or a scalar in [0, 1], y optional class labels (N,)."""

    def __init__(self, channels: int = 1, width: int = 32, mults: tuple[int, ...] = (1, 2, 2), blocks: int = 1,
                 num_classes: int | None = None):
        super().__init__()
        self.channels, self.width, self.mults, self.num_classes = channels, width, tuple(mults), num_classes
        emb = 4 * width
        self.time_mlp = nn.Sequential(nn.Linear(width, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.class_embed = nn.Embedding(num_classes, emb) if num_classes else None
        self.stem = nn.Conv2d(channels, width, 3, padding=1)
        self.down, self.downsample = nn.ModuleList(), nn.ModuleList()
        skips, c = [width], width
        for level, m in enumerate(mults):
            for _ in range(blocks):
                self.down.append(ResBlock(c, width * m, emb))
                c = width * m
                skips.append(c)
            if level < len(mults) - 1:
                self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
                skips.append(c)
        self.mid = nn.ModuleList([ResBlock(c, c, emb), ResBlock(c, c, emb)])
        self.up, self.upsample = nn.ModuleList(), nn.ModuleList()
        for level, m in reversed(list(enumerate(mults))):
            for _ in range(blocks + 1):
                self.up.append(ResBlock(c + skips.pop(), width * m, emb))
                c = width * m
            if level > 0:
                self.upsample.append(nn.Conv2d(c, c, 3, padding=1))
        self.out_norm = nn.GroupNorm(_groups(c), c)
        self.out = nn.Conv2d(c, channels, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    @property
    def factor(self) -> int:
        """The image side must be a multiple of this (one halving per level below the top)."""
        return 2 ** (len(self.mults) - 1)

    def forward(self, x: torch.Tensor, t: torch.Tensor | float, y: torch.Tensor | None = None) -> torch.Tensor:
        if x.shape[-1] % self.factor or x.shape[-2] % self.factor:
            raise PlaygroundError(f"this U-Net needs image sides divisible by {self.factor}, got {tuple(x.shape[-2:])}")
        t = torch.as_tensor(t, dtype=torch.float32, device=x.device).reshape(-1).expand(x.shape[0])
        emb = self.time_mlp(time_embedding(t, self.width))
        if self.class_embed is not None:
            if y is None:
                raise PlaygroundError("this U-Net is class-conditional: give the class labels")
            emb = emb + self.class_embed(y.long().to(x.device).reshape(-1))
        emb = emb.to(x.dtype)
        h = self.stem(x)
        hs = [h]
        blocks = len(self.down) // len(self.mults)
        for level in range(len(self.mults)):
            for b in range(blocks):
                h = self.down[level * blocks + b](h, emb)
                hs.append(h)
            if level < len(self.mults) - 1:
                h = self.downsample[level](h)
                hs.append(h)
        for block in self.mid:
            h = block(h, emb)
        per = blocks + 1
        for k, level in enumerate(reversed(range(len(self.mults)))):
            for b in range(per):
                h = self.up[k * per + b](torch.cat([h, hs.pop()], dim=1), emb)
            if level > 0:
                h = self.upsample[k](F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.out(F.silu(self.out_norm(h)))
