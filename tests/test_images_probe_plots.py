"""Figure builders of the score probe page: what they draw, from known inputs."""

import numpy as np

from playground.images.probe_plots import distance_histogram_figure, pick_grid_figure, score_curve_figure


def test_score_curve_figure_lines_and_labels():
    c = {"kind": "blur", "strengths": [0, 0.5, 1], "fid": [1, 2, 3], "is": [5, 4, 3], "is_std": [0.1] * 3,
         "fid_features": "classifier:digits-8px-1ch (test acc 0.97)"}
    fig = score_curve_figure([c, dict(c, kind="swirl", fid=[1, 5, 9])])
    assert len(fig.data) == 4
    assert list(fig.data[2].y) == [1, 5, 9] and fig.data[2].name == "swirl"
    assert list(fig.data[1].y) == [5, 4, 3] and not fig.data[1].showlegend
    assert "classifier:digits" in fig.layout.yaxis.title.text
    assert fig.data[0].line.color == fig.data[1].line.color != fig.data[2].line.color


def test_histogram_shares_bins():
    fig = distance_histogram_figure([0.0, 0.1], [1.0, 2.0], "pixels", bins=10)
    assert fig.data[0].xbins.size == fig.data[1].xbins.size == 0.2
    assert list(fig.data[1].x) == [1.0, 2.0] and "pixels" in fig.layout.title.text


def test_pick_grid_markers_sit_on_tiles_and_show_groups():
    imgs = np.zeros((5, 1, 4, 4))
    imgs[3, 0, 1, 2] = 1.0                               # one white pixel in tile 3 (row 1, column 0 of 3)
    fig = pick_grid_figure(imgs, nrow=3, picked={"A": [3], "B": [3, 0]})
    pic = np.asarray(fig.data[0].z)
    assert pic.shape == (1 + 2 * 5, 1 + 3 * 5, 3)
    x, y = fig.data[1].x[3], fig.data[1].y[3]
    assert (x, y) == (1 + 1.5, 1 + 5 + 1.5)
    assert pic[1 + 5 + 1, 1 + 2, 0] == 255              # the white pixel is inside tile 3's cell
    assert list(fig.data[1].text) == ["B", "", "", "AB", ""]
