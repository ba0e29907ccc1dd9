"""The step loop: determinism, live changes, resets, single steps and the update arrows."""

import dataclasses

import numpy as np
import pytest
import torch

from playground.toy.config import ToyConfig
from playground.toy.lab import LabSession
from playground.toy.trainer import ToyGAN

SMALL = ToyConfig(g_width=32, d_width=32, g_layers=2, d_layers=2, batch_size=64)


def params(m):
    return torch.cat([p.detach().flatten() for p in m.parameters()])


def test_same_config_same_run_and_looking_does_not_change_it():
    a, b = LabSession(SMALL), LabSession(SMALL)
    for _ in range(5):
        a.gan.train(20)
        a.snapshot()          # displays and metrics draw from their own generators
        a.evaluate_now()
    b.gan.train(100)
    assert torch.equal(params(a.gan.G), params(b.gan.G))
    assert torch.equal(params(a.gan.D), params(b.gan.D))
    c = ToyGAN(dataclasses.replace(SMALL, seed=1))
    c.train(100)
    assert not torch.equal(params(a.gan.G), params(c.G))


def test_spectral_norm_run_is_deterministic_despite_snapshots():
    cfg = dataclasses.replace(SMALL, spectral_norm=True, loss="hinge")
    a, b = LabSession(cfg), LabSession(cfg)
    a.gan.train(10)
    a.snapshot()
    a.gan.train(10)
    b.gan.train(20)
    assert torch.equal(params(a.gan.D), params(b.gan.D))


def test_live_changes_apply_without_reset():
    gan = ToyGAN(SMALL)
    gan.train(5)
    new = dataclasses.replace(gan.cfg, d_lr=1e-3, g_opt="rmsprop", loss="hinge", d_steps=3, batch_size=32)
    assert gan.needs_reset(new) == set()
    g_before = params(gan.G)
    gan.apply(new)
    assert torch.equal(params(gan.G), g_before)     # weights kept
    # the new base rate, on the default half-life schedule from the current step on
    assert gan.d_opt.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5 ** (5 / gan.cfg.lr_half_life))
    assert isinstance(gan.g_opt, torch.optim.RMSprop)
    before = gan.d_updates
    gan.train(2)
    assert gan.d_updates - before == 6 and gan.step == 7


@pytest.mark.parametrize("change", [{"dist": "grid25"}, {"g_width": 16}, {"latent_dim": 3}, {"seed": 9},
                                    {"spectral_norm": True}, {"std": 0.1}])
def test_data_architecture_noise_changes_need_reset(change):
    gan = ToyGAN(SMALL)
    new = dataclasses.replace(gan.cfg, **change)
    assert gan.needs_reset(new) == set(change)
    with pytest.raises(ValueError):
        gan.apply(new)


def test_single_steps_update_only_one_network():
    gan = ToyGAN(SMALL)
    g0, d0 = params(gan.G), params(gan.D)
    gan.single_step("d")
    assert torch.equal(params(gan.G), g0) and not torch.equal(params(gan.D), d0)
    d1 = params(gan.D)
    gan.single_step("g")
    assert torch.equal(params(gan.D), d1) and not torch.equal(params(gan.G), g0)
    steps, dl, _ = gan.losses()
    assert list(steps) == [1, 2] and len(dl) == 2
    # the learning-rate schedule follows single steps too
    assert gan.d_opt.param_groups[0]["lr"] == pytest.approx(gan.cfg.d_lr * 0.5 ** (2 / gan.cfg.lr_half_life))


def test_wgan_clips_discriminator_weights():
    gan = ToyGAN(dataclasses.replace(SMALL, loss="wgan", clip=0.01, d_lr=0.05))
    gan.train(3)
    assert max(p.abs().max().item() for p in gan.D.parameters()) <= 0.01 + 1e-9


@pytest.mark.parametrize("loss", ["minimax", "nonsaturating", "least_squares", "hinge", "wgan", "wgan_gp"])
def test_every_objective_trains_and_stays_finite(loss):
    gan = ToyGAN(dataclasses.replace(SMALL, loss=loss, r1=1.0 if loss == "nonsaturating" else 0.0))
    gan.train(20)
    _, dl, gl = gan.losses()
    assert np.isfinite(dl).all() and np.isfinite(gl).all()


def test_arrows_are_minus_the_per_sample_loss_gradient():
    gan = ToyGAN(dataclasses.replace(SMALL, loss="minimax"))
    # Replace D by a linear map l(x) = w.x + b: the minimax loss log(1 - sigmoid(l)) has
    # -d/dx = sigmoid(l) * w.
    lin = torch.nn.Linear(2, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.5, -1.5]]))
        lin.bias.fill_(0.2)
    gan.D = torch.nn.Sequential(lin)
    x = np.array([[0.0, 0.0], [1.0, 2.0], [-3.0, 1.0]])
    logit = x @ np.array([0.5, -1.5]) + 0.2
    expected = (1 / (1 + np.exp(-logit)))[:, None] * np.array([0.5, -1.5])
    np.testing.assert_allclose(gan.sample_gradients(x), expected, rtol=1e-5)


def test_bad_start_offset_moves_initial_samples():
    far = ToyGAN(dataclasses.replace(SMALL, init_offset=4.0))
    near = ToyGAN(SMALL)
    np.testing.assert_allclose(far.sample(100) - near.sample(100), 4.0, atol=1e-5)


def test_learning_rates_halve_every_half_life_and_change_live():
    gan = ToyGAN(dataclasses.replace(SMALL, lr_half_life=4, d_lr=1e-3, g_lr=4e-4))
    gan.train(8)
    assert gan.d_opt.param_groups[0]["lr"] == pytest.approx(1e-3 / 4)
    assert gan.g_opt.param_groups[0]["lr"] == pytest.approx(4e-4 / 4)
    gan.apply(dataclasses.replace(gan.cfg, lr_half_life=0))     # back to constant, at once
    assert gan.d_opt.param_groups[0]["lr"] == pytest.approx(1e-3)


# Each objective's per-sample losses written by hand (probabilities and logs), independent of the table.
HAND_D = {
    "minimax": lambda r, f: -torch.log(torch.sigmoid(r)) - torch.log(1 - torch.sigmoid(f)),
    "least_squares": lambda r, f: 0.5 * (r - 1) ** 2 + 0.5 * f**2,
    "hinge": lambda r, f: torch.clamp(1 - r, min=0) + torch.clamp(1 + f, min=0),
    "wgan": lambda r, f: f - r,
}
HAND_D.update(nonsaturating=HAND_D["minimax"], wgan_gp=HAND_D["wgan"])
HAND_G = {
    "minimax": lambda f: torch.log(1 - torch.sigmoid(f)),
    "nonsaturating": lambda f: -torch.log(torch.sigmoid(f)),
    "least_squares": lambda f: 0.5 * (f - 1) ** 2,
    "hinge": lambda f: -f, "wgan": lambda f: -f, "wgan_gp": lambda f: -f,
}


def assert_same_grads(trained, reference_net, reference):
    """`trained`'s .grad equals d reference / d (reference_net's parameters), parameter by parameter."""
    grads = torch.autograd.grad(reference, list(reference_net.parameters()))
    for p, g in zip(trained.parameters(), grads):
        torch.testing.assert_close(p.grad, g, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("loss", ["minimax", "nonsaturating", "least_squares", "hinge", "wgan", "wgan_gp"])
@pytest.mark.parametrize("r1", [0.0, 2.0])
def test_step_gradients_equal_the_hand_written_objective(loss, r1):
    """step_d / step_g leave behind the gradients of the hand-written loss, with WGAN-GP's penalty on the
    same interpolates and R1 (which step_d computes from the forward pass it reuses) by a separate pass."""
    from playground.penalties import gradient_penalty, interpolation_weights, r1_penalty
    from playground.toy.nets import sample_noise

    cfg = dataclasses.replace(SMALL, loss=loss, r1=r1)
    a, b = ToyGAN(cfg), ToyGAN(cfg)
    a.train(3)
    b.train(3)
    real = b.target.sample(cfg.batch_size, b.rng)
    with torch.no_grad():
        fake = b.G(sample_noise(cfg.batch_size, cfg.latent_dim, cfg.noise, b.rng))
    ref = HAND_D[loss](b.D(real), b.D(fake)).mean()
    if loss == "wgan_gp":
        ref = ref + cfg.gp_weight * gradient_penalty(b.D, real, fake, alpha=interpolation_weights(real, b.rng))
    if r1:
        ref = ref + r1 * r1_penalty(b.D, real)
    a.d_opt.step = lambda: None          # keep a's weights: compare the gradients its step left behind
    assert a.step_d().item() == pytest.approx(ref.item(), rel=1e-5)
    assert_same_grads(a.D, b.D, ref)
    assert a.rng.get_state().equal(b.rng.get_state())      # the step drew exactly what the reference drew
    g_ref = HAND_G[loss](b.D(b.G(sample_noise(cfg.batch_size, cfg.latent_dim, cfg.noise, b.rng)))).mean()
    a.g_opt.step = lambda: None
    assert a.step_g().item() == pytest.approx(g_ref.item(), rel=1e-5)
    assert_same_grads(a.G, b.G, g_ref)


def test_loss_history_survives_its_buffer_growing_and_is_read_without_copying():
    gan = ToyGAN(dataclasses.replace(SMALL, batch_size=8))
    gan.train(700)
    first = gan.losses()                      # flushed into the buffer at 700 steps
    gan.train(700)                            # past the first 1,024 slots: the buffer grows
    steps, dl, gl = gan.losses()
    assert steps.dtype == np.int64 and list(steps) == list(range(1, 1401))
    assert np.array_equal(dl[:700], first[1]) and np.array_equal(gl[:700], first[2])
    assert np.isfinite(dl).all() and np.isfinite(gl).all()
    again = gan.losses()                      # nothing new: the same memory, not a copy of the history
    assert all(np.shares_memory(a, b) for a, b in zip(again, (steps, dl, gl)))
