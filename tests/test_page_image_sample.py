"""The image Sample page through AppTest: grid, truncation, interpolation, download, bad checkpoints."""

import pytest

from test_page_image_train import SAMPLE, make_run, page


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    make_run(root, "alpha")
    make_run(root, "beta", model="vae")
    return root


def test_sample_page_grid_truncation_interpolation_and_download(runs):
    at = page(SAMPLE, runs, "smp_runs_dir")
    assert not at.error
    assert len(at.get("image")) >= 2                          # grid + interpolation strip
    dl = [b for b in at.get("download_button")]
    assert dl
    at.toggle(key="smp_trunc_on").set_value(True).run()
    at.slider(key="smp_trunc").set_value(0.5).run()
    assert not at.exception and not at.error
    at.radio(key="smp_mode").set_value("both").run()
    assert not at.exception
    at.selectbox(key="smp_ckpt").set_value("best").run()
    assert not at.exception and not at.error


def test_sample_page_reports_a_corrupt_checkpoint_in_place(tmp_path):
    path = make_run(tmp_path, "broken", steps=2)
    (path / "checkpoints" / "latest.pt").write_bytes(b"garbage")
    (path / "checkpoints" / "best.pt").unlink(missing_ok=True)
    at = page(SAMPLE, tmp_path, "smp_runs_dir")
    assert any("not a trusted checkpoint" in e.value for e in at.error)


def test_sample_page_offers_the_shipped_dcgan_with_no_runs_of_ones_own(tmp_path):
    at = page(SAMPLE, tmp_path / "no-runs-here", "smp_runs_dir")
    options = at.selectbox(key="smp_run").options
    shipped = [o for o in options if o.startswith("pretrained: digits-dcgan (dcgan on digits")]
    assert shipped, options
    at.selectbox(key="smp_run").set_value(shipped[0]).run()
    assert not at.error
    assert any("dcgan on digits, 8px" in c.value and "EMA generator" in c.value for c in at.caption)
    from playground.images.pretrained import cards

    fid = cards()["digits-dcgan"]["metrics"]["fid"]
    assert any(f"FID {fid:.2f}" in c.value and "test split scores" in c.value for c in at.caption)
    assert len(at.get("image")) >= 2                          # grid + interpolation strip


def test_a_link_names_the_run_and_the_url_follows_the_choice(runs, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("PLAYGROUND_RUNS", str(runs))
    at = AppTest.from_file(SAMPLE, default_timeout=60)
    at.query_params["run"] = "mnist5k-cgan"                        # a shipped model by its name
    at.run()
    assert not at.exception and at.selectbox(key="smp_run").value.startswith("pretrained: mnist5k-cgan (")
    beta = next(o for o in at.selectbox(key="smp_run").options if o.startswith("beta ("))
    at.selectbox(key="smp_run").set_value(beta).run()
    assert at.query_params["run"] == "beta"
    at = AppTest.from_file(SAMPLE, default_timeout=60)
    at.query_params["run"] = "no-such-run"                         # an unknown name: the page's first choice
    at.run()
    assert not at.exception and at.query_params["run"] != "no-such-run"
