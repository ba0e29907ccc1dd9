"""Figure builders of the families lab (snapshot -> Plotly specs), the scoreboard table, and the rasteriser that
turns figures into GIF frames: checked against independent computations, without a browser."""

import numpy as np
import pytest
import torch

from playground.families import plots
from playground.families.config import FamilyConfig
from playground.families.live import LiveLab
from playground.families.setup import PRESETS, setup_from_query, setup_query
from playground.raster import colorscale_lut, parse_color, render_figure, tile

TINY = dict(width=8, layers=1, flow_layers=2, flow_bins=4, ar_components=3, sample_steps=5, diffusion_timesteps=20,
            fm_logprob_steps=5, eval_samples=200, batch_size=64)
FAMILIES = ("flow", "autoregressive", "vae", "diffusion", "flow_matching", "gan")


@pytest.fixture(scope="module")
def labs():
    out = {}
    for dist in ("ring8", "bimodal1d"):
        lab = LiveLab([FamilyConfig(model=m, dist=dist, **TINY) for m in FAMILIES[:3]])
        lab2 = LiveLab([FamilyConfig(model=m, dist=dist, **TINY) for m in FAMILIES[3:]])
        for lb in (lab, lab2):
            lb.step_once(3)
        out[dist] = (lab, lab2)
    return out


def _by_name(fig, name):
    return next(t for t in fig["data"] if t.get("name") == name)


def test_every_family_has_two_figures_on_the_target_box(labs):
    for dist, (a, b) in labs.items():
        for lab in (a, b):
            snap = lab.snapshot()
            figs = plots.lab_figures(snap)
            assert set(figs) == {f"m{i}_{k}" for i in range(3) for k in ("main", "aux")}
            assert plots.figure_columns(3) == [["m0_main", "m0_aux"], ["m1_main", "m1_aux"], ["m2_main", "m2_aux"]]
            for i, m in enumerate(snap["models"]):
                main = figs[f"m{i}_main"]
                assert main["layout"]["xaxis"]["range"] == [snap["bounds"][0], snap["bounds"][1]]
                assert main["layout"]["title"]["text"].endswith(f"· step {m['step']:,}")
                assert all(t["type"] in ("heatmap", "scatter", "scattergl") for f in figs.values() for t in f["data"])
            frame = plots.live_frame(snap, [plots.model_label(c) for c in lab.cfgs])
            assert frame["step"] == 3 and [h[0] for h in frame["header"]][0] == "step"
            assert len(frame["header"]) == 4


def test_the_flow_heatmap_is_its_exact_log_density(labs):
    lab = labs["ring8"][0]
    snap = lab.snapshot()
    hm = plots.lab_figures(snap)["m0_main"]["data"][0]
    assert hm["type"] == "heatmap"
    x, y = np.asarray(hm["x"]), np.asarray(hm["y"])
    gx, gy = np.meshgrid(x, y)                                          # rows along y, as the heatmap has them
    with torch.no_grad():
        log_q = lab.ls.trainers[0].model.log_prob(torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1),
                                                                 dtype=torch.float32)).numpy().reshape(gx.shape)
    top = np.ceil(log_q.max())
    np.testing.assert_allclose(hm["z"], np.clip(log_q, top - plots.LOG_SPAN, None), atol=1e-4)
    assert hm["zmax"] == top and hm["zmin"] == top - plots.LOG_SPAN
    # cell centres tile the box: the density integrates to about its mass inside the box
    cell = (x[1] - x[0]) * (y[1] - y[0])
    assert 0.5 < float(np.exp(log_q).sum() * cell) < 1.05


def test_family_specific_views(labs):
    lab = labs["ring8"][0]
    lab.set_view(1, given=0.7)
    snap = lab.snapshot()
    figs = plots.lab_figures(snap)
    ar = snap["models"][1]
    line = _by_name(figs["m1_main"], "slice x1 = 0.70")
    assert line["x"] == [0.7, 0.7]                                      # x1 first: a vertical line at the slice
    cond = _by_name(figs["m1_aux"], "q(x2 | x1=0.70)")
    # the conditional curve is the model's own q(x2 | x1 = 0.7)
    with torch.no_grad():
        expect = lab.ls.trainers[1].model.conditional_log_prob(torch.as_tensor(ar["conditional_x"]), 0.7).exp()
    np.testing.assert_allclose(cond["y"], expect.numpy(), rtol=1e-4)
    assert "encoder" in figs["m2_aux"]["layout"]["title"]["text"]
    lab.set_view(0, layer=0)
    grid0 = plots.lab_figures(lab.snapshot())["m0_aux"]
    assert "0 of 2 layers" in grid0["layout"]["title"]["text"]
    xs = np.asarray(_by_name(grid0, "noise grid")["x"])
    center, scale = lab.ls.trainers[0].model.center, float(lab.ls.trainers[0].model.scale)
    xs = xs[np.isfinite(xs)]
    assert xs.min() == pytest.approx(float(center[0, 0]) - 3 * scale, abs=1e-4)   # layer 0: the noise grid itself
    later = labs["ring8"][1]
    later.set_view(0, t=0.9)
    later.set_view(1, t=0.2)
    figs = plots.lab_figures(later.snapshot())
    assert "t=0.90" in figs["m0_main"]["layout"]["title"]["text"]
    assert _by_name(figs["m1_main"], "velocity v(x, t)")["type"] == "scattergl"
    assert figs["m2_main"]["data"][0]["type"] == "heatmap" and figs["m2_aux"]["layout"]["title"]["text"] == \
        "training loss"


def test_1d_views_show_the_exact_target_density(labs):
    lab = labs["bimodal1d"][0]
    snap = lab.snapshot()
    fig = plots.lab_figures(snap)["m0_main"]
    p = _by_name(fig, "target p(x)")
    xs = np.asarray(p["x"], dtype=np.float64)
    np.testing.assert_allclose(p["y"], np.exp(lab.target.log_prob(xs[:, None])), rtol=1e-5)
    assert _by_name(fig, "model q(x) (exact)")
    paths = plots.lab_figures(labs["bimodal1d"][1].snapshot())["m0_aux"]
    assert paths["layout"]["xaxis"]["title"]["text"] == "t"


def test_scoreboard_table_keeps_exact_and_bound_apart(labs):
    lab = labs["ring8"][0]
    rows = lab.evaluate()
    labels = [plots.model_label(c) for c in lab.cfgs]
    table = plots.scoreboard_table(rows, labels)
    assert [r["model"] for r in table] == labels
    flow, ar, vae = table
    assert flow["exact KL(p‖q) nats"].startswith(f"{rows[0]['kl']:.3f}") and flow["KL upper bound (VAE)"] == "–"
    assert vae["exact KL(p‖q) nats"] == "–" and vae["KL upper bound (VAE)"] == f"≤ {rows[2]['kl_bound']:.3f}"
    assert flow["modes covered"].endswith("/ 8") and flow["parameters"] == f"{rows[0]['params']:,}"
    assert plots.scoreboard_table([None], ["x"]) == [{"model": "x", "evaluated at step": "not yet"}]
    # flow matching's log q comes from a discretised ODE: the row says with how many steps
    lab2 = labs["ring8"][1]
    rows2 = lab2.evaluate()
    fm = plots.scoreboard_table(rows2, [plots.model_label(c) for c in lab2.cfgs])[1]
    assert rows2[1]["likelihood_note"] == "ODE, 5 midpoint steps"
    assert fm["exact KL(p‖q) nats"].endswith("(ODE, 5 midpoint steps)")
    assert rows[0]["likelihood_note"] is None and "(" not in flow["exact KL(p‖q) nats"]


def test_model_labels():
    assert plots.model_label(FamilyConfig(model="flow", flow_objective="reverse_kl")) == \
        "normalizing flow (spline, reverse KL)"
    assert plots.model_label(FamilyConfig(model="flow_matching", fm_ot=True, sample_steps=20)) == \
        "flow matching (midpoint, 20 steps, OT)"


# ------------------------------------------------------------------ raster (GIF frames)
def test_raster_paints_heatmaps_markers_and_lines_where_plotly_would():
    fig = {"data": [{"type": "heatmap", "x": [0.5, 1.5], "y": [0.5, 1.5], "z": [[0.0, 1.0], [1.0, 0.0]],
                     "colorscale": [[0, "#000000"], [1, "#ffffff"]], "zmin": 0, "zmax": 1},
                    {"type": "scatter", "mode": "markers", "x": [1.0], "y": [1.0], "marker": {"color": "#ff0000",
                                                                                            "size": 10}},
                    {"type": "scatter", "mode": "lines", "x": [0.1, 1.9, None, 0.1], "y": [1.9, 1.9, None, 0.1],
                     "line": {"color": "rgb(0,0,255)", "width": 2}}],
           "layout": {"xaxis": {"range": [0, 2]}, "yaxis": {"range": [0, 2]}}}
    pic = render_figure(fig, 206, 206, title=False)        # plot area: 6..200 on both axes
    assert pic.shape == (206, 206, 3)

    def at(x, y):            # data -> pixel (y up)
        return tuple(pic[int(round(200 - y / 2 * 194)), int(round(6 + x / 2 * 194))])
    assert at(0.5, 0.5) == (0, 0, 0) and at(1.5, 0.5) == (255, 255, 255)       # z rows go up in y
    assert at(0.5, 1.3) == (255, 255, 255) and at(1.5, 1.5) == (0, 0, 0)
    assert at(1.0, 1.0) == (255, 0, 0)
    assert at(1.0, 1.9) == (0, 0, 255)                                      # the line before the gap
    assert parse_color("rgba(10,20,30,0.5)") == (10, 20, 30, 0.5) and parse_color("#0a141e")[:3] == (10, 20, 30)
    lut = colorscale_lut("RdBu")
    assert lut.shape == (256, 3) and tuple(lut[0]) == (103, 0, 31)
    t = tile([pic, pic], pad=4)
    assert t.shape == (206 + 8, 2 * 206 + 12, 3)


def test_frame_picture_shows_every_models_main_view(labs):
    pic = plots.frame_picture(labs["ring8"][0].snapshot(), size=120)
    assert pic.dtype == np.uint8 and pic.shape == (128, 3 * 120 + 16, 3)
    assert len(np.unique(pic.reshape(-1, 3), axis=0)) > 20


# ------------------------------------------------------------------ the setup in a URL
def test_setup_round_trips_through_the_url():
    cfgs = [FamilyConfig(model="flow", dist="two_moons", seed=7, flow_objective="reverse_kl"),
            FamilyConfig(model="diffusion", dist="two_moons", seed=7, sample_steps=40),
            FamilyConfig(model="gan", dist="two_moons", seed=7, gan_loss="wgan_gp")]
    q = setup_query(cfgs)
    assert q["models"] == "flow,diffusion,gan" and q["dist"] == "two_moons" and q["m1.flow_objective"] == "reverse_kl"
    back, problems = setup_from_query(q)
    assert back == cfgs and not problems
    assert setup_query(setup_from_query({})[0]) == {}                   # the default setup: a clean URL
    bad, problems = setup_from_query({"models": "flow,nope", "m1.width": "abc", "seed": "3"})
    assert [c.model for c in bad] == ["flow", "flow_matching"] and bad[0].seed == 3 and len(problems) == 2
    mixed, _ = setup_from_query({"width": "16", "m2.width": "32"})       # a plain model setting: every model's
    assert [c.width for c in mixed] == [16, 32]
    for p in PRESETS.values():
        assert setup_from_query(setup_query(p.configs()))[0] == p.configs()
