"""The Sample page's model views (playground.images.model_views) on small untrained networks: the class x noise grid
holds noise per column, the pixel sampler reveals pixels in raster order and ends at sample(), the denoising strip
starts at the seed's noise and ends at sample()."""

import numpy as np
import pytest
import torch

from playground.errors import PlaygroundError
from playground.images import model_views as V
from playground.images import models as M
from playground.images.cgan import ConditionalGenerator
from playground.images.config import ImageRunConfig
from playground.images.diffusion import build_image_model, to_images
from playground.images.pixelcnn import PixelCNN
from playground.images.sampling import LoadedModel


def loaded(model: str, net: torch.nn.Module, resolution: int, num_classes: int | None = None, **kw) -> LoadedModel:
    cfg = ImageRunConfig(model=model, dataset="digits", latent_dim=4, conditional=bool(num_classes) and
                         model != "cgan", **kw)
    torch.manual_seed(0)
    return LoadedModel(cfg, net.eval().requires_grad_(False), 0, "latest", False, resolution, 1, num_classes)


@pytest.fixture(scope="module")
def cgan_run():
    torch.manual_seed(1)
    return loaded("cgan", ConditionalGenerator(4, 8, 1, 8, 3), 8, 3)


def test_class_noise_grid_rows_are_classes_and_columns_share_noise(cgan_run):
    grid = V.class_noise_grid(cgan_run, columns=5, seed=3)
    assert grid.shape == (15, 1, 8, 8) and grid.min() >= 0 and grid.max() <= 1
    z = M.noise(5, 4, torch.Generator().manual_seed(3))
    for y in range(3):                       # tile (y, j) is G(z_j, y), computed one image at a time
        for j in range(5):
            want = M.to_unit("cgan", cgan_run.net(z[j:j + 1], torch.tensor([y])))[0].numpy()
            np.testing.assert_allclose(grid[y * 5 + j], want, atol=1e-5)
    assert not np.allclose(grid[0:5], grid[5:10])           # the class changes the picture


def test_class_noise_grid_of_a_generator_that_ignores_the_class_has_equal_rows():
    torch.manual_seed(2)
    G = ConditionalGenerator(4, 8, 1, 8, 4)
    with torch.no_grad():                     # every class gets class 0's scale and shift, and no one-hot input
        G.convs[0].weight[G.latent_dim:] = 0.0
        for norm in G.norms:
            norm.gamma.copy_(norm.gamma[:1].expand_as(norm.gamma))
            norm.beta.copy_(torch.randn(1, norm.beta.shape[1]).expand_as(norm.beta))
    grid = V.class_noise_grid(loaded("cgan", G, 8, 4), columns=6, seed=0).reshape(4, 6, 1, 8, 8)
    for y in range(1, 4):
        np.testing.assert_allclose(grid[y], grid[0], atol=1e-6)
    assert not np.allclose(grid[0, 0], grid[0, 1])          # but the columns (noise vectors) differ


def test_class_interpolation_holds_noise_and_runs_from_class_a_to_class_b(cgan_run):
    strip = V.class_interpolation(cgan_run, 0, 2, steps=4, seed=5, rows=2).reshape(2, 4, 1, 8, 8)
    z = M.noise(2, 4, torch.Generator().manual_seed(5))
    for r in range(2):
        for col, y in ((0, 0), (3, 2)):
            want = M.to_unit("cgan", cgan_run.net(z[r:r + 1], torch.tensor([y])))[0].numpy()
            np.testing.assert_allclose(strip[r, col], want, atol=1e-5)
    with pytest.raises(PlaygroundError, match="class must be between 0 and 2"):
        V.class_interpolation(cgan_run, 0, 3)


@pytest.fixture(scope="module", params=[None, 3], ids=["unconditional", "conditional"])
def pixel_run(request):
    torch.manual_seed(3)
    return loaded("pixelcnn", PixelCNN(8, 1, 3, num_classes=request.param), 6, request.param)


def test_pixel_frames_reveal_pixels_in_raster_order_and_end_at_sample(pixel_run):
    frames = list(V.pixel_frames(pixel_run, n=4, seed=7, every=5))
    assert [d for d, _ in frames] == [5, 10, 15, 20, 25, 30, 35, 36]
    for done, images in frames:
        decided = ~np.isclose(images, 0.5)
        order = decided.reshape(4, 36)
        assert (order[:, :done]).all() and not order[:, done:].any()          # exactly the first `done`
        assert set(np.unique(images[decided])) <= {0.0, 1.0}
    np.testing.assert_array_equal(frames[-1][1], pixel_run.sample(4, seed=7).numpy())
    if pixel_run.num_classes:                 # one class for all: the same as sample() with those labels
        last = list(V.pixel_frames(pixel_run, n=4, seed=7, every=36, label=2))[-1][1]
        np.testing.assert_array_equal(last, pixel_run.sample(4, seed=7, labels=torch.full((4,), 2)).numpy())


def test_undecided_pixels_get_their_own_colour():
    images = np.array([[[[0.0, 1.0], [0.5, 0.5]]]], dtype=np.float32)
    rgb = V.undecided_in_colour(images)
    assert rgb.shape == (1, 3, 2, 2)
    np.testing.assert_array_equal(rgb[0, :, 0, 0], [0, 0, 0])
    np.testing.assert_array_equal(rgb[0, :, 0, 1], [1, 1, 1])
    np.testing.assert_allclose(rgb[0, :, 1, 1], V.UNDECIDED)


def test_hidden_regions():
    np.testing.assert_array_equal(V.hidden_region(6), V.hidden_region(6, "rows from", 3))
    assert int(V.hidden_region(6, "rows from", 4).sum()) == 24
    assert int((~V.hidden_region(8, "centre square")).sum()) == 16
    right = V.hidden_region(6, "right half")[0, 0]
    assert right[:, :3].all() and not right[:, 3:].any()
    with pytest.raises(PlaygroundError, match="first hidden row"):
        V.hidden_region(6, "rows from", 6)
    with pytest.raises(PlaygroundError, match="unknown region"):
        V.hidden_region(6, "top")


def test_completion_keeps_the_known_pixels_and_draws_the_rest(pixel_run):
    image = torch.rand(1, 6, 6, generator=torch.Generator().manual_seed(0))
    known = V.hidden_region(6, "rows from", 2)
    label = 1 if pixel_run.num_classes else None
    done = V.completion(pixel_run, image, known, n=5, seed=1, label=label)
    assert done.shape == (5, 1, 6, 6) and set(np.unique(done)) <= {0.0, 1.0}
    kept = (image > 0.5).float().numpy()[0]
    for c in done:
        np.testing.assert_array_equal(c[0][:2], kept[:2])
    assert len({c.tobytes() for c in done}) > 1                # several different completions
    shown = V.masked(image, known)
    np.testing.assert_array_equal(shown[0, 0, :2], kept[:2])
    assert np.all(shown[0, 0, 2:] == 0.5)


def test_held_out_images_are_the_binarised_test_split():
    from playground.data import load_dataset

    run = loaded("pixelcnn", PixelCNN(8, 1, 3), 8)
    images, labels = V.held_out_images(run, count=10)
    ref = load_dataset("digits", split="test", resolution=8)
    np.testing.assert_array_equal(images.numpy(), (ref.images[:10] > 0.5).float().numpy())
    np.testing.assert_array_equal(labels.numpy(), ref.labels[:10].numpy())


@pytest.fixture(scope="module", params=["diffusion", "flow_matching"])
def denoiser_run(request):
    torch.manual_seed(4)
    kw = {"timesteps": 50, "sample_steps": 6} if request.param == "diffusion" else {"sample_steps": 6}
    net = build_image_model(request.param, channels=1, resolution=8, width=8, mults=(1, 2), **kw)
    with torch.no_grad():                     # the U-Net's last conv starts at zero: give it an output
        net.net.out.weight.normal_(0.0, 0.05)
    return loaded(request.param, net, 8, timesteps=50 if request.param == "diffusion" else 1000, sample_steps=6)


def test_denoising_strip_starts_at_the_seeds_noise_and_ends_at_sample(denoiser_run):
    strip, picks = V.denoising_strip(denoiser_run, seed=11, steps=10, states=4)
    assert strip.shape == (8, 1, 8, 8) and picks == [0, 3, 7, 10]         # states, then the estimates below
    noise = torch.randn(1, 1, 8, 8, generator=torch.Generator().manual_seed(11))
    np.testing.assert_allclose(strip[0], to_images(noise)[0].numpy(), atol=1e-6)
    sample = denoiser_run.sample(1, seed=11, steps=10)[0].numpy()
    np.testing.assert_allclose(strip[3], sample, atol=1e-5)
    np.testing.assert_allclose(strip[7], sample, atol=1e-5)                 # the last state is its own estimate
    # the first estimate, by hand from the start noise: diffusion's z0 from the noise predicted at level T,
    # flow matching's end of the straight line through z at t = 0
    net = denoiser_run.net
    with torch.no_grad():
        if denoiser_run.cfg.model == "diffusion":
            ab = float(net.alpha_bar[-1])
            eps = net.net(noise, torch.full((1,), 1.0), None)
            want = ((noise - (1 - ab) ** 0.5 * eps) / ab ** 0.5).clamp(-1, 1)
        else:
            want = noise + net.net(noise, torch.zeros(1), None)
    np.testing.assert_allclose(strip[4], to_images(want)[0].numpy(), atol=1e-5)
    assert not np.allclose(strip[4], strip[0], atol=0.05)
    _, all_states = V.denoising_strip(denoiser_run, seed=11, steps=3, states=8)
    assert all_states == [0, 1, 2, 3]                          # fewer steps than states: each state once


def test_denoiser_samples_follow_the_chosen_steps_and_method(denoiser_run):
    choices, own = V.methods(denoiser_run)
    assert own in choices and len(choices) == 2
    default = V.denoiser_samples(denoiser_run, n=3, seed=2, steps=4)
    np.testing.assert_allclose(default, denoiser_run.sample(3, seed=2, steps=4).numpy(), atol=1e-6)
    np.testing.assert_allclose(V.denoiser_samples(denoiser_run, n=3, seed=2, steps=4, method=own), default)
    other = next(m for m in choices if m != own)
    assert not np.allclose(V.denoiser_samples(denoiser_run, n=3, seed=2, steps=4, method=other), default)
    assert not np.allclose(V.denoiser_samples(denoiser_run, n=3, seed=2, steps=2), default)
    with pytest.raises(PlaygroundError, match="samples with"):
        V.denoiser_samples(denoiser_run, method="heun")
    with pytest.raises(PlaygroundError, match="sampling steps must be between 1 and"):
        V.denoiser_samples(denoiser_run, steps=V.max_steps(denoiser_run) + 1)


def test_each_view_refuses_the_wrong_family(cgan_run, denoiser_run):
    with pytest.raises(PlaygroundError, match="for pixelcnn runs"):
        next(V.pixel_frames(cgan_run))
    with pytest.raises(PlaygroundError, match="for gan runs"):
        V.class_noise_grid(denoiser_run)
    with pytest.raises(PlaygroundError, match="for denoiser runs"):
        V.denoising_strip(cgan_run)
    with pytest.raises(PlaygroundError, match="not class-conditional"):
        V.denoiser_samples(denoiser_run, label=1)


def test_row_labels_widen_the_picture_on_the_left_only():
    picture = np.zeros((40, 30), dtype=np.uint8)
    out = V.with_row_labels(picture, ["0", "1"], margin=20)
    assert out.shape == (40, 50, 3)
    np.testing.assert_array_equal(out[:, 20:], 0)               # the grid itself is untouched
    for rows in (slice(0, 20), slice(20, 40)):                   # some ink in each row's label
        assert (out[rows, :20] < 200).any()
