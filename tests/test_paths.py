"""playground.paths: the shipped models are found from a checkout, from an installed wheel, and through the
PLAYGROUND_PRETRAINED override."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from playground.paths import package_parent, pretrained_dir

ROOT = Path(__file__).resolve().parents[1]
KINDS = {"vae": "vae", "image_runs": "image-run", "features": "feature classifier for FID/KID/precision/recall"}


def shipped_cards(folder: Path) -> dict[str, set[str]]:
    """sub-folder -> names of the cards in it whose kind fits the sub-folder."""
    return {sub: {p.stem for p in (folder / sub).glob("*.json") if json.loads(p.read_text())["kind"] == kind}
            for sub, kind in KINDS.items()}


def test_checkout_finds_the_shipped_cards(monkeypatch):
    monkeypatch.delenv("PLAYGROUND_PRETRAINED", raising=False)
    assert pretrained_dir() == ROOT / "pretrained" and package_parent() == ROOT
    cards = shipped_cards(pretrained_dir())
    assert {"digits-2d", "sprites-bvae"} <= cards["vae"] and "digits-dcgan" in cards["image_runs"]
    assert "digits-8px-1ch" in cards["features"]


def test_environment_override(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAYGROUND_PRETRAINED", str(tmp_path))
    assert pretrained_dir() == tmp_path


@pytest.mark.slow
def test_installed_wheel_carries_and_finds_the_shipped_models(tmp_path):
    """Build the wheel from a copy of the checkout (the build writes build/ beside the sources), unpack it as
    a site folder, and ask a fresh interpreter that imports the engine from there where its models are."""
    src = tmp_path / "src"
    for name in ("playground", "app", "pretrained"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "plotly.min.js"))
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "whl")], check=True, capture_output=True, timeout=240)
    wheel = next((tmp_path / "whl").glob("playground-*.whl"))
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        z.extractall(site)
    for sub, stems in shipped_cards(ROOT / "pretrained").items():
        for stem in stems:
            assert f"playground/pretrained/{sub}/{stem}.json" in names
    assert "playground/pretrained/vae/digits-2d.pt" in names
    assert "playground/pretrained/image_runs/digits-dcgan/checkpoints/latest.pt" in names
    assert "app/components/live_figure/frontend/main.js" in names and "app/views/gan_lab.py" in names
    env = {k: v for k, v in os.environ.items() if k != "PLAYGROUND_PRETRAINED"}
    env["PYTHONPATH"] = str(site)
    code = ("import playground, playground.paths as p; from playground.vae.pretrained import cards; "
            "print(playground.__file__); print(p.pretrained_dir()); print(sorted(cards()))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         check=True, timeout=120).stdout.splitlines()
    assert out[0] == str(site / "playground" / "__init__.py")        # the unpacked wheel, not the checkout
    assert out[1] == str(site / "playground" / "pretrained")
    assert json.loads(out[2].replace("'", '"')) == sorted(shipped_cards(ROOT / "pretrained")["vae"])
