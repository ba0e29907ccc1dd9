"""PixelCNN: causal masks (autograd), exact normalisation over all 2^4 images of a 2x2 model, sampling states,
completion, bits/dim, a few training steps."""

import itertools
import math

import pytest
import torch

from playground.errors import PlaygroundError
from playground.images import pixelcnn as P
from playground.images.pixelcnn_raster import RasterForward


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


def _reference_draws(net, n, size, generator, y=None, known=None, given=None):
    """Pixel by pixel with the full forward pass on the whole image: what sampling_states must reproduce."""
    x = torch.zeros(n, 1, size, size)
    keep = torch.zeros(size, size, dtype=torch.bool) if known is None else known.reshape(size, size)
    if known is not None:
        x = torch.where(keep, given.expand(n, 1, size, size), x)
    for k in range(size * size):
        i, j = divmod(k, size)
        if not keep[i, j]:
            with torch.no_grad():
                p = torch.sigmoid(net(x, y)[:, 0, i, j])
            x[:, 0, i, j] = torch.bernoulli(p, generator=generator)
    return x


@pytest.mark.parametrize("num_classes, maps", [(None, 3), (3, 3), (3, 0)])
def test_pixel_at_a_time_sampling_draws_what_the_full_pass_draws(num_classes, maps):
    """Same generator, same draws as the full forward pass per pixel: for sampling, and for a completion whose
    known pixels are scattered (rows that end on a known pixel, rows known whole, known pixels after hidden
    ones), on random weights large enough that a wrong logit changes some of the 16 x 36 draws."""
    torch.manual_seed(3)
    net = P.PixelCNN(width=8, blocks=2, first_kernel=5, num_classes=num_classes, maps=maps, size=6).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0.0, 0.3)
    y = None if num_classes is None else torch.arange(16) % 3
    ours = net.sample(16, 6, torch.Generator().manual_seed(5), y=y)
    assert torch.equal(ours, _reference_draws(net, 16, 6, torch.Generator().manual_seed(5), y))
    assert 0.1 < float(ours.mean()) < 0.9
    known = torch.rand(1, 1, 6, 6, generator=torch.Generator().manual_seed(1)) < 0.4
    known[..., 2, :] = True
    given = P.binarize(torch.rand(1, 1, 6, 6, generator=torch.Generator().manual_seed(2)))
    ours = net.complete(given[0], known, 16, torch.Generator().manual_seed(6), y=y)
    ref = _reference_draws(net, 16, 6, torch.Generator().manual_seed(6), y, known, given)
    assert torch.equal(ours, ref)


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


@pytest.mark.parametrize("num_classes", [None, 3])
def test_class_and_position_maps_keep_causality_and_normalisation_and_the_pixel_pass_matches(num_classes):
    """The maps depend on the class and the position only: pixel i still sees no pixel from i on, the 2^4
    images of a 2x2 model still sum to one, and the pixel-at-a-time pass (as sampling runs it) gives the
    full pass's logits."""
    torch.manual_seed(2)
    net = P.PixelCNN(width=8, blocks=2, first_kernel=3, num_classes=num_classes, maps=4, size=5)
    with torch.no_grad():
        net.maps.normal_()                                     # maps start at zero: make them matter
    y = None if num_classes is None else torch.tensor([2])
    for k in range(25):
        x = torch.rand(1, 1, 5, 5, requires_grad=True)
        net(x, y)[0, 0, k // 5, k % 5].backward()
        assert float(x.grad.flatten()[k:].abs().max()) == 0.0
    x = P.binarize(torch.rand(4, 1, 5, 5))
    yy = None if num_classes is None else torch.tensor([0, 1, 2, 1])
    full = net(x, yy)
    steps, logits = RasterForward(net.eval(), 4, 5, yy), torch.zeros(4, 5, 5)   # a pixel at a time, as sampling
    for i, j in itertools.product(range(5), range(5)):
        logits[:, i, j] = steps.logit(i, j)
        steps.place(i, j, x[:, 0, i, j])
    assert torch.allclose(logits, full[:, 0], atol=1e-5)
    zero = P.PixelCNN(width=8, blocks=2, first_kernel=3, num_classes=num_classes, maps=4, size=5)
    zero.load_state_dict({k: v for k, v in net.state_dict().items()})
    with torch.no_grad():
        zero.maps.zero_()
        zero.project.weight.zero_(), zero.project.bias.zero_()
    base = P.PixelCNN(width=8, blocks=2, first_kernel=3, num_classes=num_classes)
    base.load_state_dict({k: v for k, v in net.state_dict().items() if not k.startswith(("maps", "project"))})
    assert torch.allclose(zero(x, yy), base(x, yy), atol=1e-6)     # zero maps: the plain model
    if num_classes:
        other = net(x, torch.tensor([1, 2, 0, 0]))
        assert not torch.allclose(other, full)                     # the class changes the maps
    tiny = P.PixelCNN(width=8, blocks=2, first_kernel=3, num_classes=num_classes, maps=4, size=2)
    with torch.no_grad():
        for p in tiny.parameters():
            p.normal_()
    images = torch.tensor(list(itertools.product([0.0, 1.0], repeat=4))).view(16, 1, 2, 2)
    for label in ([None] if num_classes is None else range(num_classes)):
        lab = None if label is None else torch.full((16,), label)
        assert float(torch.logsumexp(tiny.log_prob(images, lab).detach().double(), 0).exp()) == pytest.approx(1.0)
    with pytest.raises(PlaygroundError, match="draws 5x5"):
        net(torch.zeros(1, 1, 4, 4), y)
    for size in (4, 6):                                        # and the sampler says so too
        with pytest.raises(PlaygroundError, match="draws 5x5"):
            net.sample(1, size, torch.Generator().manual_seed(0), y=y)
    with pytest.raises(PlaygroundError, match="image size"):
        P.PixelCNN(width=8, blocks=1, maps=4)


def test_a_run_saved_before_the_maps_loads_and_resumes_without_them(tmp_path):
    """A conditional PixelCNN run as the version before the maps wrote it (no pixelcnn_maps in its config.json
    or its checkpoint's config): it samples with its own weights and resumes; a new config has the maps."""
    import json

    from playground.configs import from_dict, to_dict
    from playground.images import sampling
    from playground.images.config import ImageRunConfig
    from playground.images.train import config_for_resume, train
    from playground.images.trainer import FORMAT, load_run_checkpoint
    from playground.runs.checkpoints import save_checkpoint
    from test_page_image_train import make_run

    run = make_run(tmp_path, "old", steps=3, classes=2, model="pixelcnn", conditional=True, pixelcnn_width=8,
                   pixelcnn_blocks=1, pixelcnn_maps=0, eval_every=0, final_eval=False)
    cfg_path, ck_path = run / "config.json", run / "checkpoints" / "latest.pt"
    cfg = json.loads(cfg_path.read_text())
    del cfg["pixelcnn_maps"]
    cfg_path.write_text(json.dumps(cfg))
    ck = load_run_checkpoint(ck_path)
    del ck["config"]["pixelcnn_maps"]
    save_checkpoint(ck_path, {k: v for k, v in ck.items() if k != "format"}, FORMAT)
    gen = sampling.load_model(run, use_ema=False)
    assert gen.net.maps is None and gen.cfg.pixelcnn_maps == 0
    assert all(torch.equal(v, ck["nets"]["pixelcnn"][k]) for k, v in gen.net.state_dict().items())
    assert gen.sample(2, seed=0, labels=torch.tensor([0, 1])).shape == (2, 1, 8, 8)
    from playground.data import ImageDataset

    data = ImageDataset(name="tiny", images=torch.rand(64, 1, 8, 8, generator=torch.Generator().manual_seed(0)),
                        labels=torch.arange(64) % 2, num_classes=2)
    resumed = config_for_resume(run, {"steps": 5})
    assert resumed.pixelcnn_maps == 0
    out = train(resumed, run, resume=run, dataset=data)
    assert out["state"] == "completed" and out["steps"] == 5
    assert from_dict(ImageRunConfig, {k: v for k, v in to_dict(ImageRunConfig()).items()
                                      if k != "pixelcnn_maps"}).pixelcnn_maps == 16          # a new run: the maps


def test_the_marginal_of_a_conditional_pixelcnn_is_its_class_mixture():
    """-log p(x) = -log Σ_y p(y) p(x | y), checked image by image against the 2x2 model's full table: over all
    16 images the mixture sums to one, and it lies within log(1 / p(y)) of -log p(x | y)."""
    torch.manual_seed(3)
    net = P.PixelCNN(width=8, blocks=1, first_kernel=3, num_classes=3, maps=2, size=2)
    with torch.no_grad():
        for p in net.parameters():
            p.normal_()
    prior = torch.tensor([0.5, 0.3, 0.2])
    images = torch.tensor(list(itertools.product([0.0, 1.0], repeat=4))).view(16, 1, 2, 2)
    labels = torch.arange(16) % 3
    s = P.likelihood_scores(net, images, labels, batch=5, prior=prior)
    with torch.no_grad():
        table = torch.stack([net.log_prob(images, torch.full((16,), k)) for k in range(3)], 1).double()
    mixture = torch.logsumexp(table + prior.double().log(), 1)
    assert float(mixture.exp().sum()) == pytest.approx(1.0, abs=1e-6)
    assert s["test_marginal_nll_nats"] == pytest.approx(float(-mixture.mean()), rel=1e-6)
    assert s["test_nll_nats"] == pytest.approx(float(-table[torch.arange(16), labels].mean()), rel=1e-6)
    assert s["test_marginal_nll_bits_per_dim"] == pytest.approx(s["test_marginal_nll_nats"] / (4 * math.log(2)))
    given = -table[torch.arange(16), labels]
    assert torch.all(-mixture <= given - prior[labels].double().log() + 1e-9)
    assert "test_marginal_nll_nats" not in P.likelihood_scores(net, images, labels)


def test_only_the_final_evaluation_pays_for_the_marginal(tmp_path):
    """One pass per class is the final evaluation's cost only: intermediate ones report -log p(x | y) alone."""
    from playground.runs.rundir import RunDir
    from test_page_image_train import make_run

    run = make_run(tmp_path, "c", steps=2, classes=2, model="pixelcnn", conditional=True, pixelcnn_width=8,
                   pixelcnn_blocks=1, eval_every=1, eval_samples=16)
    scored = [r for r in RunDir.open(run).read_metrics() if "fid" in r]
    assert [r["final"] for r in scored] == [False, True]            # step 1, then the end (step 2)
    assert all("test_marginal_nll_nats" not in r and r["test_nll_nats"] > 0 for r in scored[:-1])
    assert scored[-1]["test_marginal_nll_nats"] > 0
