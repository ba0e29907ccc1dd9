"""Every image family on the real mnist5k digits through the headless CLI: summaries with IS and likelihoods,
checked against independent recomputations; class-row grids; sampling by label and by steps; eval and baseline."""

import contextlib
import io
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from playground.cli import main
from playground.data import load_dataset
from playground.images import sampling
from playground.images.inception_score import inception_score
from playground.images.metrics import make_extractor
from playground.images.pixelcnn import binarize
from playground.runs.rundir import RunDir

SMALL = ["--dataset", "mnist5k", "--steps", "4", "--batch-size", "8", "--g-width", "8", "--d-width", "8",
         "--latent-dim", "4", "--pixelcnn-width", "8", "--pixelcnn-blocks", "1", "--unet-width", "8",
         "--unet-mults", "1,2", "--timesteps", "20", "--sample-every", "4", "--checkpoint-every", "100",
         "--eval-every", "0", "--eval-samples", "16", "--threads", "1", "--device", "cpu", "--json"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny run of each family on mnist5k (its defaults otherwise), trained once for the module."""
    root = tmp_path_factory.mktemp("families")
    out = {}
    for name, extra in {"cgan": ["--model", "cgan"], "pixelcnn": ["--model", "pixelcnn", "--conditional", "1"],
                        "diffusion": ["--model", "diffusion", "--conditional", "1"],
                        "flow_matching": ["--model", "flow_matching"],
                        "vae": ["--model", "vae", "--binarize", "1"]}.items():
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(["images", "train", *SMALL, "--out", str(root / name), *extra]) == 0
        out[name] = json.loads(buf.getvalue())
    return root, out


def test_every_family_reports_is_in_the_dataset_classifier(trained):
    root, out = trained
    for name, summary in out.items():
        assert summary["state"] == "completed" and summary["resolution"] == 28, name
        assert summary["is_features"].startswith("classifier:mnist5k-28px-1ch"), name
        assert 1.0 <= summary["is"] <= 10.0, name                           # between 1 and the number of classes


def test_the_summary_is_matches_an_independent_computation(trained):
    root, out = trained
    gen = sampling.load_model(root / "flow_matching")
    fake = gen.sample(16, seed=0x5EED + 0)                                 # the trainer's evaluation seed
    test = load_dataset("mnist5k", "test")
    ex = make_extractor("auto", "mnist5k", 28, 1, load=lambda split: load_dataset("mnist5k", split))
    assert inception_score(ex, fake)["is"] == pytest.approx(out["flow_matching"]["is"], rel=1e-9)
    assert len(test) == 1000


def test_pixelcnn_nll_is_its_exact_likelihood_on_the_binarised_test_split(trained):
    root, out = trained
    s = out["pixelcnn"]
    gen = sampling.load_model(root / "pixelcnn")
    test = load_dataset("mnist5k", "test")
    x = binarize(test.images)
    with torch.no_grad():   # an independent sum of Bernoulli log-probabilities over all 784 pixels
        logits = gen.net(x, test.labels)
        logp = (x * torch.nn.functional.logsigmoid(logits) + (1 - x) * torch.nn.functional.logsigmoid(-logits))
    nats = float(-logp.flatten(1).sum(1).double().mean())
    assert s["test_nll_nats"] == pytest.approx(nats, rel=1e-5)
    assert s["test_nll_bits_per_dim"] == pytest.approx(s["test_nll_nats"] / (784 * math.log(2)), rel=1e-12)
    assert 0 < s["test_nll_bits_per_dim"] < 1.5                            # bits: at most ~1 per pixel, untrained
    # the class mixture, p(y) the training split's frequencies, summed over the 10 labels independently
    train = load_dataset("mnist5k", "train")
    prior = torch.bincount(train.labels, minlength=10).double() / len(train)
    with torch.no_grad():
        per_class = torch.stack([-torch.nn.functional.binary_cross_entropy_with_logits(
            gen.net(x, torch.full((len(x),), k)), x, reduction="none").flatten(1).sum(1).double()
            for k in range(10)], 1)
    marginal = float(-torch.logsumexp(per_class + prior.log(), 1).mean())
    assert s["test_marginal_nll_nats"] == pytest.approx(marginal, rel=1e-5)
    assert s["test_marginal_nll_bits_per_dim"] == pytest.approx(marginal / (784 * math.log(2)), rel=1e-5)


def test_the_binarised_vae_reports_elbo_below_its_iwae_bound(trained):
    root, out = trained
    s = out["vae"]
    assert s["elbo_nats"] < 0 and s["iwae_nats"] < 0
    assert s["elbo_nats"] <= s["iwae_nats"] + 1.0                          # IWAE(K=64) >= ELBO up to MC error
    assert "test_nll_nats" not in s and "elbo_nats" not in out["cgan"]


def test_a_vae_without_ema_samples_with_its_trained_decoder(trained):
    """The raw weights: the sampler is the VAE's decoder, shared with (not a child of) the network saved."""
    root, _ = trained
    gen = sampling.load_model(root / "vae", use_ema=False)
    saved = torch.load(RunDir.open(root / "vae").latest_path, map_location="cpu", weights_only=True)["nets"]["vae"]
    mine = gen.net.state_dict()
    assert mine and all(torch.equal(v, saved[f"vae.{k}"]) for k, v in mine.items())
    assert not gen.ema


def test_conditional_grids_have_one_row_per_class(trained):
    root, _ = trained
    for name, cols in (("cgan", 8), ("diffusion", 8), ("pixelcnn", 2)):
        ((step, path),) = RunDir(root / name).samples()
        w, h = Image.open(path).size
        # torchvision's grid: tiles of 28 px with 1 px padding around each
        assert (h - 1) // 29 == 10 and (w - 1) // 29 == cols, (name, w, h)
    ((_, path),) = RunDir(root / "flow_matching").samples()
    w, h = Image.open(path).size
    assert (h - 1) // 29 == 8 and (w - 1) // 29 == 8                       # unconditional: 8 x 8


def test_a_conditional_gans_class_label_reaches_the_generator(trained):
    root, _ = trained
    gen = sampling.load_model(root / "cgan")
    z = torch.randn(3, gen.latent_dim, generator=torch.Generator().manual_seed(0))
    a = gen.images(z, torch.tensor([0, 0, 0]))
    b = gen.images(z, torch.tensor([7, 7, 7]))
    assert gen.num_classes == 10 and not torch.allclose(a, b)             # same noise, another class
    assert torch.equal(gen.images(z, torch.tensor([7, 7, 7])), b)          # deterministic


def test_sample_cli_by_label_and_by_steps(trained, tmp_path, capsys):
    root, _ = trained
    png = tmp_path / "g.png"
    assert main(["images", "sample", "--run", str(root / "diffusion"), "--n", "4", "--label", "3", "--steps", "5",
                 "--out", str(png), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["label"] == 3 and res["steps"] == 5 and res["image_size"] == 28 and png.stat().st_size > 0
    gen = sampling.load_model(root / "diffusion")
    few, more = gen.sample(2, 1, torch.tensor([3, 3]), steps=2), gen.sample(2, 1, torch.tensor([3, 3]), steps=10)
    assert few.shape == (2, 1, 28, 28) and not torch.equal(few, more)     # the steps change the path
    for bad in (["--label", "12"], ["--truncation", "1.0"]):
        assert main(["images", "sample", "--run", str(root / "diffusion"), "--out", str(png), *bad]) == 2
    assert main(["images", "sample", "--run", str(root / "cgan"), "--steps", "5", "--out", str(png)]) == 2
    capsys.readouterr()


def test_pixelcnn_samples_are_bits_and_drawn_per_class(trained):
    root, _ = trained
    gen = sampling.load_model(root / "pixelcnn")
    x = gen.sample(3, seed=4, labels=torch.tensor([1, 2, 3]))
    assert x.shape == (3, 1, 28, 28) and set(np.unique(x.numpy())) <= {0.0, 1.0}
    assert torch.equal(x, gen.sample(3, seed=4, labels=torch.tensor([1, 2, 3])))


def test_eval_and_baseline_print_is(trained, capsys):
    root, _ = trained
    assert main(["images", "eval", "--run", str(root / "cgan"), "--n", "20", "--json"]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["is_features"].startswith("classifier:mnist5k") and 1.0 <= ev["is"] <= 10.0
    assert main(["images", "baseline", "--dataset", "mnist5k", "--json"]) == 0
    bl = json.loads(capsys.readouterr().out)
    assert bl["is"] > 8.0                     # real test digits: confident and balanced in a 98%-accurate classifier


def test_latent_only_views_refuse_models_without_noise(trained):
    root, _ = trained
    from playground.errors import PlaygroundError

    with pytest.raises(PlaygroundError, match="no noise vector"):
        sampling.load_generator(root / "pixelcnn")
    gen = sampling.load_model(root / "flow_matching")
    with pytest.raises(PlaygroundError, match="noise vector"):
        sampling.interpolation(gen, 0, 1)


def test_drawing_a_pixelcnn_reports_progress_and_draws_what_sample_draws():
    from playground.images import families
    from playground.images.config import ImageRunConfig
    from playground.images.pixelcnn import PixelCNN

    net = PixelCNN(8, 1).eval()
    seen = []
    got = families.draw(ImageRunConfig(model="pixelcnn"), net, 5, torch.Generator().manual_seed(3), resolution=8,
                        progress=lambda done, n: seen.append((done, n)))
    assert torch.equal(got, net.sample(5, 8, torch.Generator().manual_seed(3)))
    assert len(seen) == 8 and seen[-1] == (5, 5)                           # one report per row of pixels
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_raw_weights_load_only_the_sampling_network(trained):
    """use_ema=False samples with the checkpoint's raw training weights of the sampler (here G), not the EMA's
    (the discriminator's weights are not loaded: sampling never needs them)."""
    from playground.images.cgan import ConditionalGenerator
    from playground.images.trainer import load_run_checkpoint

    root, _ = trained
    raw, ema = sampling.load_model(root / "cgan", use_ema=False), sampling.load_model(root / "cgan")
    assert raw.ema is False and isinstance(raw.net, ConditionalGenerator)
    ck = load_run_checkpoint(sampling.checkpoint_path(root / "cgan", "latest"))
    state = raw.net.state_dict()
    assert set(state) == set(ck["nets"]["G"])
    for k, v in ck["nets"]["G"].items():
        assert torch.equal(state[k], v), k
    assert any(not torch.equal(ema.net.state_dict()[k], v) for k, v in ck["nets"]["G"].items())
