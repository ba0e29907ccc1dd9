"""Latent arithmetic against hand-computed noise combinations, decoded by a stand-in generator."""

import pytest
import torch

from playground.errors import PlaygroundError
from playground.images.arithmetic import arithmetic, combine, group_mean, sample_noise, variations
from playground.images.sampling import grid, load_generator


def test_group_mean_and_combination_by_hand():
    z = torch.tensor([[1.0, 0.0], [3.0, 2.0], [0.0, 4.0], [-1.0, 1.0]])
    assert torch.equal(group_mean(z, [0, 1]), torch.tensor([2.0, 1.0]))
    # A = mean(z0, z1) = (2, 1); B = z2 = (0, 4); C = mean(z2, z3) = (-0.5, 2.5); A - B + C = (1.5, -0.5)
    r = combine(z, {"A": [0, 1], "B": [2], "C": [2, 3]}, {"A": 1, "B": -1, "C": 1})
    assert torch.equal(r, torch.tensor([1.5, -0.5]))
    assert torch.equal(combine(z, {"A": [3]}, {"A": 1, "B": 0}), z[3])
    with pytest.raises(PlaygroundError):
        group_mean(z, [])
    with pytest.raises(PlaygroundError):
        group_mean(z, [4])


def test_variations_first_is_the_vector():
    v = variations(torch.tensor([1.0, 2.0]), n=5)
    assert v.shape == (5, 2) and torch.equal(v[0], torch.tensor([1.0, 2.0])) and not torch.equal(v[1], v[0])


class Linear:
    """A 'generator' whose image is its noise: decoding is visible arithmetic."""

    cfg = type("Cfg", (), {"is_conditional": False})()

    def images(self, z, labels=None):
        assert labels is None
        return z.view(len(z), 1, 1, -1)


def test_arithmetic_decodes_the_combination():
    z = sample_noise(6, 4, seed=3)
    out = arithmetic(Linear(), z, {"A": [0, 1], "B": [2], "C": [5]}, {"A": 1, "B": -1, "C": 1}, n=3)
    want = (z[0] + z[1]) / 2 - z[2] + z[5]
    assert torch.allclose(out["images"][0].flatten(), want)
    assert torch.allclose(out["means"]["A"].flatten(), (z[0] + z[1]) / 2)


def test_sample_noise_is_the_grid_noise_of_the_shipped_run():
    gen = load_generator("digits-dcgan")
    z = sample_noise(4, gen.latent_dim, seed=7)
    assert torch.allclose(gen.images(z), torch.from_numpy(grid(gen, 4, seed=7)))


def test_a_conditional_generator_decodes_every_result_as_one_class():
    """The grid's sample i is class i mod K; the means and the result keep one class, so only the noise changes."""
    gen = load_generator("mnist5k-cgan")
    z = sample_noise(24, gen.latent_dim, seed=0)
    picks = {"A": [3, 13, 23], "B": [], "C": []}           # all three drawn as class 3
    out = arithmetic(gen, z, picks, {"A": 1}, n=4)
    assert out["label"] == 3
    three = torch.full((4,), 3, dtype=torch.long)
    assert torch.allclose(out["images"], gen.images(variations(out["result"], 4), three))
    assert torch.allclose(out["means"]["A"], gen.images(group_mean(z, [3, 13, 23]).view(1, -1), three[:1])[0])
    assert arithmetic(gen, z, picks, {"A": 1}, n=2, label=7)["label"] == 7
    assert arithmetic(Linear(), z, picks, {"A": 1}, n=2)["label"] is None


def test_memorisation_of_a_run_on_bits_compares_bits_with_bits():
    from playground.images.config import preset_config
    from playground.images.training_data import as_trained

    cfg = preset_config("cpixelcnn_mnist5k")
    x = torch.tensor([[[[0.2, 0.7]]]])
    assert torch.equal(as_trained(cfg, x), torch.tensor([[[[0.0, 1.0]]]]))
    assert as_trained(preset_config("dcgan_mnist5k"), x) is x
