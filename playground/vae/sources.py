"""The VAEs the lab can open: the shipped models (pretrained/vae cards), then VAE runs that have a checkpoint.

Labels read `pretrained: NAME` and `run: NAME`; a shared link names a model by NAME alone (`?model=NAME`).
"""

from __future__ import annotations

from pathlib import Path

from playground.runs.root import runs_root
from playground.runs.rundir import RunDir, list_runs
from playground.vae.pretrained import ROOT, cards


def model_sources(root: Path | str | None = None) -> dict[str, dict]:
    """label -> {path, sha, title, card | run}: shipped models first, then runs under `root` (default: the run
    root) and under its `vae/` folder (where the lab put them before the one run root), newest first. `sha` is
    the card's weights hash ("" for runs, which are still being written)."""
    out = {f"pretrained: {name}": {"path": str(ROOT / card["weights"]), "sha": card["sha256"],
                                   "title": card["title"], "card": card} for name, card in cards().items()}
    root = Path(root) if root is not None else runs_root()
    for row in list_runs(root, kind="vae") + list_runs(root / "vae", kind="vae"):
        ck = RunDir(row["path"]).latest_path
        if ck.is_file():
            out[f"run: {row['name']}"] = {"path": str(ck), "sha": "", "title": f"{row['name']} ({row['state']})",
                                          "run": row["path"]}
    return out


def short_name(label: str) -> str:
    """`pretrained: digits-2d` -> `digits-2d` (the name a URL carries)."""
    return label.split(": ", 1)[-1]


def find(labels, name: str | None) -> str | None:
    """The label whose short name is `name`, if any."""
    return next((lab for lab in labels if name and short_name(lab) == name), None)
