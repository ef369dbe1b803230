"""What every ``pos-promo`` command does at the shell's edge: read a file
named by an option, parse an instant, print JSON or text, turn a failure
into one line and an exit code. One copy, so every command words its errors
and indents its JSON the same way.

Exit codes (docs/errors.md lists them for operators):

- 0: done;
- 1: ``status --check`` found something that needs attention;
- 2: the input was refused (a file that cannot be read, bad JSON, a document
  breaking a rule, an unknown order or campaign, a refund past what was sold,
  a wrong option): fix the command or the file;
- 4: the database cannot be used (locked, corrupt, another store's);
- 70: a bug in pos-promo (one line; ``POS_PROMO_DEBUG=1`` shows the traceback);
- 130: interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import msgspec

from pos_promo.errors import (
    InvalidInput,
    PromoError,
    StoreError,
    StoreMismatch,
    UnreadableInput,
)
from pos_promo.limits import MAX_DOCUMENT_BYTES

__all__ = [
    "EXIT_ATTENTION",
    "EXIT_BUG",
    "EXIT_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_STORE",
    "add_format",
    "dispatch",
    "emit",
    "emit_json",
    "exit_code",
    "parse_instant",
    "read_input",
]

EXIT_OK: Final = 0
EXIT_ATTENTION: Final = 1
EXIT_INPUT: Final = 2
EXIT_STORE: Final = 4
EXIT_BUG: Final = 70
EXIT_INTERRUPTED: Final = 130


def read_input(path: str, option: str) -> bytes:
    """The bytes of ``path`` (``-`` is standard input); a file that cannot be
    read, or is longer than :data:`~pos_promo.limits.MAX_DOCUMENT_BYTES`, names ``option``."""
    if path == "-":
        data = sys.stdin.buffer.read(MAX_DOCUMENT_BYTES + 1)
    else:
        try:
            with Path(path).open("rb") as handle:
                data = handle.read(MAX_DOCUMENT_BYTES + 1)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise UnreadableInput(option, f"cannot read {path!r} ({reason})") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise UnreadableInput(option, f"{path!r} is longer than {MAX_DOCUMENT_BYTES} bytes")
    return data


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


def exit_code(exc: PromoError) -> int:
    """The documented exit code of a failure (see the module docstring)."""
    if isinstance(exc, StoreError | StoreMismatch):
        return EXIT_STORE
    return EXIT_INPUT


def _one_line(text: str) -> str:
    return " ".join(text.split())


def dispatch(args: argparse.Namespace) -> int:
    """Run the command argparse chose; any failure is one ``error:`` line on
    standard error and a documented exit code, never a traceback."""
    try:
        code: int = args.run(args)
    except PromoError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return exit_code(exc)
    except json.JSONDecodeError as exc:
        print(
            f"error: $: is not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            file=sys.stderr,
        )
        return EXIT_INPUT
    except BrokenPipeError:
        # the reader went away (`pos-promo demo | head`): stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: still one line for the operator
        if os.environ.get("POS_PROMO_DEBUG"):
            raise
        print(
            f"error: internal error ({type(exc).__name__}: {_one_line(str(exc))}); "
            "rerun with POS_PROMO_DEBUG=1 for the traceback and report it",
            file=sys.stderr,
        )
        return EXIT_BUG
    return code
