"""Model cards of shipped pretrained files: `NAME.json` next to the weights (shared by VAEs and image runs)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path


def write_card(root: Path, name: str, card: dict) -> dict:
    (root / f"{name}.json").write_text(json.dumps(card, indent=1) + "\n")
    return card


def read_cards(root: Path, kind: str, present: Callable[[dict], bool]) -> dict[str, dict]:
    """name -> card for every card in `root` that parses, is of `kind` and whose files are `present`."""
    out = {}
    for p in sorted(root.glob("*.json")):
        try:
            card = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(card, dict) and card.get("kind") == kind and present(card):
            out[card["name"]] = card
    return out
