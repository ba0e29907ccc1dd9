"""Packed arrays in live frames: exact round trip, gaps kept, short arrays left as JSON lists."""

import json

import numpy as np

from playground.plotly_arrays import MIN_LENGTH, pack, pack_figure, unpack


def test_round_trip_1d_2d_and_gaps():
    a = np.linspace(-3, 3, 500).astype(np.float32)
    a[7] = np.nan
    back = unpack(json.loads(json.dumps(pack(a))))
    np.testing.assert_array_equal(back, a.astype(np.float64))           # NaN in the same place
    z = np.arange(48 * 40, dtype=np.float32).reshape(48, 40) / 7
    packed = pack(z)
    assert packed["shape"] == "48, 40"
    np.testing.assert_array_equal(unpack(packed), z)
    assert np.isnan(unpack(pack([1.0, None] * 40))[1::2]).all()       # None (JSON gap) -> NaN


def test_short_and_non_numeric_values_stay_plain():
    assert pack([1, 2, 3]) == [1, 2, 3]
    assert pack(np.array([1.0, np.nan])) == [1.0, None]
    assert pack(["a"] * (MIN_LENGTH + 1)) == ["a"] * (MIN_LENGTH + 1)
    fig = pack_figure({"data": [{"x": np.zeros(100), "name": "n", "marker": {"size": 3}}], "layout": {"a": 1}})
    assert fig["layout"] == {"a": 1} and fig["data"][0]["name"] == "n" and fig["data"][0]["x"]["dtype"] == "f4"
    json.dumps(fig)
