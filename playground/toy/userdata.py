"""Read the user's own 1D/2D points from an untrusted CSV upload, and write points back as CSV.

Accepted: UTF-8 text (a BOM is fine), one point per row, cells separated by commas, semicolons or whitespace,
an optional header row of names, blank lines and `#` comment lines. A header `y,x` is honoured (columns
swapped); other names (e.g. `a,b`) are read in order as x then y. Everything else is refused
with a PlaygroundError whose one-line message says what is wrong and how to fix it. Nothing is evaluated:
cells are parsed with float() only.
"""

from __future__ import annotations

import math
import re

import numpy as np

from playground.errors import PlaygroundError
from playground.userfiles import check_size

MAX_BYTES = 5_000_000
MAX_ROWS = 100_000
MAX_ABS_VALUE = 1e6        # a coordinate beyond this makes the lab's nets overflow to NaN
MIN_POINTS = 2
_WHITESPACE = re.compile(r"\s+")


def _cells(line: str) -> list[str]:
    if ";" in line:
        parts = line.split(";")
    elif "," in line:
        parts = line.split(",")
    else:
        return _WHITESPACE.split(line.strip())
    parts = [p.strip() for p in parts]
    while len(parts) > 1 and parts[-1] == "":                   # a trailing separator is harmless
        parts.pop()
    return parts


def _number(cell: str) -> float | None:
    """float(cell) for a plain decimal number (no underscores), else None."""
    if "_" in cell:
        return None
    try:
        return float(cell)
    except ValueError:
        return None


def _show(cell: str) -> str:
    return repr(cell if len(cell) <= 30 else cell[:27] + "...")


def load_points_csv(data: bytes | str, dim: int | None = None, max_bytes: int = MAX_BYTES,
                    max_rows: int = MAX_ROWS) -> np.ndarray:
    """Parse points from CSV text: an (n, 1) or (n, 2) float64 array; `dim` (1 or 2) demands that many
    columns.

    Row numbers in messages are line numbers of the file (1 = first line).
    """
    if isinstance(data, str):
        size = len(data.encode("utf-8", errors="surrogatepass"))
    elif isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
        size = len(data)
    else:
        raise PlaygroundError(f"expected the file's bytes or text, got {type(data).__name__}")
    check_size(size, max_bytes, "the file", advice=f"upload fewer points (at most {max_rows:,} rows)")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise PlaygroundError(f"the file is not UTF-8 text (bad byte at position {e.start}): "
                                  "save it as a UTF-8 CSV of x,y numbers") from None
    else:
        text = data[1:] if data.startswith("\ufeff") else data
    if "\x00" in text:
        raise PlaygroundError("the file contains NUL bytes, so it is not a text CSV: "
                              "save it as a CSV of x,y numbers")

    rows: list[tuple[int, list[str]]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        rows.append((lineno, _cells(s)))
        if len(rows) > max_rows + 1:                             # +1: the first row may be a header
            raise PlaygroundError(f"too many rows: more than {max_rows:,}; the limit is {max_rows:,} points, "
                                  "upload a subsample")
    if not rows:
        raise PlaygroundError("the file is empty: it needs one point per row, e.g. 0.5,1.2")

    header: list[str] | None = None
    first_line, first = rows[0]
    if all(_number(c) is None for c in first):                  # a row of names is a header
        header = first
        rows = rows[1:]
        if len(header) not in (1, 2):
            raise PlaygroundError(f"the header (row {first_line}) has {len(header)} columns: "
                                  "expected 1 (x) or 2 (x,y)")
        if not rows:
            raise PlaygroundError("no numeric rows after the header: add one point per row, e.g. 0.5,1.2")
    if len(rows) > max_rows:
        raise PlaygroundError(f"too many rows: {len(rows):,}; the limit is {max_rows:,} points, "
                              "upload a subsample")

    ncols = len(header) if header is not None else len(rows[0][1])
    if ncols not in (1, 2):
        raise PlaygroundError(f"row {rows[0][0]} has {ncols} columns: "
                              "expected 1 (x) or 2 (x,y) numbers per row")
    if dim is not None and ncols != dim:
        want = "2 columns (x,y)" if dim == 2 else "1 column (x)"
        raise PlaygroundError(f"the file has {ncols}-column points but this target is {dim}D: "
                              f"upload a CSV with {want}")

    out = np.empty((len(rows), ncols), dtype=np.float64)
    for i, (lineno, cells) in enumerate(rows):
        if len(cells) != ncols:
            where = "the header" if header is not None else f"row {rows[0][0]}"
            raise PlaygroundError(f"row {lineno} has {len(cells)} columns but {where} has {ncols}: "
                                  "every row needs the same number of values")
        for j, cell in enumerate(cells):
            if cell == "":
                raise PlaygroundError(f"row {lineno} has an empty cell (column {j + 1}): "
                                      "fill it in or delete the row")
            v = _number(cell)
            if v is None:
                hint = " (use '.' for decimals)" if re.fullmatch(r"[-+]?\d+,\d+", cell) else ""
                raise PlaygroundError(f"row {lineno}, column {j + 1}: {_show(cell)} is not a number{hint}; "
                                      "fix or delete that row")
            if not math.isfinite(v):
                raise PlaygroundError(f"row {lineno} has a NaN or infinite value ({_show(cell)}): "
                                      "fix or delete that row")
            if abs(v) > MAX_ABS_VALUE:
                raise PlaygroundError(f"row {lineno}, column {j + 1}: {_show(cell)} is beyond ±{MAX_ABS_VALUE:g}; "
                                      "rescale your points (the lab standardises nothing for you)")
            out[i, j] = v
    if len(out) < MIN_POINTS:
        raise PlaygroundError(f"only {len(out)} point: at least {MIN_POINTS} are needed")
    if header is not None:
        names = [h.strip().strip('"').strip("'").lower() for h in header]
        if names == ["y", "x"]:
            out = out[:, ::-1].copy()
        elif len(names) == 2 and len(set(names) & {"x", "y"}) and sorted(names) != ["x", "y"]:
            raise PlaygroundError(f"the header (row {first_line}) names the columns {', '.join(header)}: "
                                  "name them x,y (or leave the header out)")
    return out


def points_to_csv(points) -> str:
    """CSV text with a header (`x` or `x,y`) and one point per row, exact (round-trips through float())."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim == 1:
        pts = pts[:, None]
    if pts.ndim != 2 or pts.shape[1] not in (1, 2):
        raise PlaygroundError(f"points must have 1 or 2 columns, got shape {pts.shape}")
    lines = ["x" if pts.shape[1] == 1 else "x,y"]
    lines += [",".join(repr(float(v)) for v in row) for row in pts]
    return "\n".join(lines) + "\n"
