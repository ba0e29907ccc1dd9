"""Model cards of shipped pretrained files: `NAME.json` next to the weights (shared by VAEs, image runs and
feature classifiers). The one reader and writer of cards; a card is a JSON object with at least a `kind`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from playground.errors import PlaygroundError
from playground.numerics import dumps
from playground.userfiles import read_bounded

MAX_CARD_BYTES = 1_000_000          # the largest shipped card is ~14 kB (a VAE with its training history)


def card_path(root: Path, name: str) -> Path:
    return Path(root) / f"{name}.json"


def write_card(root: Path, name: str, card: dict) -> dict:
    card_path(root, name).write_text(dumps(card, indent=1) + "\n")
    return card


def read_card(path: Path, kind: str | None = None) -> dict | None:
    """The card at `path`, or None when there is none (or it is of another `kind`). A card that exists but
    cannot be read raises PlaygroundError: the hash it holds is what its weights are checked against."""
    path = Path(path)
    if not path.is_file():
        return None
    data = read_bounded(path, MAX_CARD_BYTES, f"the card {path}")
    try:
        card = json.loads(data)
    except ValueError:              # not JSON, or not UTF-8
        card = None
    if not isinstance(card, dict) or not isinstance(card.get("kind"), str):
        raise PlaygroundError(f"the card {path} is unreadable (not a JSON object with a kind)")
    return card if kind is None or card["kind"] == kind else None


def card_beside(path: Path, kind: str | None, shipped_root: Path) -> dict | None:
    """The card at `path`, or None. An unreadable one is an error only among the shipped files (directly in
    `shipped_root`, where the card's hash guards the weights); beside a user's own file a JSON that is not a
    card is theirs (a saved `--json` summary, a config) and means "no card"."""
    try:
        return read_card(path, kind)
    except PlaygroundError:
        if Path(path).resolve().parent == Path(shipped_root).resolve():
            raise
        return None


def read_cards(root: Path, kind: str, present: Callable[[dict], bool]) -> dict[str, dict]:
    """name -> card for every card in `root` that parses, is of `kind` and whose files are `present`."""
    out = {}
    for p in sorted(Path(root).glob("*.json")):
        try:
            card = read_card(p, kind)
        except PlaygroundError:
            continue
        if card is not None and present(card):
            out[card.get("name", p.stem)] = card
    return out


def retrain_main(names: list[str], models: dict, train_one: Callable[[str], dict],
                 summary: Callable[[dict], str]) -> int:
    """`python -m playground.<x>.pretrained [NAME ...]`: retrain (or, given `rescore_one`, re-score) each named model
    (all by default) and print one line per card (`summary(card)`, the time and the file's size). Unknown name:
    exit 2; a failed training: 1."""
    import time

    for name in names or list(models):
        if name not in models:
            print(f"error: unknown model {name!r}; choose from {', '.join(models)}", file=sys.stderr)
            return 2
        t0 = time.perf_counter()
        try:
            card = train_one(name)
        except PlaygroundError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        print(f"{name}: {summary(card)} ({time.perf_counter() - t0:.0f} s, {card['bytes'] // 1024} KiB)", flush=True)
    return 0
