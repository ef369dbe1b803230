"""What every ``pos-promo`` command does at the shell's edge: read a file
named by an option, parse an instant, print JSON or text. One copy, so every
command words its errors and indents its JSON the same way."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from pos_promo.errors import InvalidInput, PromoError

__all__ = ["add_format", "dispatch", "emit", "emit_json", "parse_instant", "read_input"]


def read_input(path: str, option: str) -> bytes:
    """The bytes of ``path`` (``-`` is standard input); a missing file names ``option``."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(option, f"cannot read {path!r} ({exc.strerror})") from None


def parse_instant(text: str | None, option: str = "--at") -> dt.datetime | None:
    """An ISO-8601 instant with its offset (``Z`` allowed), or ``None``."""
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(option, "must be an ISO-8601 instant", text) from None
    if value.tzinfo is None:
        raise InvalidInput(option, "must carry a UTC offset such as Z or +01:00", text)
    return value


def emit_json(obj: Any) -> None:
    """Print ``obj`` as indented JSON for scripts and people alike."""
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(obj), indent=2).decode() + "\n")


def add_format(parser: argparse.ArgumentParser, default: str = "json") -> None:
    """``--format text|json``, which every command takes (JSON for scripts by default)."""
    parser.add_argument(
        "--format",
        choices=("json", "text"),
        default=default,
        help=f"json (indented) for scripts, text for a person (default: {default})",
    )


def emit(obj: Any, fmt: str, text: Callable[[], str] | None = None) -> None:
    """Print ``obj`` in the chosen format: ``text()`` when given, else a generic view."""
    if fmt == "json":
        emit_json(obj)
        return
    from pos_promo.cli.text import as_text

    sys.stdout.write(text() if text is not None else as_text(obj))


def dispatch(args: argparse.Namespace) -> int:
    """Run the command argparse chose; a refused input is one ``error:`` line
    on standard error and exit status 2, never a traceback."""
    try:
        code: int = args.run(args)
    except PromoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as exc:
        print(f"error: $: is not valid JSON ({exc})", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (`pos-promo demo | head`): stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code
