"""The shipped VAEs: every card's hash matches its weights, they load safely, and their metrics hold up."""

import json
import numpy as np

import pytest
import torch

from playground.errors import PlaygroundError
from playground.vae.checkpoint import sha256_file
from playground.vae.pretrained import MODELS, ROOT, cards, command, load_pretrained

pytestmark = pytest.mark.skipif(not (ROOT / "digits-2d.json").is_file(), reason="run make pretrained")


def test_every_model_has_a_card_matching_its_weights():
    have = cards()
    assert set(MODELS) <= set(have)
    for name, card in have.items():
        assert sha256_file(ROOT / card["weights"]) == card["sha256"], name
        assert card["command"] == command(name)
        assert card["config"]["dataset"] == card["dataset"]
        m = card["metrics"]
        assert m["test_iwae"] >= m["test_elbo"], name  # the importance-weighted bound is never below the ELBO
        # small files: 600 KB for 8x8/16x16 models, 2.5 MB for the 28x28 mnist5k MLP (784-pixel layers)
        assert card["bytes"] < (2_500_000 if card["dataset"] == "mnist5k" else 600_000), name
        model, ckpt, _ = load_pretrained(name)
        assert model.latent == card["config"]["latent_dim"] and "optimizer" not in ckpt


def test_beta4_disentangles_sprites_better_than_beta1():
    c = cards()
    assert c["sprites-bvae"]["config"]["kl_weight"] == 4 and c["sprites-vae"]["config"]["kl_weight"] == 1
    assert c["sprites-bvae"]["metrics"]["mig"] > c["sprites-vae"]["metrics"]["mig"]
    assert c["digits-2d"]["config"]["latent_dim"] == 2 and c["digits-cvae"]["config"]["conditional"]


def test_a_tampered_shipped_file_is_refused(tmp_path):
    card = cards()["digits-2d"]
    data = bytearray((ROOT / card["weights"]).read_bytes())
    data[-100] ^= 1
    (tmp_path / card["weights"]).write_bytes(bytes(data))
    (tmp_path / "digits-2d.json").write_text(json.dumps(card))
    with pytest.raises(PlaygroundError, match="hash"):
        load_pretrained("digits-2d", root=tmp_path)
    with pytest.raises(PlaygroundError, match="no pretrained"):
        load_pretrained("nope")


def test_shipped_digits_model_metrics_reproduce_in_eval():
    from playground.data import load_dataset
    from playground.vae.metrics import evaluate

    model, _, card = load_pretrained("digits-2d")
    test = load_dataset("digits", "test")
    res = evaluate(model, test.images, k=card["metrics"]["iwae_k"], seed=card["config"]["seed"])
    assert res["test_elbo"] == pytest.approx(card["metrics"]["test_elbo"], abs=1e-3)
    assert res["test_iwae"] == pytest.approx(card["metrics"]["test_iwae"], abs=1e-3)
    assert torch.get_num_threads() >= 1


def test_shipped_mnist5k_2d_matches_its_card_and_decodes_28x28():
    from playground.vae.checkpoint import sha256_file
    from playground.vae.latent import decode

    card = cards()["mnist5k-2d"]
    assert list(cards())[0] == "mnist5k-2d"                       # shown first in the VAE lab
    assert sha256_file(ROOT / card["weights"]) == card["sha256"]
    assert card["dataset"] == "mnist5k" and card["config"]["latent_dim"] == 2
    model, _, _ = load_pretrained("mnist5k-2d")
    images = decode(model, np.zeros((3, 2), dtype=np.float32))
    assert tuple(images.shape) == (3, 1, 28, 28)
    assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0 and float(images.std()) > 0.01
    assert card["metrics"]["test_iwae"] >= card["metrics"]["test_elbo"]
