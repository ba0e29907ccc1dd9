"""The shipped image models: card, hash check, sampling by name, and the card's scores measured again."""

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from playground.errors import PlaygroundError
from playground.images import models as M
from playground.images import sampling
from playground.images.metrics import Scorer, fid_from_features, kid_from_features, make_extractor
from playground.images.pretrained import MODELS, cards, eval_command
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


def test_rescore_measures_the_shipped_checkpoint_again_and_keeps_what_training_measured(card, tmp_path):
    """`--rescore` (after a change to a score): the card's scores come back from its checkpoint, the rest is kept."""
    from playground.images.pretrained import rescore_one

    shutil.copytree(RUNS / "digits-dcgan", tmp_path / "digits-dcgan")
    stale = json.loads(json.dumps(card))
    stale["metrics"] |= {"kid": 999.0, "fid_per_seed": [0.0] * 5}
    (tmp_path / "digits-dcgan.json").write_text(json.dumps(stale))
    new = rescore_one("digits-dcgan", root=tmp_path)
    assert new["metrics"]["kid"] == card["metrics"]["kid"] and new["metrics"]["fid_per_seed"] == pytest.approx(
        card["metrics"]["fid_per_seed"], abs=2e-4)
    for k in ("train_seconds", "steps", "train_fid_final", "seconds"):
        assert new["metrics"][k] == card["metrics"][k]
    assert new["sha256"] == card["sha256"] and new["rescored"]["seconds"] >= 0
    assert json.loads((tmp_path / "digits-dcgan.json").read_text())["metrics"]["kid"] == card["metrics"]["kid"]
    with pytest.raises(PlaygroundError, match="not shipped"):
        rescore_one("mnist5k-cgan", root=tmp_path)


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


# --- the shipped mnist5k models (issue 11): every card, every model, the scores each card states
MNIST5K = [name for name in MODELS if name.startswith("mnist5k-")]
GANS = [n for n in ("mnist5k-dcgan", "mnist5k-sngan", "mnist5k-cgan") if n in MNIST5K]
CONDITIONAL = [n for n in ("mnist5k-cgan", "mnist5k-cpixelcnn", "mnist5k-cflow") if n in MNIST5K]


@pytest.fixture(scope="module")
def mnist5k():
    """Train and test splits at 28 px, the classifier scoring them, and the training split's features."""
    from playground.images.config import preset_config

    cfg = preset_config("dcgan_mnist5k")
    train, test = load_training_data(cfg, "train", 28), load_training_data(cfg, "test", 28)
    ex = make_extractor("auto", "mnist5k", 28, 1)
    return {"train": train, "test": test, "ex": ex, "real": ex(train.images)}   # the training split's features


def _predicted(ex, images):
    from playground.images.inception_score import classifier_logits

    return classifier_logits(ex, images).argmax(1)


@pytest.mark.parametrize("name", MNIST5K)
def test_every_mnist5k_card_matches_its_files_and_is_small(name):
    card = cards().get(name)
    assert card is not None, f"{name} is missing: run make pretrained"
    ck = RUNS / card["run"] / card["checkpoint"]
    assert sampling.sha256_file(ck) == card["sha256"] and ck.stat().st_size == card["bytes"] <= 2_500_000
    assert card["config"] == json.loads((RUNS / card["run"] / "config.json").read_text())
    assert card["config"]["dataset"] == "mnist5k" and card["config"]["seed"] == 0
    assert f"--preset {name.split('-')[1]}_mnist5k" in card["command"]
    blob = torch.load(ck, map_location="cpu", weights_only=True)
    assert "opts" not in blob and "rng" not in blob
    if card["config"]["model"] == "vae":                       # no EMA: its own weights, whose bounds the card states
        assert blob["nets"] and not blob.get("ema")
    else:
        assert "nets" not in blob and blob["ema"]              # the sampling weights only
    assert list((RUNS / card["run"] / "samples").glob("*.png")), "the last sample grid is shipped"
    m = card["metrics"]
    assert m["fid_features"].startswith("classifier:mnist5k-28px-1ch") and m["is_features"]
    for k in ("fid", "kid", "precision", "recall", "is"):           # each score beside the test split's
        assert isinstance(m[k], float) and isinstance(m[f"{k}_test_vs_train"], float)
    assert m["fid"] == pytest.approx(sum(m["fid_per_seed"]) / len(m["fid_per_seed"]), abs=1e-3)
    assert len(m["fid_per_seed"]) == len(card["eval_commands"])
    assert m["fid_test_vs_train"] < m["fid"] and m["is_test_vs_train"] > 1.0


@pytest.mark.parametrize("name", MNIST5K)
def test_every_mnist5k_model_loads_and_samples_images(name):
    gen = sampling.load_model(name)                         # by name, hash checked against its card
    assert gen.ema == (cards()[name]["config"]["ema_decay"] > 0) and gen.resolution == 28 and gen.channels == 1
    assert gen.step == cards()[name]["metrics"]["steps"]
    x = gen.sample(4, seed=3)
    assert x.shape == (4, 1, 28, 28) and x.dtype == torch.float32
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0 and float(x.std()) > 0.05
    assert torch.equal(x, gen.sample(4, seed=3))             # a seed determines the images


@pytest.mark.parametrize("name", GANS)
def test_shipped_gans_score_what_their_cards_say(name, mnist5k):
    """The GANs are cheap to sample: the first eval seed's FID, measured again, is the card's."""
    card = cards()[name]
    gen = sampling.load_model(name)
    n = card["metrics"]["generated_images"]
    assert n == len(mnist5k["test"])
    assert card["eval_commands"][0] == eval_command(name, 0, n)
    fid = fid_from_features(mnist5k["real"], mnist5k["ex"](gen.sample(n, seed=0)))
    assert fid == pytest.approx(card["metrics"]["fid_per_seed"][0], rel=1e-3)


def test_the_cards_test_split_scores_are_measured_again(mnist5k):
    """Every full-test-split card holds the same baseline: the test digits' FID and IS against the training split."""
    from playground.images.inception_score import inception_score

    test_feats = mnist5k["ex"](mnist5k["test"].images)
    fid = fid_from_features(mnist5k["real"], test_feats)
    kid = kid_from_features(mnist5k["real"], test_feats)[0]
    iscore = inception_score(mnist5k["ex"], mnist5k["test"].images)["is"]
    for name in GANS:
        m = cards()[name]["metrics"]
        assert m["fid_test_vs_train"] == pytest.approx(fid, rel=1e-3), name
        assert m["kid_test_vs_train"] == pytest.approx(kid, abs=6e-5), name           # cards keep 4 decimals
        assert m["is_test_vs_train"] == pytest.approx(iscore, abs=1e-3), name
        if name != "mnist5k-cgan":     # the cGAN's KID (-0.002) is within the test split's own noise at 1,000
            assert m["kid"] > 2 * abs(m["kid_test_vs_train"]), name  # KID tells the others from the test digits


@pytest.mark.slow
@pytest.mark.parametrize("name", CONDITIONAL)
def test_conditional_models_draw_the_class_they_are_asked_for(name, mnist5k):
    card = cards()[name]
    gen = sampling.load_model(name)
    n = {"pixelcnn": 40, "flow_matching": 100}.get(card["config"]["model"], 200)   # 784 or 50 passes a sample
    labels = torch.arange(n) % 10
    acc = float((_predicted(mnist5k["ex"], gen.sample(n, seed=11, labels=labels)) == labels).double().mean())
    floor = {"cgan": 0.9, "flow_matching": 0.8}.get(card["config"]["model"], 0.25)     # chance is 0.1
    assert acc > floor and card["metrics"]["class_accuracy"] > floor
    assert acc == pytest.approx(card["metrics"]["class_accuracy"], abs=0.15)
    assert 0.95 < card["metrics"]["class_accuracy_test_vs_train"] <= 1.0      # the classifier on real digits


def test_pixelcnn_card_nll_is_the_exact_likelihood_of_the_binarised_test_split(mnist5k):
    from playground.images.pixelcnn import binarize, likelihood_scores

    name = "mnist5k-cpixelcnn"
    card = cards()[name]
    assert card["config"]["model"] == "pixelcnn"
    gen = sampling.load_model(name)
    test = mnist5k["test"]
    bits = binarize(test.images)
    assert set(bits.unique().tolist()) == {0.0, 1.0}
    labels = test.labels if card["config"].get("conditional") else None
    got = likelihood_scores(gen.net, bits, labels)
    assert got["test_nll_nats"] == pytest.approx(card["metrics"]["test_nll_nats"], rel=1e-6)
    assert got["test_nll_bits_per_dim"] == pytest.approx(card["metrics"]["test_nll_bits_per_dim"], rel=1e-6)
    assert got["test_nll_bits_per_dim"] == pytest.approx(got["test_nll_nats"] / (784 * math.log(2)), rel=1e-9)
    assert got["test_nll_nats"] < 784 * math.log(2) / 4               # far better than coin flips per pixel
    if labels is not None:                                            # the labels are used: wrong ones cost nats
        wrong = likelihood_scores(gen.net, bits[:200], (labels[:200] + 1) % 10)["test_nll_nats"]
        assert wrong > likelihood_scores(gen.net, bits[:200], labels[:200])["test_nll_nats"] + 1.0


def test_pixelcnn_sampling_pass_gives_the_full_pass_logits_on_the_shipped_model(mnist5k):
    """The sampler's pixel-at-a-time pass (playground.images.pixelcnn_raster) on real weights and real digits:
    every pixel's logit as the full forward pass computes it, up to float32 rounding."""
    from playground.images.pixelcnn import binarize
    from playground.images.pixelcnn_raster import RasterForward

    net = sampling.load_model("mnist5k-cpixelcnn").net.eval()
    x, y = binarize(mnist5k["test"].images[:6]), mnist5k["test"].labels[:6]
    with torch.no_grad():
        full = net(x, y)[:, 0]
    steps, logits = RasterForward(net, 6, 28, y), torch.zeros(6, 28, 28)
    for k in range(28 * 28):
        i, j = divmod(k, 28)
        logits[:, i, j] = steps.logit(i, j)
        steps.place(i, j, x[:, 0, i, j])
    assert float((logits - full).abs().max()) < 1e-4 and float(full.abs().max()) > 5.0


def test_features_match_checks_the_classifier_against_its_card(tmp_path):
    from playground.images.pretrained import FEATURES, features_match

    assert features_match("mnist5k-28px-1ch")
    assert not features_match("no-such-classifier")
    for suffix in (".pt", ".json"):
        shutil.copy(FEATURES / f"mnist5k-28px-1ch{suffix}", tmp_path / f"mnist5k-28px-1ch{suffix}")
    assert features_match("mnist5k-28px-1ch", tmp_path)
    with open(tmp_path / "mnist5k-28px-1ch.pt", "ab") as f:
        f.write(b"\0")
    assert not features_match("mnist5k-28px-1ch", tmp_path)


def test_retrain_main_runs_each_named_model_and_reports_bad_names_and_failures(capsys):
    from playground.cards import retrain_main

    done = []

    def train(name):
        if name == "broken":
            raise PlaygroundError("it diverged")
        done.append(name)
        return {"bytes": 4096, "score": len(name)}

    models = {"a": {}, "bb": {}, "broken": {}}
    assert retrain_main(["bb", "a"], models, train, lambda c: f"score {c['score']}") == 0
    assert done == ["bb", "a"] and "bb: score 2 (" in capsys.readouterr().out
    assert retrain_main(["nope"], models, train, str) == 2 and "unknown model 'nope'" in capsys.readouterr().err
    assert retrain_main(["a", "broken", "bb"], models, train, str) == 1
    assert done == ["bb", "a", "a"] and "error: it diverged" in capsys.readouterr().err
    done.clear()
    assert retrain_main([], {"a": {}, "bb": {}}, train, str) == 0 and done == ["a", "bb"]   # all by default


@pytest.mark.parametrize("name", GANS[:1])
def test_a_shipped_model_without_raw_weights_says_to_sample_with_ema(name):
    with pytest.raises(PlaygroundError, match="only the EMA weights"):
        sampling.load_model(name, use_ema=False)


def test_pages_list_the_shipped_runs_in_the_models_order_not_by_when_they_were_retrained():
    names = [r["name"] for r in sampling.pretrained_runs()]
    assert names == [n for n in MODELS if n in names] and names[0] == "mnist5k-cgan"
    assert set(names) == set(cards())


def test_card_summary_states_each_score_beside_the_test_splits():
    from playground.images.pretrained import card_summary

    card = {"metrics": {"fid": 198.7023, "generated_images": 200, "reference": "train (4000 images)",
                        "fid_test_vs_train": 75.2517, "is": 6.7406, "is_test_vs_train": 7.7465, "precision": 0.59,
                        "recall": 0.9487, "precision_test_vs_train": 0.9, "recall_test_vs_train": 0.8878,
                        "class_accuracy": 0.785, "class_accuracy_test_vs_train": 0.985, "test_nll_nats": 64.4595,
                        "test_nll_bits_per_dim": 0.118617, "fid_features": "classifier:x", "kid": 0.01534,
                        "kid_test_vs_train": -0.0028}}
    head = ("FID 198.70 over 200 images against train (4000 images), where the dataset's test split scores 75.25; "
            "KID 0.0153 (test split -0.0028); IS 6.74 (test split 7.75); precision 0.59, recall 0.95 (test split: 0.90, 0.89); draws the asked "
            "class 78.5% of the time (real test images: 98.5%); exact test NLL 64.46 nats")
    assert card_summary(card) == head + ", 0.119 bits/dim. Features: classifier:x."     # an unconditional one
    card["config"] = {"model": "pixelcnn", "conditional": True}
    assert card_summary(card) == head + " given the label. Features: classifier:x."      # scored before the mixture
    card["metrics"] |= {"test_marginal_nll_nats": 66.0, "test_marginal_nll_bits_per_dim": 0.12145}
    assert card_summary(card) == head + (" given the label, 66.00 nats (0.121 bits/dim) for the mixture over "
                                         "labels. Features: classifier:x.")
    for k in ("is", "class_accuracy", "test_nll_nats", "test_marginal_nll_nats"):
        del card["metrics"][k]
    card["metrics"] |= {"elbo_nats": -80.123, "iwae_nats": -77.5}
    assert card_summary(card).endswith("(test split: 0.90, 0.89); test -ELBO 80.12 nats, -IWAE 77.50 (bounds on "
                                       "-log p(x)). Features: classifier:x.")
    del card["metrics"]["elbo_nats"]
    assert card_summary(card) == (
        "FID 198.70 over 200 images against train (4000 images), where the dataset's test split scores 75.25; "
        "KID 0.0153 (test split -0.0028); precision 0.59, recall 0.95 (test split: 0.90, 0.89). Features: "
        "classifier:x.")


def test_the_shipped_vaes_bounds_sit_above_the_pixelcnns_exact_likelihood(mnist5k):
    """The likelihood-vs-bound lesson on the shipped cards, on one binarised test split: the PixelCNN's exact
    -log p(x) (its class mixture) < the VAE's -IWAE(64) < its -ELBO; and the VAE's ELBO measured again (with 4
    samples an image, not the card's 64: the same expectation, within Monte Carlo error)."""
    from playground.configs import from_saved
    from playground.images import families
    from playground.images.config import ImageRunConfig
    from playground.images.pixelcnn import binarize
    from playground.images.trainer import load_run_checkpoint
    from playground.vae.metrics import evaluate

    vae, pcnn = cards()["mnist5k-vae"]["metrics"], cards()["mnist5k-cpixelcnn"]["metrics"]
    assert cards()["mnist5k-vae"]["config"]["binarize"] and cards()["mnist5k-cpixelcnn"]["config"]["model"] == "pixelcnn"
    assert pcnn["test_marginal_nll_nats"] < -vae["iwae_nats"] < -vae["elbo_nats"]
    assert pcnn["test_nll_nats"] < pcnn["test_marginal_nll_nats"]        # knowing the label helps
    ck = load_run_checkpoint(RUNS / "mnist5k-vae" / "checkpoints" / "latest.pt")
    nets = families.build(from_saved(ImageRunConfig, ck["config"]), 1, 28, None)
    nets["vae"].load_state_dict(ck["nets"]["vae"])
    again = evaluate(nets["vae"].vae, binarize(mnist5k["test"].images), k=4, seed=1)
    assert again["test_elbo"] == pytest.approx(vae["elbo_nats"], abs=0.5)
