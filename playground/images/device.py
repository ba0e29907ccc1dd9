"""Where an image run trains: the device (auto: CUDA, then Apple MPS, then CPU) and its mixed precision."""

from __future__ import annotations

import torch

from playground.errors import PlaygroundError


def _mps_available() -> bool:
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    """The torch device for a config's `device` (a process under torchrun takes the GPU of its local rank)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if _mps_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise PlaygroundError("device cuda requested but no CUDA GPU is available (use --device auto or cpu)")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if name == "mps":
        if not _mps_available():
            raise PlaygroundError("device mps requested but Apple's MPS is not available here")
        return torch.device("mps")
    return torch.device("cpu")


def device_info(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda:{device.index} ({torch.cuda.get_device_name(device)})"
    return device.type


def amp_dtype(device: torch.device, amp: bool) -> torch.dtype | None:
    """Mixed precision on CUDA: bfloat16 where supported (no loss scaling needed), else float16; None = off."""
    if device.type != "cuda" or not amp:
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
