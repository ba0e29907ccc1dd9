"""The GAN family wraps the GAN lab's engine: same weights and samples as a ToyGAN run with the same settings."""

import io

import numpy as np
import pytest
import torch

from playground.errors import PlaygroundError
from playground.families.config import FamilyConfig
from playground.families.gan import GANFamily, toy_config
from playground.families.trainer import FamilyTrainer
from playground.toy.nets import sample_noise
from playground.toy.trainer import ToyGAN

CFG = FamilyConfig(model="gan", dist="two_gaussians", batch_size=64, seed=3, gan_loss="hinge")


def test_toy_config_carries_target_seed_batch_and_loss():
    t = toy_config(CFG)
    assert (t.dist, t.radius, t.std, t.seed, t.batch_size, t.loss) == ("two_gaussians", 2.0, 0.5, 3, 64, "hinge")


def test_trainer_steps_are_gan_lab_iterations():
    tr = FamilyTrainer(CFG)
    assert isinstance(tr.model, GANFamily) and tr.opt is None and tr.model.likelihood == "none"
    tr.train(5)
    ref = ToyGAN(toy_config(CFG))
    ref.train(5)
    for a, b in zip(tr.model.parameters(), list(ref.G.parameters()) + list(ref.D.parameters())):
        assert torch.equal(a, b)
    assert tr.step == 5 and tr.model.gan.step == 5
    assert tr.losses[-1] == pytest.approx(float(ref.losses()[2][-1]))      # the G loss of the last iteration
    z = sample_noise(100, ref.cfg.latent_dim, ref.cfg.noise, torch.Generator().manual_seed(0))
    np.testing.assert_allclose(tr.model.sample(100, torch.Generator().manual_seed(0)).numpy(),
                               ref.generate(z), atol=1e-6)


def test_parameters_state_dict_and_no_density():
    tr = FamilyTrainer(CFG)
    n = sum(p.numel() for p in tr.model.parameters())
    assert n == sum(p.numel() for p in tr.model.G.parameters()) + sum(p.numel() for p in tr.model.D.parameters())
    buf = io.BytesIO()
    torch.save(tr.model.state_dict(), buf)
    buf.seek(0)
    other = FamilyTrainer(FamilyConfig(**{**CFG.__dict__, "seed": 4})).model
    other.load_state_dict(torch.load(buf, weights_only=True))
    g = torch.Generator().manual_seed(1)
    assert torch.equal(other.sample(8, g), tr.model.sample(8, torch.Generator().manual_seed(1)))
    with pytest.raises(PlaygroundError, match="no density"):
        tr.model.log_prob(torch.zeros(2, 2))
    assert torch.isfinite(tr.model.training_loss(torch.zeros(16, 2), torch.Generator().manual_seed(0)))


def test_live_batch_size_reaches_the_gan_lab_engine():
    from dataclasses import replace

    tr = FamilyTrainer(CFG)
    tr.apply(replace(CFG, batch_size=32, gan_loss="wgan_gp"))
    assert tr.model.gan.cfg.batch_size == 32 and tr.model.gan.cfg.loss == "wgan_gp"
    tr.train(1)
