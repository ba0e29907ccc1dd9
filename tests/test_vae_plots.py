"""The VAE lab's figure builders, without a browser: what each figure shows is the data it was given."""

import numpy as np
import pytest
import torch

from playground.vae import plots
from playground.vae.config import VAEConfig
from playground.vae.metrics import ACTIVE_KL


def _levels(shape, seed=0) -> torch.Tensor:
    """Images whose pixels are exact grey levels k/255 (no rounding question in the picture)."""
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, shape).astype(np.float32) / 255)


def test_picture_upscales_every_pixel_into_a_crisp_block():
    images = _levels((2, 1, 8, 8))
    pic = plots.picture(images, nrow=2, size_px=40)          # 40 // 8 = 5x, and the frame scales with it
    pic = pic if pic.ndim == 2 else pic[..., 0]
    assert pic.shape == (8 * 5 + 2 * 5, 2 * (8 * 5 + 5) + 5)
    want = np.kron((images.numpy() * 255).round().astype(np.uint8), np.ones((5, 5), np.uint8))
    assert np.array_equal(pic[5:45, 5:45], want[0, 0]) and np.array_equal(pic[5:45, 50:90], want[1, 0])


def test_manifold_picture_has_n_by_n_tiles_smaller_for_finer_grids():
    coarse, fine = plots.manifold_picture(_levels((9, 1, 8, 8)), 3), plots.manifold_picture(_levels((225, 1, 8, 8)), 15)
    assert coarse.shape[1] == 3 * 45 + 5                     # 40 px tiles (5x) for n <= 12
    assert fine.shape[1] == 15 * 36 + 4                      # 32 px tiles (4x) beyond
    assert "z2 (→)" in plots.manifold_caption(2, 5) and "z5 (↑)" in plots.manifold_caption(2, 5)


def test_encoded_scatter_shows_the_chosen_dimensions_and_carries_each_index():
    mu = np.random.default_rng(1).standard_normal((50, 4)).astype(np.float32)
    labels = np.arange(50) % 10
    fig = plots.encoded_scatter(mu, labels, 3, 1)
    tr = fig.data[0]
    assert tr.type == "scattergl"
    assert np.array_equal(tr.x, mu[:, 3]) and np.array_equal(tr.y, mu[:, 1])
    assert np.array_equal(tr.customdata, np.arange(50)) and np.array_equal(tr.marker.color, labels)
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("z3", "z1")
    unlabelled = plots.encoded_scatter(mu, None, 0, 1).data[0]
    assert np.array_equal(unlabelled.marker.color, np.zeros(50))


def test_elbo_curves_one_line_per_term_over_the_epochs():
    rows = [{"epoch": e, "test_elbo": -30.0 + e, "test_recon": -25.0 + e, "test_kl": 5.0 + 0.1 * e} for e in (1, 2, 3)]
    fig = plots.elbo_curves(rows)
    assert [t.name for t in fig.data] == ["test ELBO", "reconstruction E[log p(x|z)]", "KL(q(z|x) || p(z))"]
    assert list(fig.data[0].x) == [1, 2, 3] and list(fig.data[0].y) == [-29.0, -28.0, -27.0]
    assert list(fig.data[2].y) == pytest.approx([5.1, 5.2, 5.3])
    assert fig.layout.title.text == "ELBO terms during training (one sample, the first 500 test images)"


def test_kl_bars_colour_exactly_the_active_dimensions():
    kl = [2.5, 0.0, ACTIVE_KL * 2, ACTIVE_KL / 2]
    fig = plots.kl_bars(kl)
    bar = fig.data[0]
    assert list(bar.x) == ["z0", "z1", "z2", "z3"] and list(bar.y) == kl
    assert list(bar.marker.color) == [plots.ACTIVE, plots.INACTIVE, plots.ACTIVE, plots.INACTIVE]
    assert "active: 2 of 4" in fig.layout.title.text


def test_kl_comparison_groups_one_series_per_model():
    fig = plots.kl_comparison({"vae": [1.0, 0.8, 0.5], "bvae": [2.0, 0.0, 0.0]})
    assert fig.layout.barmode == "group" and [t.type for t in fig.data] == ["bar", "bar"]
    assert fig.data[0].name == "vae (active 3 of 3)" and fig.data[1].name == "bvae (active 1 of 3)"
    assert list(fig.data[1].y) == [2.0, 0.0, 0.0]


def test_metrics_table_names_and_formats_what_the_checkpoint_holds():
    met = {"test_elbo": -25.12345, "test_kl": 4.0, "test_iwae": -24.5, "iwae_k": 64, "active_units": 3,
           "kl_per_dim": [1.0]}
    table = plots.metrics_table(met)
    assert table["metric"] == ["KL", "ELBO", "IWAE (K=64)", "active units"]
    assert table["value"] == ["4.000", "-25.123", "-24.500", "3"]
    assert plots.metrics_table({}) == {"metric": [], "value": []}


def test_model_summary_line():
    cfg = VAEConfig(dataset="sprites", arch="conv", kl_weight=4.0, decoder="gaussian")
    assert plots.model_summary(cfg, 8, True) == "sprites, conv, 8 latents, β = 4, gaussian decoder, conditional"
    assert plots.model_summary(VAEConfig(), 2, False) == "digits, mlp, 2 latents, β = 1, bernoulli decoder"


def test_posterior_table_rows_are_mean_and_std_over_the_dimensions():
    df = plots.posterior_table([0.12345, -1.0], [0.5, 0.25])
    assert list(df.index) == ["mean", "std"] and list(df.columns) == ["z0", "z1"]
    assert df.loc["mean"].tolist() == [0.123, -1.0] and df.loc["std"].tolist() == [0.5, 0.25]
