"""The shipped image models: card, hash check, sampling by name, and the card's scores measured again."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from playground.errors import PlaygroundError
from playground.images import models as M
from playground.images import sampling
from playground.images.metrics import Scorer, make_extractor
from playground.images.pretrained import MODELS, cards
from playground.images.training_data import load_training_data

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "pretrained" / "image_runs"


@pytest.fixture(scope="module")
def card():
    c = cards().get("digits-dcgan")
    assert c is not None, "the shipped DCGAN is missing: run make pretrained"
    return c


def test_card_describes_the_file_and_the_command_that_made_it(card):
    assert set(cards()) == set(MODELS)
    ck = RUNS / card["run"] / card["checkpoint"]
    assert sampling.sha256_file(ck) == card["sha256"] and ck.stat().st_size == card["bytes"]
    assert card["bytes"] < 2_000_000
    assert card["command"].startswith("python -m playground images train ") and "--seed 0" in card["command"]
    assert card["config"] == json.loads((RUNS / card["run"] / "config.json").read_text())
    assert card["config"]["model"] == "dcgan" and card["config"]["dataset"] == "digits"
    blob = torch.load(ck, map_location="cpu", weights_only=True)        # plain tensors and containers only
    assert "opts" not in blob and "rng" not in blob and set(blob["nets"]) == {"G", "D"}
    m = card["metrics"]
    assert m["fid_features"].startswith("classifier:digits-8px-1ch")
    assert len(m["fid_per_seed"]) == len(card["eval_commands"])
    assert m["fid"] == pytest.approx(sum(m["fid_per_seed"]) / len(m["fid_per_seed"]), abs=1e-3)


def test_shipped_dcgan_scores_what_its_card_says_and_beats_an_untrained_one(card):
    gen = sampling.load_generator("digits-dcgan")               # by name, hash checked against the card
    assert gen.ema and gen.step == card["metrics"]["steps"] and gen.net.resolution == 8
    cfg = gen.cfg
    train = load_training_data(cfg, "train", 8)
    test = load_training_data(cfg, "test", 8)
    scorer = Scorer(make_extractor("auto", "digits", 8, 1), train.images)
    n = card["metrics"]["generated_images"]
    assert n == len(test)
    z = M.noise(n, cfg.latent_dim, torch.Generator().manual_seed(0))     # the card's first eval command's noise
    fid = scorer.score(gen.images(z))["fid"]
    assert fid == pytest.approx(card["metrics"]["fid_per_seed"][0], rel=1e-3)
    assert scorer.score(test.images)["fid"] == pytest.approx(card["metrics"]["fid_test_vs_train"], rel=1e-3)
    torch.manual_seed(0)
    untrained = M.build_for(cfg, 1, 8)["G"].eval()
    with torch.no_grad():
        fid_untrained = scorer.score(M.to_unit("dcgan", untrained(z)))["fid"]
    assert fid < fid_untrained / 5


def test_a_tampered_checkpoint_is_refused(card, tmp_path):
    root = tmp_path / "image_runs"
    shutil.copytree(RUNS / card["run"], root / card["run"])
    shutil.copy(RUNS / f"{card['name']}.json", root / f"{card['name']}.json")
    sampling.load_generator(root / card["run"])                          # intact copy loads
    ck = root / card["run"] / card["checkpoint"]
    blob = torch.load(ck, map_location="cpu", weights_only=True)
    blob["ema"]["net.0.weight"].mul_(-1)
    torch.save(blob, ck)
    with pytest.raises(PlaygroundError, match="does not match the sha256 on its card"):
        sampling.load_generator(root / card["run"])


def test_cli_samples_the_shipped_model_by_name(card, tmp_path):
    out = tmp_path / "grid.png"
    p = subprocess.run([sys.executable, "-m", "playground", "images", "sample", "--run", "digits-dcgan", "--n", "16",
                        "--seed", "1", "--out", str(out), "--json"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["step"] == card["metrics"]["steps"] and res["ema"] and res["image_size"] == 8
    from PIL import Image

    with Image.open(out) as im:
        assert im.size[0] > 8 * 4
