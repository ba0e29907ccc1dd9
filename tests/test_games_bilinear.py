"""The bilinear game and the Dirac GAN against their closed forms."""

import dataclasses

import numpy as np
import pytest

from playground.configs import from_dict
from playground.games.bilinear import GameConfig, field, field_grid, field_label, norm_law, run_game
from playground.games.presets import GAME_PRESETS


@pytest.mark.parametrize("lr", [0.05, 0.1, 0.5])
def test_simultaneous_steps_on_xy_spiral_out_by_exactly_one_plus_eta_squared(lr):
    r = run_game(GameConfig(lr=lr, steps=60, x0=0.7, y0=-0.3))
    sq = r["norm"] ** 2
    np.testing.assert_allclose(sq[1:] / sq[:-1], 1 + lr**2, rtol=1e-12)


def test_alternating_steps_orbit_on_the_conserved_quadratic_form():
    lr = 0.3
    r = run_game(GameConfig(method="alternating", lr=lr, steps=2000, x0=1.0, y0=0.5))
    x, y = r["path"].T
    energy = x * x + y * y - lr * x * y            # invariant of x' = x − ηy, y' = y + ηx'
    np.testing.assert_allclose(energy, energy[0], rtol=1e-9)
    assert r["norm"].max() < 2.0 and r["norm"][-200:].min() > 0.5    # bounded, and never converging


def test_the_average_of_alternating_iterates_converges_in_closed_form():
    """z_t = M^t z_0 with det M = 1, so Σ_{t≤T} z_t = (I − M)^{-1}(z_0 − z_{T+1}): the average is O(1/T)."""
    lr, z0 = 0.3, np.array([1.0, 0.5])
    m = np.array([[1.0, -lr], [lr, 1.0 - lr * lr]])
    for steps in (100, 1000, 5000):
        r = run_game(GameConfig(method="alternating", lr=lr, steps=steps, x0=z0[0], y0=z0[1]))
        z_next = m @ r["path"][-1]
        expected = np.linalg.solve(np.eye(2) - m, z0 - z_next) / (steps + 1)
        np.testing.assert_allclose(r["average"][-1], expected, rtol=1e-8, atol=1e-12)
    assert np.linalg.norm(r["average"][-1]) < 0.01
    # the average of the diverging simultaneous iterates does not converge
    sim = run_game(GameConfig(lr=lr, steps=200))
    assert np.linalg.norm(sim["average"][-1]) > 1.0


def test_consensus_contracts_by_the_closed_form_factor_and_historical_averaging_damps():
    lr, c = 0.1, 1.0
    r = run_game(GameConfig(lr=lr, consensus=c, steps=50))
    sq = r["norm"] ** 2
    np.testing.assert_allclose(sq[1:] / sq[:-1], (1 - lr * c) ** 2 + lr**2, rtol=1e-10)
    plain = run_game(GameConfig(steps=1000))["norm"][-1]
    damped = run_game(GameConfig(hist_avg=0.5, steps=1000))["norm"]
    assert damped[-1] < 0.25 * damped[0] and plain > 100 * damped[-1]


def test_dirac_field_is_minus_and_plus_the_gradient_of_the_game_and_consensus_its_jacobian():
    f = lambda t: -np.log1p(np.exp(-t))                         # noqa: E731
    loss = lambda th, ps: f(ps * th) + f(0.0)                    # noqa: E731
    cfg, h = GameConfig(game="dirac"), 1e-6
    for th, ps in [(0.7, -0.4), (-1.5, 2.0), (0.1, 0.05)]:
        vx, vy = field(cfg, th, ps)
        assert vx == pytest.approx(-(loss(th + h, ps) - loss(th - h, ps)) / (2 * h), rel=1e-6)
        assert vy == pytest.approx((loss(th, ps + h) - loss(th, ps - h)) / (2 * h), rel=1e-6)
        # consensus: v − c ∇(½|v|²), the gradient by finite differences of the plain field
        half_sq = lambda a, b: 0.5 * sum(v**2 for v in field(cfg, a, b))     # noqa: E731
        gx = (half_sq(th + h, ps) - half_sq(th - h, ps)) / (2 * h)
        gy = (half_sq(th, ps + h) - half_sq(th, ps - h)) / (2 * h)
        cx, cy = field(dataclasses.replace(cfg, consensus=0.5), th, ps)
        assert (cx, cy) == pytest.approx((vx - 0.5 * gx, vy - 0.5 * gy), rel=1e-5, abs=1e-9)


def test_dirac_gan_simultaneous_moves_away_and_r1_converges():
    lr = 0.2
    near = run_game(GameConfig(game="dirac", lr=lr, x0=1e-3, y0=1e-3, steps=20))
    sq = near["norm"] ** 2            # near (0, 0) it is x·y with slope ½: growth 1 + η²/4 per step
    np.testing.assert_allclose(sq[1:] / sq[:-1], 1 + lr**2 / 4, rtol=1e-4)
    assert run_game(GameConfig(game="dirac", lr=lr, steps=2000))["norm"][-1] > 1.5
    assert run_game(GameConfig(game="dirac", r1=1.0, steps=2000))["norm"][-1] < 1e-6


def test_field_grid_and_overflow_stops_the_path():
    grid = field_grid(GameConfig(), 2.0, 5)
    np.testing.assert_allclose(grid["u"], -np.meshgrid(grid["x"], grid["y"])[1])      # v_x = −y
    r = run_game(GameConfig(lr=2.0, steps=5000))
    assert np.isnan(r["path"][-1]).all() and np.isfinite(r["path"][0]).all()


def test_presets_are_valid_game_configs():
    for p in GAME_PRESETS.values():
        assert isinstance(p.config(GameConfig), GameConfig)
    assert from_dict(GameConfig, {"game": "dirac", "r1": 1.0}).r1 == 1.0


@pytest.mark.parametrize("cfg", [GameConfig(lr=0.2), GameConfig(lr=0.2, consensus=1.0),
                                 GameConfig(lr=0.2, consensus=12.0), GameConfig(lr=0.2, method="alternating")])
def test_the_stated_law_is_what_the_path_does(cfg):
    """The page's sentence about |z| for each setting with a closed form, checked on the path it describes."""
    law = norm_law(cfg)
    r = run_game(dataclasses.replace(cfg, steps=50, x0=0.6, y0=-0.8))
    x, y = r["path"].T
    if cfg.method == "alternating":
        assert "conserve x² + y² − η·x·y" in law
        np.testing.assert_allclose(x * x + y * y - cfg.lr * x * y, 1.0 + cfg.lr * 0.48, rtol=1e-9)
        return
    factor = float(law.split("a factor ")[1].split(" ")[0])
    np.testing.assert_allclose(r["norm"][1:] ** 2 / r["norm"][:-1] ** 2, factor, rtol=1e-3)
    assert ("spiral out" in law) == (factor > 1) and ("spiral in" in law) == (factor < 1)


@pytest.mark.parametrize("cfg", [GameConfig(game="dirac"), GameConfig(hist_avg=0.5), GameConfig(r1=1.0),
                                 GameConfig(method="alternating", consensus=1.0)])
def test_no_law_is_stated_where_there_is_no_closed_form(cfg):
    assert norm_law(cfg) is None


def test_the_field_legend_names_the_terms_the_arrows_include():
    assert field_label(GameConfig()) == "field v = (−∂L/∂x, ∂L/∂y)"
    assert field_label(GameConfig(r1=1.0, consensus=0.5)).endswith("with the R1 and consensus terms")
