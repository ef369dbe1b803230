"""The compiled engine: the search's modules built by mypyc, and used only
while they match their sources.

The stacking search (``selection``, ``masks``), the promotion runs
(``spend_and_save``, ``money``), the prices they leave (``prices``) and
the pass over every promotion a cart reaches (``qualifying``, reading
``promotion_facts``) are most of an evaluation's time once a cart meets
more than a few promotions. mypyc (part of mypy, a dev dependency already) compiles these
typed modules as they are into C extensions that run them about twice as
fast; nothing is written twice.
They are optional: where no C compiler was at hand, a till runs the same
source as Python and gives the same answers (``make test`` runs the suite
both ways).

The extensions live in ``pos_promo/engine/_compiled/`` with the CRC-32
and size of each source they were built from. :func:`activate`, run first
thing when ``pos_promo`` is imported (before any engine module is), puts
that folder first on the engine package's path only when each of them
matches the source beside it and the interpreter is the one they were
built for, so an edited module is never shadowed by an extension of its
older self. ``POS_PROMO_PURE=1`` keeps the source whatever is built. It
lives outside the engine, which reads no file.

``make native`` builds them (:func:`main` with ``build``; ``clean``
removes them, ``status`` says which modules run compiled).
"""

from __future__ import annotations

import importlib
import os
import sys
import zlib
from collections.abc import MutableSequence

__all__ = ["COMPILED", "FOLDER", "activate", "build", "clean", "compiled_modules", "main"]

# the modules compiled (the rest of the engine runs as Python: msgspec structs
# with field defaults, hashable frozen records and lambdas in struct methods
# are not what mypyc compiles the same way)
COMPILED = (
    "masks",
    "money",
    "prices",
    "promotion_facts",
    "qualifying",
    "selection",
    "spend_and_save",
)
# (paths as strings, the manifest as lines of text: a till's start loads
# neither pathlib nor json, see tests/store/test_store_lean_start.py)
_HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "engine")
FOLDER = os.path.join(_HERE, "_compiled")
_MANIFEST = "sources.txt"  # the interpreter's cache tag, then "module crc32 size" per line
_PURE = "POS_PROMO_PURE"


def _manifest() -> str:
    """What the manifest of a build from the sources as they are now reads."""
    lines = [sys.implementation.cache_tag or ""]
    for name in COMPILED:
        with open(os.path.join(_HERE, f"{name}.py"), "rb") as source:
            text = source.read()
        # a CRC and the size tell an edited source (a cryptographic digest
        # would cost every till's start ~3 ms to load OpenSSL for nothing)
        lines.append(f"{name} {zlib.crc32(text):08x} {len(text)}")
    return "\n".join(lines) + "\n"


def activate(path: MutableSequence[str], folder: str = FOLDER) -> bool:
    """Put the compiled modules in ``folder`` first on ``path`` (the engine
    package's) when they were built for this interpreter from the sources
    beside them (and ``POS_PROMO_PURE`` is not set); whether it did."""
    if os.environ.get(_PURE, "") not in ("", "0"):
        return False
    try:
        with open(os.path.join(folder, _MANIFEST), encoding="utf-8") as kept:
            built = kept.read()
    except OSError:
        return False  # not built (the usual case where no C compiler was at hand)
    if built != _manifest():
        return False  # another interpreter's, or a source changed since: run it as it is now
    path.insert(0, folder)
    return True


def compiled_modules() -> list[str]:
    """The engine modules this process runs compiled (imported to tell)."""
    found = []
    for name in COMPILED:
        module = importlib.import_module(f"pos_promo.engine.{name}")
        if not (module.__file__ or "").endswith(".py"):
            found.append(name)
    return found


def build() -> None:
    """Compile :data:`COMPILED` with mypyc into ``_compiled/`` and record
    what the sources built were (needs mypy, setuptools and a C compiler)."""
    # only to build (mypy is a dev dependency), and not for mypy to follow:
    # mypyc type-checks the modules it compiles, and they import this one
    mypycify = importlib.import_module("mypyc.build").mypycify
    distribution = importlib.import_module("setuptools").Distribution
    import shutil
    import tempfile

    root = os.path.dirname(os.path.dirname(_HERE))
    manifest = _manifest()
    paths = [f"pos_promo/engine/{name}.py" for name in COMPILED]
    with tempfile.TemporaryDirectory() as scratch:
        cwd = os.getcwd()
        os.chdir(root)  # mypyc names the modules by their paths from the project's root
        try:
            extensions = mypycify(
                paths,
                only_compile_paths=paths,
                opt_level="3",
                target_dir=os.path.join(scratch, "c"),
                group_name="pos_promo.engine._native",
            )
            built = os.path.join(scratch, "lib")
            dist = distribution(
                {
                    "name": "pos_promo_native",
                    "ext_modules": extensions,
                    "script_name": "native",
                    "script_args": [
                        "build_ext",
                        "--build-lib",
                        built,
                        "--build-temp",
                        os.path.join(scratch, "tmp"),
                    ],
                }
            )
            dist.parse_command_line()
            dist.run_commands()
        finally:
            os.chdir(cwd)
        clean()
        os.mkdir(FOLDER)
        made = os.path.join(built, "pos_promo", "engine")
        for name in os.listdir(made):
            shutil.copy2(os.path.join(made, name), os.path.join(FOLDER, name))
    with open(os.path.join(FOLDER, _MANIFEST), "w", encoding="utf-8") as kept:
        kept.write(manifest)


def _compiler() -> str | None:
    """The C compiler this interpreter builds extensions with, if it is at hand."""
    import shlex
    import shutil
    import sysconfig

    command = shlex.split(str(sysconfig.get_config_var("CC") or "cc"))
    return shutil.which(command[0]) if command else None


def clean() -> None:
    """Remove the compiled modules (the source runs again)."""
    import shutil

    shutil.rmtree(FOLDER, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """``build``, ``clean`` or ``status`` (the default)."""
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "status"
    if command == "build":
        if _compiler() is None:
            needed = os.environ.get("CI") == "true"  # under CI nothing is left out for want of it
            print("native: no C compiler, the engine runs as Python" + (" (CI needs one)" * needed))
            return 1 if needed else 0
        build()
        print(f"native: built {', '.join(COMPILED)} (a new process runs them compiled)")
        return 0
    if command == "clean":
        clean()
        return 0
    if command != "status":
        print(f"usage: native [build|clean|status], got {command!r}")
        return 2
    running = compiled_modules()
    pure = [name for name in COMPILED if name not in running]
    print(f"compiled: {', '.join(running) or 'none'}; as Python: {', '.join(pure) or 'none'}")
    return 0


def _activate_once() -> None:
    """What importing this module does (``pos_promo`` imports it first)."""
    import pos_promo.engine

    activate(pos_promo.engine.__path__)


_activate_once()
