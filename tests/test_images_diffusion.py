"""Diffusion and flow matching on images: the shape-agnostic core against closed forms, the U-Net's shapes,
dry runs of both image models (loss finite and decreasing, trajectories, samplers)."""

import itertools
import math

import pytest
import torch

from playground import diffusion_core as core
from playground.errors import PlaygroundError
from playground.images import diffusion as D
from playground.images.unet import UNet


def test_noised_broadcasts_per_sample_and_has_the_forward_moments():
    g = torch.Generator().manual_seed(0)
    z0 = torch.full((4000, 1, 3, 3), 2.0)
    ab = torch.tensor([0.25, 0.81]).repeat(2000)
    z = core.noised(z0, ab, torch.randn(z0.shape, generator=g))
    for k, a in enumerate((0.25, 0.81)):
        part = z[k::2]
        assert float(part.mean()) == pytest.approx(2.0 * math.sqrt(a), abs=0.03)
        assert float(part.var()) == pytest.approx(1 - a, abs=0.03)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_samplers_with_the_exact_noise_of_a_point_mass_land_on_it(sampler):
    """For data that is one image x*, eps(z, t) = (z - sqrt(ab_t) x*) / sqrt(1 - ab_t) is exact; every
    sampler step then keeps z0's estimate at x*, so both samplers end exactly on it, whatever the steps."""
    target = torch.rand(3, 1, 4, 4) * 2 - 1
    ab = core.alpha_bars("cosine", 100)
    g = torch.Generator().manual_seed(0)
    for steps in (1, 7, 100):
        lv = core.levels(100, steps)
        assert lv[0] == 100 and lv[-1] == 0 and len(lv) == steps + 1
        z = torch.randn(target.shape, generator=g)
        for t, s in itertools.pairwise(lv):
            eps = (z - math.sqrt(ab[t]) * target) / math.sqrt(1 - ab[t])
            z = core.reverse_step(z, eps, float(ab[t]), float(ab[s]), sampler, g, last=s == 0)
        assert torch.allclose(z, target, atol=1e-4)


def test_clipping_leaves_an_in_range_estimate_alone_and_bounds_a_wild_one():
    """clip=1: with the exact noise of an in-range point mass the step is the unclipped one; with a wild eps the
    DDIM step is sqrt(ab_s) clamp(z0) + sqrt(1 - ab_s) eps', eps' re-derived from the clamped z0."""
    ab_t, ab_s = 0.01, 0.3
    x = torch.tensor([0.5, -0.9, 0.0])
    z = math.sqrt(ab_t) * x + math.sqrt(1 - ab_t) * torch.tensor([1.0, -2.0, 0.3])
    exact = (z - math.sqrt(ab_t) * x) / math.sqrt(1 - ab_t)
    for sampler in ("ddim", "ddpm"):
        a = core.reverse_step(z, exact, ab_t, ab_s, sampler, torch.Generator().manual_seed(1))
        b = core.reverse_step(z, exact, ab_t, ab_s, sampler, torch.Generator().manual_seed(1), clip=1.0)
        torch.testing.assert_close(a, b)
    wild = exact + 3.0                                    # z0 estimate = x - 3 sqrt(1 - ab_t) / sqrt(ab_t) < -1
    z0 = ((z - math.sqrt(1 - ab_t) * wild) / math.sqrt(ab_t)).clamp(-1, 1)
    assert torch.all(z0 == -1.0)
    eps = (z - math.sqrt(ab_t) * z0) / math.sqrt(1 - ab_t)
    want = math.sqrt(ab_s) * z0 + math.sqrt(1 - ab_s) * eps
    torch.testing.assert_close(core.reverse_step(z, wild, ab_t, ab_s, "ddim", clip=1.0), want)
    last = core.reverse_step(z, wild, ab_t, 1.0, "ddim", clip=1.0)     # to level 0: the clamped estimate itself
    torch.testing.assert_close(last, z0)


def test_ode_solvers_exact_for_a_point_mass_and_midpoint_second_order():
    target = torch.rand(2, 1, 3, 3)
    for solver in core.SOLVERS:
        path = core.integrate(lambda z, t: (target - z) / (1 - t), torch.randn(2, 1, 3, 3), 5, solver)
        assert len(path) == 6 and torch.allclose(path[-1], target, atol=1e-5)
    # dz/dt = -z from 1: z(1) = e^-1. Euler's error halves with the step, midpoint's quarters.
    err = {s: [abs(float(core.integrate(lambda z, t: -z, torch.ones(1), n, s)[-1]) - math.exp(-1))
               for n in (10, 20)] for s in core.SOLVERS}
    assert err["euler"][0] / err["euler"][1] == pytest.approx(2.0, rel=0.1)
    assert err["midpoint"][0] / err["midpoint"][1] == pytest.approx(4.0, rel=0.1)
    assert err["midpoint"][1] < err["euler"][1] / 10
    zt, v = core.flow_path(torch.zeros(2, 3), torch.ones(2, 3), torch.tensor([0.25, 1.0]))
    assert zt[:, 0].tolist() == [0.25, 1.0] and torch.equal(v, torch.ones(2, 3))


@pytest.mark.parametrize("resolution,mults", [(28, (1, 2, 2)), (32, (1, 2, 2)), (8, (1, 2))])
def test_unet_keeps_the_shape_and_starts_at_zero(resolution, mults):
    net = UNet(1, 8, mults, num_classes=10)
    x = torch.randn(3, 1, resolution, resolution)
    out = net(x, torch.rand(3), torch.tensor([0, 5, 9]))
    assert out.shape == x.shape and float(out.detach().abs().max()) == 0.0  # zero-initialised last conv
    with torch.no_grad():
        net.out.weight.normal_()
    a, b = net(x, 0.2, torch.tensor([1, 1, 1])), net(x, 0.2, torch.tensor([2, 2, 2]))
    assert not torch.allclose(a, b) and not torch.allclose(a, net(x, 0.7, torch.tensor([1, 1, 1])))
    with pytest.raises(PlaygroundError):
        net(x, 0.2)                                                          # labels missing
    with pytest.raises(PlaygroundError):
        UNet(1, 8, (1, 2, 2, 2))(torch.randn(1, 1, 28, 28), 0.5)            # 28 is not a multiple of 8


@pytest.mark.parametrize("kind", ["diffusion", "flow_matching"])
def test_dry_run_loss_decreases_and_sampling_paths(kind):
    torch.manual_seed(0)
    model = D.build_image_model(kind, channels=1, resolution=8, width=8, mults=(1, 2), num_classes=2,
                                sample_steps=4)
    x = torch.zeros(8, 1, 8, 8)
    x[:, :, 2:6, 3:5] = 1.0                                                 # one bar: easy to learn
    y = torch.tensor([0, 1] * 4)
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    losses = []
    for step in range(12):
        loss = model.loss(x, torch.Generator().manual_seed(step % 3), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(math.isfinite(v) for v in losses)
    assert sum(losses[-3:]) < 0.8 * sum(losses[:3])
    path = model.trajectory(2, torch.Generator().manual_seed(5), y=torch.tensor([0, 1]))
    assert len(path) == 5 and all(p.shape == (2, 1, 8, 8) for p in path)
    again = model.trajectory(2, torch.Generator().manual_seed(5), steps=2, y=torch.tensor([0, 1]))
    assert len(again) == 3 and torch.equal(again[0], path[0])              # same seed, same starting noise
    images = model.sample(3, torch.Generator().manual_seed(1), y=torch.tensor([0, 1, 0]))
    assert images.shape == (3, 1, 8, 8) and 0.0 <= float(images.min()) and float(images.max()) <= 1.0


def test_bad_choices_are_plain_errors():
    with pytest.raises(PlaygroundError):
        D.build_image_model("gan", channels=1, resolution=8)
    with pytest.raises(PlaygroundError):
        D.build_image_model("diffusion", channels=1, resolution=9, mults=(1, 2))
    with pytest.raises(PlaygroundError):
        core.levels(10, 11)
    with pytest.raises(PlaygroundError):
        core.reverse_step(torch.zeros(1), torch.zeros(1), 0.5, 0.9, "euler")
