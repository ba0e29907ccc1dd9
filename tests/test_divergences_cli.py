"""`python -m playground divergence|fit`: keys, standard JSON (infinite values null), one-line errors with exit 2."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from playground.cli import main

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"kl", "rkl", "js", "hellinger2", "tv", "pearson", "neyman", "jeffreys", "w1", "gan_value_optimal_d"}


def _strict_json(text):
    """json.loads that refuses NaN/Infinity (not valid JSON)."""
    def bad(name):
        raise ValueError(f"invalid JSON constant {name}")
    return json.loads(text, parse_constant=bad)


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_divergence_json(capsys):
    code, out, err = run(capsys, "divergence", "--p", "0.3*N(-2,0.5)+0.7*N(1.5,1)", "--q", "N(0,1)",
                         "--alpha", "0.5", "--alpha", "2", "--json")
    assert code == 0 and err == ""
    d = _strict_json(out)
    assert set(d) == KEYS | {"alpha_0.5", "alpha_2"}
    assert d["alpha_2"] == pytest.approx(d["pearson"] / 2, rel=1e-12)
    assert d["gan_value_optimal_d"] == pytest.approx(-math.log(4) + 2 * d["js"], abs=1e-10)


def test_infinite_values_are_null_in_json_and_inf_in_text(capsys):
    code, out, _ = run(capsys, "divergence", "--p", "U(0,1)", "--q", "U(2,3)", "--json")
    d = _strict_json(out)
    assert d["kl"] is None and d["pearson"] is None and d["js"] == pytest.approx(math.log(2))
    code, out, _ = run(capsys, "divergence", "--p", "U(0,1)", "--q", "U(2,3)")
    assert code == 0
    assert "kl: inf" in out.splitlines() and "pearson: inf" in out.splitlines()


def test_fit_json(capsys):
    code, out, _ = run(capsys, "fit", "--target", "0.3*N(-2,0.5)+0.7*N(1.5,1)", "--divergence", "rkl",
                       "--family", "gaussian", "--restarts", "20", "--seed", "0", "--json")
    assert code == 0
    d = _strict_json(out)
    assert {"mu", "sigma", "value", "local_minima"} <= set(d)
    assert len(d["local_minima"]) >= 2
    assert all({"mu", "sigma", "value"} <= set(m) for m in d["local_minima"])
    assert d["local_minima"][0]["value"] == d["value"] == min(m["value"] for m in d["local_minima"])


def test_fit_alpha_mixture_and_2d(capsys):
    code, out, _ = run(capsys, "fit", "--target", "lecture", "--divergence", "alpha:0.5", "--restarts", "3",
                       "--path", "--json")
    d = _strict_json(out)
    assert d["divergence"] == "alpha:0.5" and len(d["path"]) == len(d["path_values"]) >= 2
    code, out, _ = run(capsys, "fit", "--target", "lecture", "--divergence", "kl", "--family", "mixture",
                       "--components", "2", "--restarts", "2", "--json")
    assert _strict_json(out)["means"] == pytest.approx([-2, 2], abs=1e-3)
    code, out, _ = run(capsys, "fit", "--target", "correlated", "--divergence", "rkl", "--family", "gaussian_diag",
                       "--restarts", "2", "--json")
    assert code == 0
    cov = _strict_json(out)["cov"]
    assert cov[0][0] == pytest.approx(0.19, abs=1e-6) and cov[1][1] == pytest.approx(0.19, abs=1e-6)


def test_human_output(capsys):
    code, out, _ = run(capsys, "divergence", "--p", "N(0,1)", "--q", "N(1,1)")
    assert code == 0 and "kl: 0.5" in out


@pytest.mark.parametrize("argv,fragment", [
    (["divergence", "--p", "0.3*N(-2,0.5)+0.7*M(1.5,1)", "--q", "N(0,1)"], "cannot read '0.7*M(1.5,1)'"),
    (["divergence", "--p", "N(0,-1)", "--q", "N(0,1)"], "standard deviation must be positive"),
    (["divergence", "--p=-0.3*N(0,1)+N(2,1)", "--q", "N(0,1)"], "weight must be positive"),
    (["fit", "--target", "lecture", "--divergence", "kll"], "unknown divergence 'kll'"),
    (["fit", "--target", "uniform", "--divergence", "rkl"], "infinite for every Gaussian"),
    (["fit", "--target", "ring", "--divergence", "kl", "--family", "mixture"], "mixture family is for 1D"),
])
def test_user_errors_are_one_line_exit_2(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and fragment in err


def test_bad_flag_value_is_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        main(["divergence", "--p", "N(0,1)", "--q", "N(0,1)", "--alpha", "x"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--alpha" in err


@pytest.mark.slow
def test_module_entry_point():
    r = subprocess.run([sys.executable, "-m", "playground", "divergence", "--p", "N(0,1)", "--q", "N(0,2)",
                        "--json"], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert _strict_json(r.stdout)["kl"] == pytest.approx(math.log(2) + 1 / 8 - 0.5)


def test_fit_flags_and_defaults_are_the_configs():
    from playground.cli import build_parser
    from playground.divergences.cli import fit_config
    from playground.divergences.config import DivergenceConfig

    parse = build_parser().parse_args
    assert fit_config(parse(["fit", "--divergence", "js"])) == (DivergenceConfig(divergences=("js",)), False)
    cfg, is_2d = fit_config(parse(["fit", "--target", "ring", "--divergence", "kl", "--param", "3", "--restarts",
                                   "5", "--family", "gaussian"]))
    assert is_2d and cfg == DivergenceConfig(target2d="ring", param2d=3.0, divergences2d=("kl",), restarts=5,
                                             family2d="gaussian")
    assert fit_config(parse(["fit", "--target", "ring", "--divergence", "kl"]))[0].family2d == "gaussian_diag"


def test_fit_uses_the_configs_default_restarts_and_bounds(capsys):
    from playground.divergences.config import DivergenceConfig

    code, out, _ = run(capsys, "fit", "--target", "gaussian", "--divergence", "kl", "--json")
    assert code == 0 and _strict_json(out)["restarts"] == DivergenceConfig().restarts == 12
    code, out, err = run(capsys, "fit", "--target", "gaussian", "--divergence", "kl", "--restarts", "201")
    assert code == 2 and "restarts: 201 is above the maximum 200" in err
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "starts of the multi-start fit (default: 12)" in help_text
