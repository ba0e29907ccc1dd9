"""The games page's figure builders: what each figure holds, JSON-ready (no NaN or ∞ left)."""

import json

import numpy as np

from playground.games import plots
from playground.games.bilinear import GameConfig, field_grid, run_game
from playground.games.wasserstein import WassersteinConfig, critic_view, divergence_curves


def test_game_figure_draws_field_path_average_and_frames():
    cfg = GameConfig(steps=100)
    r = run_game(cfg)
    fig = plots.game_figure(cfg, r, field_grid(cfg, 2.0, 9))
    json.dumps(fig, allow_nan=False)
    names = [t["name"] for t in fig["data"]]
    assert names[-1] == "simultaneous steps" and "average of the iterates" in names
    path = fig["data"][-1]
    assert path["x"][0] == 1.0 and len(path["x"]) == 101
    assert len(fig["frames"]) == 40 and len(fig["frames"][-1]["data"][0]["x"]) == 101
    ext = plots.view_extent(r["path"])
    assert fig["layout"]["xaxis"]["range"] == [-ext, ext] and ext >= np.abs(r["path"]).max()
    assert fig["layout"]["xaxis"]["title"]["text"].startswith("x")
    dirac = plots.game_figure(GameConfig(game="dirac"), r, field_grid(cfg, 2.0, 9))
    assert dirac["layout"]["xaxis"]["title"]["text"].startswith("θ")


def test_field_arrows_point_along_the_field():
    grid = {"x": np.array([0.0, 1.0]), "y": np.array([0.0, 1.0]), "u": np.ones((2, 2)), "v": np.zeros((2, 2))}
    xs, ys = plots.field_arrows(grid, 0.5)
    assert xs[:3] == [0.0, 0.8, None] and ys[:3] == [0.0, 0.0, None]


def test_divergence_and_critic_figures():
    c = divergence_curves("uniform", 0.5, np.linspace(-2, 2, 41))
    fig = plots.divergence_figure(c, 1.0)
    json.dumps(fig, allow_nan=False)
    kl = next(t for t in fig["data"] if t["name"].startswith("KL(P‖Q)"))
    assert "∞" in kl["name"] and kl["y"][0] is None and kl["y"][20] == 0.0
    assert fig["layout"]["shapes"][0]["x0"] == 1.0
    v = critic_view(WassersteinConfig())
    for f in (plots.critic_figure(v), plots.push_figure(v)):
        json.dumps(f, allow_nan=False)
    assert "average over Q_θ" in plots.push_figure(v)["layout"]["title"]["text"]
