"""The ``catmodel`` command: thin wrappers that parse options, call the library, write files.

Errors caused by input or settings print one line (``catmodel: error: ...``) and exit with
status 2; they never show a traceback. Ctrl-C prints one line and exits with status 130
(:mod:`catmodel.interrupt`, installed before anything imports torch or numba).
"""

from __future__ import annotations

import argparse
import sys

from catmodel import interrupt
from catmodel.errors import CatmodelError

COMMANDS = (
    "demo",
    "fit",
    "compare",
    "recover",
    "model_recovery",
    "simulate",
    "figures",
    "models",
    "datasets",
    "strategies",
    "warmup",
)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand (imported lazily so ``--help`` stays fast)."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="catmodel",
        description="Fit, compare and simulate trial-by-trial models of category learning.",
    )
    from catmodel import __version__

    parser.add_argument("--version", action="version", version=f"catmodel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"catmodel.cli.cmd_{name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``catmodel`` console script."""
    # first of all: an interrupt while torch or numba load (or compile) must not print a
    # traceback either; restored on return so that callers in Python keep their own handler
    restore = interrupt.install()
    try:
        return _main(argv)
    finally:
        restore()


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 0
    try:
        args.run(args)
    except CatmodelError as error:
        print(f"catmodel: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # raised by code that does not go through the handler
        print(interrupt.message(), file=sys.stderr)
        return interrupt.EXIT_INTERRUPTED
    except BrokenPipeError:
        # output piped into `head` and closed early: not an error worth a traceback
        sys.stderr.close()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
