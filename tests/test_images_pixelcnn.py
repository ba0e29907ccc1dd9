"""PixelCNN: causal masks (autograd), exact normalisation over all 2^4 images of a 2x2 model, sampling states,
completion, bits/dim, a few training steps."""

import itertools
import math

import pytest
import torch

from playground.errors import PlaygroundError
from playground.images import pixelcnn as P


def test_mask_shapes():
    a, b = P.causal_mask(3, "A"), P.causal_mask(3, "B")
    assert a.tolist() == [[1, 1, 1], [1, 0, 0], [0, 0, 0]]
    assert b.tolist() == [[1, 1, 1], [1, 1, 0], [0, 0, 0]]
    with pytest.raises(PlaygroundError):
        P.causal_mask(4, "A")


@pytest.mark.parametrize("num_classes", [None, 3])
def test_output_at_pixel_i_ignores_pixels_from_i_on(num_classes):
    torch.manual_seed(0)
    size = 5
    net = P.PixelCNN(width=8, blocks=2, first_kernel=5, num_classes=num_classes)
    y = None if num_classes is None else torch.tensor([1])
    for k in range(size * size):
        x = torch.rand(1, 1, size, size, requires_grad=True)
        i, j = divmod(k, size)
        net(x, y)[0, 0, i, j].backward()
        g = x.grad.flatten().abs()
        assert float(g[k:].max()) == 0.0, f"pixel {k} sees pixels at or after itself"
        if k > 0:
            assert float(g[:k].max()) > 0.0                 # and it does look at earlier pixels


def test_a_first_layer_of_type_b_breaks_causality():
    """The check above can fail: with type B at the input, pixel i sees itself."""
    net = P.PixelCNN(width=4, blocks=1, first_kernel=3)
    net.first.mask.copy_(P.causal_mask(3, "B")[None, None])
    x = torch.rand(1, 1, 3, 3, requires_grad=True)
    net(x)[0, 0, 1, 1].backward()
    assert float(x.grad[0, 0, 1, 1].abs()) > 0.0


@pytest.mark.parametrize("num_classes", [None, 2])
def test_probabilities_of_all_2x2_binary_images_sum_to_one(num_classes):
    torch.manual_seed(1)
    net = P.PixelCNN(width=8, blocks=2, first_kernel=3, num_classes=num_classes)
    with torch.no_grad():                           # a model far from uniform, so the sum is a real check
        for p in net.parameters():
            p.mul_(3.0)
    images = torch.tensor(list(itertools.product([0.0, 1.0], repeat=4))).view(16, 1, 2, 2)
    for label in ([None] if num_classes is None else range(num_classes)):
        y = None if label is None else torch.full((16,), label)
        logp = net.log_prob(images, y).detach().double()
        assert float(torch.logsumexp(logp, 0).exp()) == pytest.approx(1.0, abs=1e-6)
        assert float(logp.max() - logp.min()) > 0.5


def test_sampling_states_complete_and_likelihood_scores():
    torch.manual_seed(0)
    net = P.PixelCNN(width=8, blocks=1, first_kernel=3).eval()
    g = torch.Generator().manual_seed(0)
    states = list(net.sampling_states(3, 4, g, every=4))
    assert [k for k, _ in states] == [4, 8, 12, 16]
    first = states[0][1]
    assert torch.all(first[:, :, 0] != 0.5) and torch.all(first[:, :, 1:] == 0.5)   # row 0 drawn, rest pending
    final = states[-1][1]
    assert set(final.unique().tolist()) <= {0.0, 1.0}
    # same seed, same samples
    assert torch.equal(net.sample(3, 4, torch.Generator().manual_seed(0)), final)
    given = torch.ones(1, 4, 4)
    known = P.lower_half_hidden(4)
    done = net.complete(given, known, 5, torch.Generator().manual_seed(2))
    assert done.shape == (5, 1, 4, 4) and torch.all(done[:, :, :2] == 1.0)
    x = P.binarize(torch.rand(10, 1, 4, 4))
    s = P.likelihood_scores(net, x)
    assert s["test_nll_nats"] == pytest.approx(float(-net.log_prob(x).detach().mean()), rel=1e-6)
    assert s["test_nll_bits_per_dim"] == pytest.approx(s["test_nll_nats"] / (16 * math.log(2)))


def test_loss_decreases_over_a_few_steps():
    torch.manual_seed(0)
    net = P.PixelCNN(width=16, blocks=1, first_kernel=3)
    x = (torch.arange(8) % 2).float().expand(16, 1, 8, 8)          # vertical stripes: learnable
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    losses = []
    for _ in range(12):
        loss = net.loss(x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert math.isfinite(losses[-1]) and losses[-1] < 0.8 * losses[0]
    with pytest.raises(PlaygroundError):
        net(torch.zeros(2, 3, 8, 8))
