"""Hostile or malformed input from users (configs, formulas, CSVs, run folders, checkpoints, flags) ends in one
clear PlaygroundError (a one-line message, exit 2 on the CLI), never a traceback, a hang or a huge allocation."""

import json
import shutil
from pathlib import Path

import pytest

from playground.cli import main
from playground.configs import from_json
from playground.errors import PlaygroundError
from playground.formula import parse_mixture, parse_terms
from playground.toy.config import ToyConfig
from playground.toy.userdata import load_points_csv

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("text", ["[" * 45_000 + "]" * 45_000, '{"seed": ' + "9" * 5000 + "}"])
def test_a_config_nested_too_deep_or_with_a_giant_number_is_refused(text):
    with pytest.raises(PlaygroundError):
        from_json(ToyConfig, text)


@pytest.mark.parametrize("formula,says", [("1e308*N(0,1)+1e308*N(1,1)", "weight"), ("N(0,1e-300)", "deviation"),
                                          ("N(0,1e300)", "deviation"), ("N(1e300,1)", "locations"),
                                          ("U(0,1e-9)", "U width")])
def test_formulas_with_numbers_that_break_the_densities_are_refused(formula, says):
    with pytest.raises(PlaygroundError, match=says):
        parse_terms(formula, uniform=True)
    assert parse_mixture("0.3*N(-2,0.5)+0.7*N(1.5,1)").weights.sum() == pytest.approx(1.0)   # ordinary ones pass


def test_points_beyond_a_million_are_refused():
    with pytest.raises(PlaygroundError, match="beyond"):
        load_points_csv(b"x,y\n1e308,1e308\n0,0\n1,1\n")


def test_a_run_folder_with_a_hostile_status_is_listed_not_fatal(tmp_path):
    from playground.runs.files import read_json
    from playground.runs.rundir import list_runs

    good = tmp_path / "good"
    good.mkdir()
    (good / "config.json").write_text(json.dumps({"model": "dcgan"}))
    (good / "status.json").write_text(json.dumps({"state": "completed", "updated": "yesterday"}))
    deep = tmp_path / "deep"
    shutil.copytree(good, deep)
    (deep / "status.json").write_text("[" * 45_000 + "]" * 45_000)
    with pytest.raises(ValueError):
        read_json(deep / "status.json")
    names = {Path(r["path"]).name if "path" in r else r.get("name") for r in list_runs(tmp_path)}
    assert "good" in names


def test_checkpoints_with_impossible_shapes_are_refused_before_anything_is_built(tmp_path):
    from playground.runs.checkpoints import save_checkpoint
    from playground.vae.checkpoint import model_from_checkpoint

    for shape in (["x", 1, 1], [1, 30000, 30000], [2, 8, 8]):
        with pytest.raises(PlaygroundError):
            model_from_checkpoint({"config": {}, "data": {"shape": shape}, "model": {}})
    from playground.images.sampling import load_model
    from playground.images.trainer import FORMAT

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text("{}")
    save_checkpoint(run / "checkpoints" / "latest.pt", {"config": {}, "resolution": 8, "step": 0}, FORMAT)
    with pytest.raises(PlaygroundError, match="channels"):
        load_model(run)
    save_checkpoint(run / "checkpoints" / "latest.pt", {"config": {}, "resolution": 100000, "channels": 1,
                                                       "step": 0}, FORMAT)
    with pytest.raises(PlaygroundError, match="impossible"):
        load_model(run)


@pytest.mark.parametrize("flags", [["--scale", "100000"], ["--n", "0"], ["--seed", "1e23"], ["--truncation", "nan"]])
def test_sample_flags_out_of_range_are_one_line_and_exit_2(flags, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:                     # argparse's own exit, as the user meets it
        main(["images", "sample", "--run", "digits-dcgan", "--out", str(tmp_path / "x.png"), *flags])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and flags[0] in err[0]


def test_an_npz_declaring_a_huge_array_is_refused_from_its_header(tmp_path):
    """A few hundred bytes may declare 5e8 values: refused before numpy decompresses (or allocates) anything."""
    import zipfile

    import numpy as np

    from playground.data.files import load_npz

    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf, zf.open("images.npy", "w") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": (500, 1000, 1000)})
        f.write(bytes(1000))
    with pytest.raises(PlaygroundError, match="holds 500000000 values"):
        load_npz(path)
