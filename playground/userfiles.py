"""Users' files are untrusted: every one is read through here, with a size limit checked before it is read.

One message for every limit: "WHAT is too big: N bytes; the limit is L bytes", raised as a PlaygroundError (the CLI
prints it on one line and exits 2; a page shows it with st.error).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.errors import PlaygroundError


def check_size(size: int, limit: int, what: str, advice: str = "") -> None:
    """Refuse `size` bytes of `what` when it exceeds `limit`; `advice` says what to do instead."""
    if size > limit:
        raise PlaygroundError(f"{what} is too big: {size} bytes; the limit is {limit} bytes"
                              + (f"; {advice}" if advice else ""))


def read_bounded(source: Any, limit: int, what: str, advice: str = "") -> bytes:
    """The bytes of `source`, at most `limit` of them: a path (str or Path), bytes, or an upload / file object
    (anything with `getvalue()` or `read()`). A file is measured before it is read and read no further than
    the limit, so a huge or growing file never fills memory."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "getvalue"):            # in-memory uploads (Streamlit's UploadedFile, BytesIO)
        data = source.getvalue()
    elif hasattr(source, "read"):
        data = source.read(limit + 1)
    else:
        path = Path(source)
        if not path.is_file():
            raise PlaygroundError(f"{what}: {'is a folder, not a file' if path.is_dir() else 'no such file'}")
        check_size(path.stat().st_size, limit, what, advice)
        try:
            with open(path, "rb") as f:
                data = f.read(limit + 1)
        except OSError as e:
            raise PlaygroundError(f"{what}: cannot be read ({e.strerror or e})") from None
    if isinstance(data, str):
        data = data.encode()
    check_size(len(data), limit, what, advice)
    return data
