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


# ------------------------------------------------------------------ the GAN lab's full config in the families lab
def _lesson_toys():
    from playground.toy.config import ToyConfig
    from playground.toy.presets import LESSON_PAIRS, PRESETS

    names = sorted({n for pair in LESSON_PAIRS.values() for n in pair})
    return [(n, PRESETS[n].config(ToyConfig)) for n in names]


@pytest.mark.parametrize("name,toy", _lesson_toys())
def test_every_lesson_preset_round_trips_through_family_config(name, toy):
    from playground.configs import from_json, to_json
    from playground.families.setup import setup_from_query, setup_query

    cfg = FamilyConfig.from_toy(toy, steps=4000)
    assert cfg.model == "gan" and cfg.steps == 4000
    assert cfg.toy_config() == toy
    assert from_json(FamilyConfig, to_json(cfg)).toy_config() == toy
    (back,), problems = setup_from_query(setup_query([cfg]))
    assert problems == [] and back == cfg


def test_a_full_toy_config_reaches_the_engine():
    """Built through FamilyConfig, the two-time-scale lesson (its own learning rates, g_steps 2, a 1D latent)
    trains bit for bit as the GAN lab's engine does with that config."""
    from playground.toy.config import ToyConfig
    from playground.toy.presets import PRESETS

    toy = PRESETS["fix_ttur"].config(ToyConfig)
    tr = FamilyTrainer(FamilyConfig.from_toy(toy))
    assert tr.model.gan.cfg == toy and tr.model.G[0].in_features == 1
    tr.train(6)
    ref = ToyGAN(toy)
    ref.train(6)
    assert ref.g_updates == 12 and tr.model.gan.g_updates == 12
    for a, b in zip(tr.model.parameters(), list(ref.G.parameters()) + list(ref.D.parameters())):
        assert torch.equal(a, b)


@pytest.mark.parametrize("settings,match", [
    (("nope=1",), "not a GAN lab setting"), (("d_steps",), "not name=value"), (("seed=3",), "set seed instead"),
    (("loss=hinge",), "set gan_loss instead"), (("d_steps=0",), "below the minimum"),
    (("pack=2", "pack=3"), "given twice")])
def test_bad_gan_settings_are_one_line_errors(settings, match):
    from playground.configs import from_dict

    with pytest.raises(PlaygroundError, match=match):
        from_dict(FamilyConfig, {"model": "gan", "gan_settings": list(settings)})


def test_gan_settings_old_names_and_live_changes():
    from dataclasses import replace

    cfg = FamilyConfig(model="gan", gan_settings=("noise_dim=1", "d_lr=1e-3"))
    assert cfg.toy_config().latent_dim == 1 and cfg.toy_config().d_lr == 1e-3
    tr = FamilyTrainer(cfg)
    tr.apply(replace(cfg, gan_settings=("noise_dim=1", "d_lr=5e-4", "d_steps=3")))   # live in the GAN lab
    assert tr.model.gan.cfg.d_steps == 3 and tr.model.gan.d_opt.param_groups[0]["lr"] == pytest.approx(5e-4)
    with pytest.raises(PlaygroundError, match="GAN's pack needs a reset"):
        tr.apply(replace(cfg, gan_settings=("noise_dim=1", "pack=2")))
    assert tr.cfg.gan_settings == ("noise_dim=1", "d_lr=5e-4", "d_steps=3")      # the refused change left no trace


def test_lesson_pairs_are_families_presets_side_by_side():
    from playground.families.lockstep import Lockstep
    from playground.families.setup import PRESETS
    from playground.toy.config import ToyConfig
    from playground.toy.presets import LESSON_PAIRS, PRESETS as GAN_PRESETS

    for fix, (start, fixed) in LESSON_PAIRS.items():
        cfgs = PRESETS[f"gan_{fix}"].configs()
        assert [c.toy_config() for c in cfgs] == [GAN_PRESETS[n].config(ToyConfig) for n in (start, fixed)]
    ls = Lockstep(PRESETS["gan_unrolled"].configs())
    ls.tick()
    assert [tr.step for tr in ls.trainers] == [1, 1]
