"""`python -m playground <area> <command> ...`: every area registers its subcommands here.

Every command can print one JSON object (`--json`), always standard JSON: a number JSON cannot hold (NaN, ±inf)
is written as null (the policy of `playground.numerics`). User mistakes print one line `error: ...` and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any

from playground.errors import PlaygroundError
from playground.numerics import dumps

# Modules exposing `register(subparsers)`; each adds its own top-level commands.
AREAS = [
    "playground.toy.cli",
    "playground.divergences.cli",
    "playground.images.cli",
    "playground.vae.cli",
    "playground.families.cli",
    "playground.games.cli",
]


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (no usage dump, no traceback) and exits 2.
    Prefixes of long flags are not accepted: `--lr` must not silently mean `--lr-half-life`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {self.prog}: {message}", file=sys.stderr)
        sys.exit(2)


def output_flags(p: argparse.ArgumentParser, *, threads: bool = True, quiet: str | None = None) -> None:
    """The flags every command shares: --threads (torch CPU threads, default 1: the tiny nets here are fastest
    on one), --quiet (when the command prints progress; `quiet` is its help) and --json."""
    if threads:
        p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    if quiet:
        p.add_argument("--quiet", action="store_true", help=quiet)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def emit(result: dict[str, Any], as_json: bool) -> None:
    """Print a command's result: one JSON object, or `key: value` lines for people."""
    if as_json:
        print(dumps(result))
        return
    for k, v in result.items():
        if k == "config":
            continue
        print(f"{k}: {v}")


def number_in(lo: float, hi: float, kind: type = int):
    """An argparse type: a finite `kind` within [lo, hi], else one line saying so (exit 2). Seeds and sizes from
    the command line reach torch and numpy, where 1e23 overflows and 100000 as an upscale exhausts memory."""
    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {'an integer' if kind is int else 'a number'}: {text!r}") from None
        if not (lo <= v <= hi):                     # NaN fails this too
            raise argparse.ArgumentTypeError(f"{text} is outside {lo:g}..{hi:g}")
        return v
    return parse


SEED = number_in(0, 2**31 - 1)          # what torch.Generator.manual_seed and numpy both take


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m playground", description=__doc__)
    sub = parser.add_subparsers(dest="area", required=True, metavar="<command>")
    for name in AREAS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except PlaygroundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:            # a path the user gave cannot be read or written
        print(f"error: {e.strerror or e}: {e.filename}" if e.filename else f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return int(code or 0)
