"""Shared test set-up: app/ importable (page components), one torch thread (2-core machines)."""

import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))
torch.set_num_threads(1)
