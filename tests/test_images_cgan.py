"""Class-conditional GAN: cBN shapes and per-class affine maps, projection D's class dependence, dry runs."""

import pytest
import torch

from playground.errors import PlaygroundError
from playground.images import cgan as C
from playground.objectives import get_objective


def test_conditional_batch_norm_applies_the_class_affine_map():
    bn = C.ConditionalBatchNorm2d(3, num_classes=4)
    with torch.no_grad():
        bn.gamma.copy_(torch.arange(12.0).view(4, 3))
        bn.beta.copy_(-torch.arange(12.0).view(4, 3))
    x = torch.randn(6, 3, 5, 5, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 3, 1, 2])
    out = bn(x, C.class_weights(y, 4))
    assert out.shape == x.shape
    x_hat = (x - x.mean((0, 2, 3), keepdim=True)) / torch.sqrt(x.var((0, 2, 3), unbiased=False, keepdim=True) + 1e-5)
    expect = bn.gamma[y][:, :, None, None] * x_hat + bn.beta[y][:, :, None, None]
    assert torch.allclose(out, expect, atol=1e-5)


@pytest.mark.parametrize("resolution", [8, 16, 32])
def test_shapes_and_class_noise_grid(resolution):
    nets = C.build_cgan(latent_dim=8, g_width=4, d_width=4, channels=1, resolution=resolution, num_classes=3)
    G, D = nets["G"], nets["D"]
    z = torch.randn(5, 8)
    x = G(z, torch.tensor([0, 1, 2, 0, 1]))
    assert x.shape == (5, 1, resolution, resolution) and float(x.detach().abs().max()) <= 1.0
    assert D(x, torch.tensor([0, 1, 2, 0, 1])).shape == (5,)
    with torch.no_grad():                                 # as after training: class tables that differ
        for norm in G.norms:
            norm.gamma.normal_(1.0, 0.5)
            norm.beta.normal_(0.0, 0.5)
    G.eval()
    grid = C.class_noise_grid(G, torch.randn(4, 8))
    assert grid.shape == (3, 4, 1, resolution, resolution)
    # same noise, different class: different images (the class acts)
    assert not torch.allclose(grid[0], grid[1])
    strip = C.class_interpolation(G, torch.randn(1, 8), 0, 2, steps=5)
    assert strip.shape == (5, 1, resolution, resolution)


def test_projection_discriminator_class_term_is_the_inner_product():
    torch.manual_seed(0)
    D = C.ProjectionDiscriminator(4, 1, 8, num_classes=3).eval()
    with torch.no_grad():
        x = torch.rand(4, 1, 8, 8)
        scores = torch.stack([D(x, torch.full((4,), k)) for k in range(3)], 1)     # (4, 3)
        h = D.phi(x)
        e = D.embed(torch.eye(3))                          # (3, c): each class's embedding (spectrally normed)
        base = D.linear(h).flatten()
        assert torch.allclose(scores, base[:, None] + h @ e.T, atol=1e-5)
        assert (scores[:, 0] - scores[:, 1]).abs().max() > 1e-6             # the label changes the score
        # soft labels are linear: half-half weights give the average of the two scores
        half = D(x, torch.tensor([[0.5, 0.5, 0.0]]).repeat(4, 1))
        assert torch.allclose(half, 0.5 * (scores[:, 0] + scores[:, 1]), atol=1e-5)


def test_a_few_steps_train_d_to_separate_real_from_fake_and_g_follows():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    nets = C.build_cgan(latent_dim=8, g_width=8, d_width=8, channels=1, resolution=8, num_classes=2)
    G, D = nets["G"], nets["D"]
    obj = get_objective("hinge")
    real = torch.rand(16, 1, 8, 8) * 2 - 1
    y_real = torch.tensor([0, 1] * 8)
    z, y_fake = torch.randn(16, 8, generator=g), C.random_labels(16, 2, g)
    opt_d = torch.optim.Adam(D.parameters(), 2e-3, betas=(0.0, 0.9))
    fake = G(z, y_fake).detach()
    losses = []
    for _ in range(8):
        loss = obj.d_loss(D(real, y_real), D(fake, y_fake)).mean()
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        losses.append(loss.item())
    assert all(torch.isfinite(torch.tensor(losses))) and losses[-1] < losses[0]
    opt_g = torch.optim.Adam(G.parameters(), 2e-3, betas=(0.0, 0.9))
    g_losses = []
    for _ in range(5):
        loss = obj.g_loss(D(G(z, y_fake), y_fake)).mean()
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        g_losses.append(loss.item())
    assert g_losses[-1] < g_losses[0]


def test_bad_labels_are_plain_errors():
    with pytest.raises(PlaygroundError):
        C.class_weights(torch.tensor([0, 3]), 3)
    with pytest.raises(PlaygroundError):
        C.build_cgan(latent_dim=4, g_width=4, d_width=4, channels=1, resolution=8, num_classes=1)


def test_the_generator_reads_the_class_through_its_one_hot_input_too():
    """With every BN made class-blind, the class still changes the image through the first layer's one-hot
    columns, and exactly those: G(z, w) = G(z, 0-weights) plus what those columns add."""
    torch.manual_seed(0)
    G = C.ConditionalGenerator(4, 8, 1, 8, 3).eval()
    with torch.no_grad():
        for norm in G.norms:
            norm.gamma.copy_(norm.gamma[:1].expand_as(norm.gamma))
            norm.beta.copy_(norm.beta[:1].expand_as(norm.beta))
        z = torch.randn(2, 4)
        assert G.convs[0].in_channels == 4 + 3
        a, b = G(z, torch.tensor([0, 0])), G(z, torch.tensor([1, 1]))
        assert not torch.allclose(a, b, atol=1e-4)
        G.convs[0].weight[4:] = G.convs[0].weight[4:5].clone()     # the same column for every class
        torch.testing.assert_close(G(z, torch.tensor([0, 0])), G(z, torch.tensor([2, 2])))
