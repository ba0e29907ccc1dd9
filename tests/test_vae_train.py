"""Training runs, checkpoints (round trip, tampering, shape checks), resumption and the CLI."""

import json

import pytest
import torch

from playground.cli import main
from playground.errors import PlaygroundError
from playground.runs.rundir import RunDir
from playground.vae import VAEConfig, load_checkpoint, save_checkpoint, train
from playground.vae.model import build_model


def test_run_directory_resume_is_exact(tmp_path):
    cfg = VAEConfig(latent_dim=2, epochs=4, hidden=32, iwae_k=4)
    full = train(cfg, out=tmp_path / "full", final_eval=False)
    seen = []
    half = train(VAEConfig(latent_dim=2, epochs=2, hidden=32, iwae_k=4), out=tmp_path / "half", final_eval=False,
                 progress=lambda info: seen.append(info["epoch"]))
    assert seen == [1, 2] and half["epochs"] == 2
    resumed = train(cfg, out=tmp_path / "half", final_eval=False)
    for k, v in full["model"].state_dict().items():
        assert torch.equal(v, resumed["model"].state_dict()[k]), k
    rows = RunDir(tmp_path / "half").read_metrics()
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    status = RunDir(tmp_path / "half").read_status()
    assert status["state"] == "completed" and status["epoch"] == 4 and status["kind"] == "vae"
    assert (tmp_path / "half" / "checkpoints" / "latest.pt").is_file()
    assert json.loads((tmp_path / "half" / "config.json").read_text())["latent_dim"] == 2
    with pytest.raises(PlaygroundError, match="different settings"):
        train(VAEConfig(latent_dim=3, epochs=4, hidden=32), out=tmp_path / "half")


def test_progress_can_stop_and_stop_file(tmp_path):
    r = train(VAEConfig(latent_dim=2, epochs=10, hidden=32), out=tmp_path, final_eval=False,
              progress=lambda i: i["epoch"] < 2)
    assert r["stopped"] and r["epochs"] == 2
    assert RunDir(tmp_path).read_status()["state"] == "stopped"


def test_checkpoint_round_trip_tamper_and_shape(tmp_path):
    model = build_model(VAEConfig(latent_dim=3, hidden=16), (1, 8, 8))
    p = save_checkpoint(tmp_path / "m.pt", model, epoch=7, metrics={"test_elbo": -1.5})
    loaded, ckpt = load_checkpoint(p)
    assert ckpt["epoch"] == 7 and ckpt["metrics"]["test_elbo"] == -1.5
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k])
    from playground.vae.checkpoint import sha256_file

    good = sha256_file(p)
    load_checkpoint(p, sha256=good)
    with pytest.raises(PlaygroundError, match="hash"):
        load_checkpoint(p, sha256="0" * 64)
    # a card next to the file is checked automatically; a changed byte is refused
    (tmp_path / "m.json").write_text(json.dumps({"kind": "vae", "weights": "m.pt", "sha256": good}))
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.raises(PlaygroundError, match="hash"):
        load_checkpoint(p)
    # weights that do not fit the config
    ckpt = torch.load(tmp_path / "x.pt" if False else save_checkpoint(tmp_path / "y.pt", model), weights_only=True)
    ckpt["config"]["latent_dim"] = 5
    torch.save(ckpt, tmp_path / "z.pt")
    with pytest.raises(PlaygroundError, match="shape"):
        load_checkpoint(tmp_path / "z.pt")
    # pickled objects beyond tensors are refused by weights_only
    torch.save({"format": "playground.vae/1", "evil": object()}, tmp_path / "evil.pt")
    with pytest.raises(PlaygroundError, match="not a loadable"):
        load_checkpoint(tmp_path / "evil.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(PlaygroundError):
        load_checkpoint(tmp_path / "junk.pt")


def test_cli_train_eval_traverse(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["vae", "train", "--latent-dim", "2", "--epochs", "2", "--hidden", "32", "--iwae-k", "8",
                 "--out", str(out), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    ckpt = out / "checkpoints" / "latest.pt"
    for key in ("test_elbo", "test_recon", "test_kl", "test_iwae", "iwae_k", "active_units", "seconds"):
        assert key in res
    assert res["test_iwae"] >= res["test_elbo"] and "mig" not in res
    assert main(["vae", "eval", "--checkpoint", str(ckpt), "--iwae-k", "8", "--json"]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["test_elbo"] == pytest.approx(res["test_elbo"], abs=1e-6)
    png = tmp_path / "strip.png"
    assert main(["vae", "traverse", "--checkpoint", str(ckpt), "--dim", "1", "--out", str(png),
                 "--json"]) == 0
    from PIL import Image

    assert Image.open(png).size[0] > Image.open(png).size[1]
    capsys.readouterr()
    assert main(["vae", "traverse", "--checkpoint", str(ckpt), "--dim", "5", "--out", str(png)]) == 2
    assert "outside" in capsys.readouterr().err
    assert main(["vae", "eval", "--checkpoint", str(tmp_path / "none.pt")]) == 2


def test_cli_sprites_reports_mig(capsys):
    assert main(["vae", "train", "--dataset", "sprites", "--resolution", "16", "--latent-dim", "4", "--epochs", "1",
                 "--train-size", "300", "--hidden", "32", "--iwae-k", "2", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert 0.0 <= res["mig"] <= 1.0 and set(res["mig_per_factor"]) == {"shape", "scale", "rotation", "x", "y"}
    assert main(["vae", "train", "--latent-dim", "99"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "latent" in err


def test_cli_preset_is_the_vae_labs_form_with_flags_over_it(tmp_path, capsys):
    """`vae train --preset sprites_bvae` starts where the VAE lab's training form opens (flags override it)."""
    from pathlib import Path

    from playground.vae.config import PRESETS

    form = PRESETS["sprites_bvae"]
    page = (Path(__file__).resolve().parents[1] / "app/views/vae_lab.py").read_text()
    assert 'FORM_BASE = PRESETS["sprites_bvae"]' in page
    out = tmp_path / "run"
    assert main(["vae", "train", "--preset", "sprites_bvae", "--epochs", "1", "--train-size", "200", "--resolution",
                 "16", "--hidden", "16", "--iwae-k", "2", "--out", str(out), "--json"]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert (saved["dataset"], saved["kl_weight"], saved["latent_dim"]) == (form.dataset, form.kl_weight,
                                                                          form.latent_dim)
    assert saved["epochs"] == 1 and saved["train_size"] == 200
