"""User CSV uploads: good files parse, every bad file is a PlaygroundError that names the problem."""

import numpy as np
import pytest

from playground.errors import PlaygroundError
from playground.toy.userdata import load_points_csv, points_to_csv


@pytest.mark.parametrize("text", [
    "x,y\n1,2\n3.5,-4e-1\n",
    "1,2\n3.5,-0.4",
    "1;2\r\n3.5;-0.4\r\n",
    "1 2\n3.5\t-0.4\n",
    "# my points\n\nX , Y\n 1 , 2 \n\n3.5,-0.4,\n",
    "\ufeffx,y\n1,2\n3.5,-0.4\n",
])
def test_good_2d_files(text):
    pts = load_points_csv(text)
    np.testing.assert_array_equal(pts, [[1, 2], [3.5, -0.4]])
    assert pts.dtype == np.float64
    np.testing.assert_array_equal(load_points_csv(text.encode("utf-8")), pts)


def test_good_1d_file_and_bom_bytes():
    pts = load_points_csv(b"\xef\xbb\xbfx\n1\n2\n3\n", dim=1)
    assert pts.shape == (3, 1)
    np.testing.assert_array_equal(pts[:, 0], [1, 2, 3])


def test_round_trip():
    pts = np.random.default_rng(0).normal(size=(50, 2)) * 1e3
    text = points_to_csv(pts)
    assert text.startswith("x,y\n")
    np.testing.assert_array_equal(load_points_csv(text), pts)
    one = points_to_csv(np.array([0.1, 0.2]))
    assert one.startswith("x\n")
    np.testing.assert_array_equal(load_points_csv(one)[:, 0], [0.1, 0.2])


def expect(data, *words, **kw):
    with pytest.raises(PlaygroundError) as info:
        load_points_csv(data, **kw)
    msg = str(info.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, (w, msg)
    return msg


def test_too_big():
    expect(b"1,2\n" * 10, "too big", "40 bytes", "limit is 20 bytes", max_bytes=20)
    expect("1,2\n" * 10, "too big", max_bytes=20)


def test_too_many_rows():
    expect("1,2\n" * 11, "too many rows", "10", max_rows=10)
    assert load_points_csv("x,y\n" + "1,2\n" * 10, max_rows=10).shape == (10, 2)


def test_empty():
    expect(b"", "empty")
    expect("\n\n  \n# only a comment\n", "empty")


def test_no_numeric_rows():
    expect("x,y\n", "no numeric rows")


def test_wrong_number_of_columns():
    expect("1,2,3\n4,5,6\n", "row 1", "3 columns", "expected 1 (x) or 2 (x,y)")
    expect("x,y\n1,2\n3\n", "row 3", "1 columns", "header has 2")
    expect("1,2\n3,4\n5,6,7\n", "row 3", "3 columns", "row 1 has 2")
    expect("a,b,c\n1,2,3\n", "header", "3 columns")


def test_text_in_a_numeric_cell():
    msg = expect("x,y\n1,2\n3,abc\n", "row 3", "column 2", "'abc'", "not a number")
    assert "fix or delete" in msg
    expect("1;2,5\n3;4\n", "row 1", "'2,5'", "use '.' for decimals")
    expect("1,2\n__import__('os'),3\n", "row 2", "not a number")
    expect("1,2\n1_000,3\n", "row 2", "'1_000'")
    expect("1,2\n,4\n", "row 2", "empty cell", "column 1")


@pytest.mark.parametrize("bad", ["nan", "inf", "-Infinity", "1e400"])
def test_nan_and_inf(bad):
    expect(f"x,y\n1,2\n{bad},3\n", "row 3", "NaN or infinite")


def test_too_few_points():
    expect("x,y\n1,2\n", "only 1 point", "at least 2")


def test_dim_mismatch():
    expect("1,2\n3,4\n", "2-column", "1D", "1 column (x)", dim=1)
    expect("1\n2\n", "1-column", "2D", "2 columns (x,y)", dim=2)


def test_not_text():
    expect(b"\xff\xfe\x00\x01binary", "not UTF-8")
    expect("1,2\x00\n3,4\n", "NUL")
    expect(12345, "bytes or text")


def test_header_names_decide_the_columns():
    np.testing.assert_array_equal(load_points_csv("y,x\n1,2\n3,4\n"), [[2, 1], [4, 3]])    # swapped back
    np.testing.assert_array_equal(load_points_csv("X, Y\n1,2\n3,4\n"), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(load_points_csv("a,b\n1,2\n3,4\n"), [[1, 2], [3, 4]])    # other names: in order
    for bad in ("x,x\n1,2\n3,4\n", "x,z\n1,2\n3,4\n"):
        with pytest.raises(PlaygroundError, match="name them x,y"):
            load_points_csv(bad)
