"""VAE engine: KL and log-densities vs closed forms, IWAE ordering, latent operations, MIG on known cases."""

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

from playground.latent_paths import lerp, slerp
from playground.vae import VAEConfig, build_model, evaluate, mig
from playground.vae.latent import class_swap, grid_2d, interpolate, quantile_grid, traverse
from playground.vae.metrics import entropy, mutual_information
from playground.vae.model import gaussian_kl, normal_log_prob


def test_kl_of_diagonal_gaussian_matches_closed_form_and_monte_carlo():
    mu = torch.tensor([[0.5, -1.0, 0.0]])
    logvar = torch.tensor([[0.0, math.log(0.25), math.log(4.0)]])
    var = logvar.exp()
    closed = 0.5 * (var + mu**2 - 1 - torch.log(var))
    assert torch.allclose(gaussian_kl(mu, logvar), closed)
    # KL of N(mu, s^2) from N(0,1) in 1D by direct formula: log(1/s) + (s^2 + mu^2)/2 - 1/2
    s = var.sqrt()
    assert torch.allclose(gaussian_kl(mu, logvar), torch.log(1 / s) + (var + mu**2) / 2 - 0.5)
    g = torch.Generator().manual_seed(0)
    z = mu + s * torch.randn((200_000, 3), generator=g)
    mc = (normal_log_prob(z, mu, logvar) - normal_log_prob(z, torch.zeros(1), torch.zeros(1))).mean(0)
    assert torch.allclose(mc, gaussian_kl(mu, logvar)[0], atol=0.02)
    x = torch.tensor([0.3])
    assert float(normal_log_prob(x, torch.tensor([0.1]), torch.tensor([math.log(0.04)]))) == pytest.approx(
        norm.logpdf(0.3, 0.1, 0.2))


@pytest.fixture(scope="module")
def digits_model():
    from playground.vae.train import train

    cfg = VAEConfig(latent_dim=4, epochs=3, hidden=64, iwae_k=8)
    result = train(cfg, final_eval=False)
    from playground.data import load_dataset

    return result["model"], load_dataset("digits", "test").subset(slice(0, 64))


def test_iwae_bound_ordering_and_k1_equals_elbo(digits_model):
    model, test = digits_model
    x = test.images
    logw, _ = model.log_weights(x, 2000, generator=torch.Generator().manual_seed(1))
    # K = 1: the mean of single log-weights is the ELBO (analytic-KL version) up to Monte Carlo error
    ev = evaluate(model, x, k=1000, seed=2)
    assert float(logw.mean()) == pytest.approx(ev["test_elbo"], abs=0.05)
    # IWAE_K estimated by averaging over disjoint groups of K samples: increases with K
    bounds = []
    for k in (1, 5, 50, 400):
        groups = logw[:, : (2000 // k) * k].reshape(len(x), -1, k)
        bounds.append(float((torch.logsumexp(groups, 2) - math.log(k)).mean()))
    assert all(b2 > b1 for b1, b2 in itertools.pairwise(bounds)), bounds
    # convergence: the last increments shrink
    assert bounds[3] - bounds[2] < bounds[2] - bounds[1] + 0.05
    for k in (8, 64):
        ev = evaluate(model, x, k=k, seed=0)
        assert ev["test_iwae"] >= ev["test_elbo"]
        assert ev["test_elbo"] == pytest.approx(ev["test_recon"] - ev["test_kl"], abs=2e-4)
        assert sum(ev["kl_per_dim"]) == pytest.approx(ev["test_kl"], abs=1e-3)


def test_latent_operations_shapes(digits_model):
    model, _ = digits_model
    strip = traverse(model, np.zeros(4), dim=2, values=np.linspace(-3, 3, 7))
    assert strip.shape == (7, 1, 8, 8) and float(strip.min()) >= 0 and float(strip.max()) <= 1
    grid, q = grid_2d(model, (0, 3), n=5)
    assert grid.shape == (25, 1, 8, 8)
    assert np.allclose(q, norm.ppf(np.linspace(0.05, 0.95, 5)))
    assert np.allclose(quantile_grid(3), [norm.ppf(0.05), 0.0, norm.ppf(0.95)], atol=1e-6)
    for method in ("linear", "spherical"):
        assert interpolate(model, np.ones(4), -np.ones(4) * 0.5, steps=6, method=method).shape == (6, 1, 8, 8)


def test_lerp_and_slerp():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(16), rng.standard_normal(16)
    b = b / np.linalg.norm(b) * np.linalg.norm(a)  # equal norms
    t = np.linspace(0, 1, 9)
    s = slerp(a, b, t)
    assert np.allclose(s[0], a, atol=1e-5) and np.allclose(s[-1], b, atol=1e-5)
    assert np.allclose(np.linalg.norm(s, axis=1), np.linalg.norm(a), atol=1e-4)  # stays on the sphere
    mid = lerp(a, b, [0.5])[0]
    assert np.allclose(mid, (a + b) / 2, atol=1e-6)
    assert np.linalg.norm(mid) < np.linalg.norm(a)  # linear cuts through the inside
    # angles grow uniformly along a slerp
    ang = [np.arccos(np.clip(np.dot(a, v) / np.linalg.norm(a) / np.linalg.norm(v), -1, 1)) for v in s]
    assert np.allclose(np.diff(ang), ang[-1] / 8, atol=1e-4)
    assert np.allclose(slerp(a, a, t), np.repeat(a[None], 9, 0), atol=1e-5)  # parallel: no NaN


def test_mig_known_cases():
    rng = np.random.default_rng(0)
    n = 20_000
    f = np.stack([rng.integers(0, 4, n), rng.integers(0, 8, n), rng.integers(0, 2, n)], 1)
    perfect = f + 0.01 * rng.standard_normal(f.shape)
    perfect = np.concatenate([perfect, rng.standard_normal((n, 2))], 1)  # plus two noise dims
    assert mig(perfect, f)["mig"] > 0.98
    random = rng.standard_normal((n, 5))
    assert mig(random, f)["mig"] < 0.02
    duplicated = np.concatenate([perfect[:, :1], perfect[:, :1], perfect[:, 1:3]], 1)  # factor 0 in two dims
    res = mig(duplicated, f)
    assert res["per_factor"]["factor0"] < 0.02 and res["per_factor"]["factor1"] > 0.98
    # a binary factor seen through a code that flips it with probability p: MI = ln2 - H_b(p)
    p = 0.1
    flip = rng.random(n) < p
    noisy = (f[:, 2] ^ flip).astype(float)[:, None]
    hb = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    assert mutual_information(noisy[:, 0].astype(int), f[:, 2]) == pytest.approx(math.log(2) - hb, abs=0.01)
    assert entropy(f[:, 1]) == pytest.approx(math.log(8), abs=0.01)
    gap = mig(noisy, f[:, 2:3])["mig"]  # one latent: gap = MI / H
    assert gap == pytest.approx((math.log(2) - hb) / math.log(2), abs=0.02)


def test_conditional_model_and_class_swap():
    cfg = VAEConfig(latent_dim=2, hidden=32, conditional=True)
    model = build_model(cfg, (1, 8, 8), 10).eval()
    x = torch.rand(3, 1, 8, 8)
    out = class_swap(model, x, torch.tensor([1, 2, 3]), classes=[0, 5, 9])
    assert out.shape == (9, 1, 8, 8)
    from playground.errors import PlaygroundError

    with pytest.raises(PlaygroundError):
        class_swap(build_model(VAEConfig(latent_dim=2, hidden=32), (1, 8, 8)), x, None)
    with pytest.raises(PlaygroundError, match="labels"):
        build_model(cfg, (1, 8, 8), None)


@pytest.mark.parametrize("arch,decoder,shape", [("mlp", "gaussian", (3, 12, 12)), ("conv", "bernoulli", (1, 32, 32)),
                                                 ("conv", "gaussian", (1, 8, 8))])
def test_architectures_forward_and_backward(arch, decoder, shape):
    cfg = VAEConfig(arch=arch, decoder=decoder, latent_dim=3, hidden=32)
    model = build_model(cfg, shape)
    x = torch.rand(5, *shape)
    loss, terms = model.loss(x)
    loss.backward()
    assert math.isfinite(float(loss.detach())) and terms["kl"] >= 0
    assert model.decode(torch.zeros(2, 3)).shape == (2, *shape)
    assert build_model(cfg, shape).state_dict()["decoder.out.weight" if arch == "conv" else "decoder.net.4.weight"].equal(
        model.state_dict()["decoder.out.weight" if arch == "conv" else "decoder.net.4.weight"])  # seeded init


def test_to_png_keeps_native_resolution_and_pixel_values():
    import io

    from PIL import Image

    from playground.vae.latent import to_png

    grey = torch.linspace(0, 1, 64).reshape(1, 8, 8)
    im = Image.open(io.BytesIO(to_png(grey)))
    assert im.size == (8, 8) and im.mode == "L"
    assert np.array_equal(np.asarray(im), (grey[0].numpy() * 255 + 0.5).astype(np.uint8))
    rgb = torch.rand(3, 16, 12, generator=torch.Generator().manual_seed(0))
    im = Image.open(io.BytesIO(to_png(rgb)))
    assert im.size == (12, 16) and im.mode == "RGB"
    assert np.abs(np.asarray(im).astype(int) - (rgb.permute(1, 2, 0).numpy() * 255).astype(int)).max() <= 1
    assert len(to_png(grey)) < 300   # small enough to travel inside a page update


def test_decode_std_is_the_gaussian_decoders_learned_sigma():
    from playground.vae.latent import decode, decode_std

    bern = build_model(VAEConfig(latent_dim=3, hidden=16), (1, 8, 8))
    assert decode_std(bern, np.zeros(3)) is None
    gauss = build_model(VAEConfig(latent_dim=3, hidden=16, arch="conv", decoder="gaussian"), (1, 8, 8))
    z = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    sigma = decode_std(gauss, z)
    mean, logvar = gauss.decoder_params(torch.from_numpy(z))
    assert sigma.shape == (4, 1, 8, 8) == decode(gauss, z).shape
    assert torch.allclose(sigma, torch.exp(0.5 * logvar.detach()))
    assert torch.allclose(decode(gauss, z), mean.detach())
    assert float(sigma.min()) >= math.exp(0.5 * -7.0) - 1e-6       # the variance floor


def test_server_decoding_through_the_program_gives_the_models_pixels():
    """?decode=server runs the browser's program in numpy: the PNG matches the model's own decode (<= 1 grey
    level), and without a program the model decodes it."""
    import io

    from PIL import Image

    from playground.vae.export import decoder_program
    from playground.vae.latent import decode, decoded_png

    model = build_model(VAEConfig(arch="conv", decoder="gaussian", latent_dim=3, hidden=32, seed=2), (3, 8, 8))
    with torch.no_grad():
        for p in model.decoder.parameters():
            p.mul_(3.0)
    z = np.array([1.5, -0.5, 2.0], np.float32)
    want = np.floor(decode(model, z)[0].numpy().transpose(1, 2, 0) * 255 + 0.5)
    assert want.std() > 5
    for program in (decoder_program(model), None):
        got = np.asarray(Image.open(io.BytesIO(decoded_png(model, z, None, program))), dtype=float)
        assert got.shape == (8, 8, 3) and np.abs(got - want).max() <= 1


def test_model_sources_list_shipped_models_then_runs_including_the_old_vae_folder(tmp_path):
    from playground.vae import train
    from playground.vae.sources import find, model_sources, short_name

    cfg = VAEConfig(latent_dim=2, epochs=1, hidden=16, iwae_k=2)
    train(cfg, out=tmp_path / "new-run", final_eval=False)
    train(cfg, out=tmp_path / "vae" / "old-run", final_eval=False)
    (tmp_path / "not-a-run").mkdir()
    src = model_sources(tmp_path)
    runs = [k for k in src if k.startswith("run: ")]
    assert sorted(runs) == ["run: new-run", "run: old-run"]
    assert list(src).index(runs[0]) > max(i for i, k in enumerate(src) if k.startswith("pretrained: "))
    assert src["run: new-run"]["sha"] == "" and src["run: new-run"]["path"].endswith(".pt")
    assert short_name("run: new-run") == "new-run" and find(src, "old-run") == "run: old-run"
    assert find(src, "missing") is None and find(src, None) is None


def test_traversal_rows_sweep_one_dimension_per_row():
    from playground.vae.latent import decode, traversal_rows

    model = build_model(VAEConfig(latent_dim=3, hidden=16, seed=1), (1, 8, 8))
    rows = traversal_rows(model, dims=10, steps=5, span=2.0)
    assert rows.shape == (3 * 5, 1, 8, 8)                   # min(dims, latent) rows
    z = np.zeros((5, 3), np.float32)
    z[:, 2] = np.linspace(-2, 2, 5)
    assert torch.allclose(rows[10:], decode(model, z))      # row 2: z2 from -2 to 2, the others at 0
    assert traversal_rows(model, dims=2, steps=4).shape[0] == 8


def test_image_input_fits_an_upload_to_the_model_and_bounds_its_size():
    import io

    from PIL import Image

    from playground.errors import PlaygroundError
    from playground.vae.latent import image_input

    buf = io.BytesIO()
    Image.fromarray(np.full((40, 40, 3), 200, np.uint8)).save(buf, "PNG")
    grey = image_input(build_model(VAEConfig(latent_dim=2, hidden=16), (1, 8, 8)), buf.getvalue(), 10_000)
    colour = image_input(build_model(VAEConfig(latent_dim=2, hidden=16), (3, 12, 12)), buf.getvalue(), 10_000)
    assert grey.shape == (1, 1, 8, 8) and colour.shape == (1, 3, 12, 12)
    assert torch.allclose(grey, torch.full_like(grey, 200 / 255), atol=1 / 255)
    with pytest.raises(PlaygroundError, match="limit is 100 bytes"):
        image_input(build_model(VAEConfig(latent_dim=2, hidden=16), (1, 8, 8)), buf.getvalue(), 100)
