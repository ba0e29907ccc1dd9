"""The decoder program the page runs in the browser: the numpy reference interpreter reproduces VAE.decode
for every architecture, decoder, size and conditioning; the shipped models export; unknown layers refuse."""

import json

import numpy as np
import pytest
import torch

from playground.errors import PlaygroundError
from playground.vae import VAEConfig, build_model
from playground.vae.export import decoder_program, run_program
from playground.vae.latent import decode
from playground.vae.pretrained import ROOT, cards, load_pretrained

CASES = [("mlp", "bernoulli", (1, 8, 8), False), ("mlp", "gaussian", (3, 12, 12), False),
         ("conv", "bernoulli", (1, 8, 8), False), ("conv", "gaussian", (1, 16, 16), False),
         ("conv", "bernoulli", (1, 28, 28), False),    # 4 -> 7 -> 14 -> 28: upsampling by a non-integer ratio
         ("conv", "gaussian", (3, 13, 13), True), ("mlp", "bernoulli", (1, 8, 8), True)]


@pytest.mark.parametrize("arch,decoder,shape,conditional", CASES)
def test_program_reproduces_decode(arch, decoder, shape, conditional):
    cfg = VAEConfig(arch=arch, decoder=decoder, latent_dim=5, hidden=32, conditional=conditional, seed=3)
    model = build_model(cfg, shape, num_classes=10 if conditional else None)
    with torch.no_grad():   # random weights are too tame: make the activations reach the non-linearities
        for p in model.decoder.parameters():
            p.mul_(3.0)
    prog = json.loads(json.dumps(decoder_program(model)))     # what travels to the browser
    z = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32) * 2
    y = np.arange(6) % 10 if conditional else None
    want = decode(model, z, y).numpy()
    got = run_program(prog, z, y)
    assert got.shape == want.shape == (6, *shape)
    assert np.abs(got - want).max() < 1e-5
    assert want.std() > 0.05                                  # a test on images that actually vary


@pytest.mark.skipif(not (ROOT / "digits-2d.json").is_file(), reason="run make pretrained")
def test_shipped_models_export_and_match():
    for name in cards():
        model, _, _ = load_pretrained(name)
        prog = decoder_program(model)
        z = np.random.default_rng(1).standard_normal((4, model.latent)).astype(np.float32)
        y = 3 if model.num_classes else None
        assert np.abs(run_program(prog, z, y) - decode(model, z, y).numpy()).max() < 1e-5, name
        # Sent to the browser once per model: float32 weights in base64 (16/3 bytes a parameter) and little else,
        # and at most the 2.5 MB a shipped 28x28 model may weigh on disk.
        n_params = sum(p.numel() for p in model.decoder.parameters())
        size = len(json.dumps(prog))
        assert size < 5.5 * n_params + 20_000, name
        assert size < 2_500_000, name


def test_unknown_layers_are_refused():
    model = build_model(VAEConfig(latent_dim=2, hidden=16), (1, 8, 8))
    model.decoder.net[1] = torch.nn.Tanh()
    with pytest.raises(PlaygroundError, match="Tanh"):
        decoder_program(model)
    prog = decoder_program(build_model(VAEConfig(latent_dim=2, hidden=16), (1, 8, 8)))
    prog["ops"].insert(0, {"op": "softmax"})
    with pytest.raises(PlaygroundError, match="softmax"):
        run_program(prog, np.zeros(2))

