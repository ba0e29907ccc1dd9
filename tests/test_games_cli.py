"""`python -m playground games`: the GAN games page headless, with the page's configs and defaults."""

import json

import numpy as np
import pytest

from playground.cli import main
from playground.games.bilinear import GameConfig, run_game
from playground.games.presets import GAME_PRESETS


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_play_with_no_flags_is_the_pages_default_game(capsys):
    out = _json(capsys, ["games", "play", "--json", "--path"])
    r = run_game(GameConfig())                              # what the page draws at its defaults
    assert out["config"] == json.loads(json.dumps(GameConfig().__dict__))
    np.testing.assert_allclose(out["path"], r["path"], rtol=1e-12)
    assert out["norm_end"] == pytest.approx(np.sqrt(2) * (1 + 0.1**2) ** 100, rel=1e-9)   # |z| grows by √(1+η²)
    assert "(1 + η²)" in out["law"] and not out["diverged"]


def test_a_preset_with_flags_over_it_and_bad_input(capsys):
    out = _json(capsys, ["games", "play", "--preset", "dirac_r1", "--steps", "50", "--json"])
    want = GAME_PRESETS["dirac_r1"].config(GameConfig)
    assert out["config"]["game"] == "dirac" and out["config"]["r1"] == want.r1 and out["config"]["steps"] == 50
    assert out["law"] is None                               # no closed form for the Dirac GAN
    assert main(["games", "play", "--lr", "9"]) == 2 and "lr" in capsys.readouterr().err
    assert main(["games", "play", "--preset", "nope"]) == 2 and "preset" in capsys.readouterr().err


def test_wasserstein_prints_the_closed_forms_at_the_shift(capsys):
    out = _json(capsys, ["games", "wasserstein", "--shape", "gaussian", "--width", "0.5", "--theta", "3", "--json"])
    assert out["w1"] == pytest.approx(3.0) and out["kl"] == pytest.approx(3.0**2 / (2 * 0.5**2))
    assert 0 < out["js"] < np.log(2)
    assert out["generator_gradient"]["critic"] == -1.0      # the critic's slope: a unit push toward the data
    far = _json(capsys, ["games", "wasserstein", "--theta", "3", "--json"])      # uniform bumps, apart
    assert far["js"] == pytest.approx(np.log(2)) and far["kl"] is None            # ∞ prints as null
