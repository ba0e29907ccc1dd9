"""What machine a figure was measured on: the CPU's model name and the load average, for bench records."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, rounded; None where the OS has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def describe(device=None) -> dict:
    """Platform, CPU, Python, torch and its threads (and the GPU when `device` is a CUDA device)."""
    import torch

    info = {"platform": platform.platform(), "processor": cpu_model(), "python": platform.python_version(),
            "torch": str(torch.__version__), "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}
    if device is not None:
        info["device"] = str(device)
        if device.type == "cuda":
            p = torch.cuda.get_device_properties(device)
            info.update(gpu=p.name, gpu_memory_gib=round(p.total_memory / 2**30, 1), cuda=torch.version.cuda)
    return info
