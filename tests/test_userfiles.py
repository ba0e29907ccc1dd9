"""playground.userfiles: one size limit for every user file, checked before reading, one message."""

import io

import pytest

from playground.errors import PlaygroundError
from playground.userfiles import check_size, read_bounded


class Upload(io.BytesIO):
    """Stands in for Streamlit's UploadedFile (a BytesIO with a name)."""
    name = "up.json"


class Stream:
    """A file object with only read() (a socket, a pipe): read up to the limit, never the whole thing."""

    def __init__(self, data: bytes):
        self._f = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self._f.read(n)


def test_every_source_kind_reads_under_the_limit(tmp_path):
    p = tmp_path / "a.csv"
    p.write_bytes(b"1,2\n" * 5)
    for source in (p, str(p), b"1,2\n" * 5, bytearray(b"1,2\n" * 5), Upload(b"1,2\n" * 5),
                   Stream(b"1,2\n" * 5)):
        assert read_bounded(source, 20, "the file") == b"1,2\n" * 5
    assert read_bounded(b"", 0, "empty") == b""


@pytest.mark.parametrize("kind", ["path", "bytes", "upload", "stream"])
def test_over_the_limit_is_refused_with_sizes(tmp_path, kind):
    p = tmp_path / "big.csv"
    p.write_bytes(b"x" * 21)
    source = {"path": p, "bytes": b"x" * 21, "upload": Upload(b"x" * 21), "stream": Stream(b"x" * 1000)}[kind]
    with pytest.raises(PlaygroundError) as e:
        read_bounded(source, 20, "the file", advice="use fewer rows")
    # a stream is read no further than the limit + 1, so it reports that many bytes
    assert str(e.value) == "the file is too big: 21 bytes; the limit is 20 bytes; use fewer rows"


def test_missing_file_folder_and_check_size(tmp_path):
    with pytest.raises(PlaygroundError, match="no such file"):
        read_bounded(tmp_path / "nope.csv", 10, "--data nope.csv")
    with pytest.raises(PlaygroundError, match="is a folder"):
        read_bounded(tmp_path, 10, "--data .")
    check_size(10, 10, "exactly at the limit")          # allowed
    with pytest.raises(PlaygroundError, match="^x is too big: 11 bytes; the limit is 10 bytes$"):
        check_size(11, 10, "x")


def test_cli_config_files_over_the_limit_exit_2_with_the_one_message(tmp_path, capsys, monkeypatch):
    import playground.toy.cli as toy_cli
    import playground.vae.cli as vae_cli
    from playground.cli import main

    big = tmp_path / "config.json"
    big.write_text("{}" + " " * 200)
    monkeypatch.setattr(vae_cli, "MAX_CONFIG", 100)
    monkeypatch.setattr(toy_cli, "MAX_FILE", 100)
    for argv in (["vae", "train", "--config", str(big)], ["toy", "train", "--config", str(big)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is too big: 202 bytes; the limit is 100 bytes" in err, argv
