"""The ``catmodel`` command: thin wrappers that parse options, call the library, write files.

Errors caused by input or settings print one line (``catmodel: error: ...``) and exit with
status 2; they never show a traceback.
"""

from __future__ import annotations

import argparse
import sys

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
    except KeyboardInterrupt:
        print("catmodel: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # output piped into `head` and closed early: not an error worth a traceback
        sys.stderr.close()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
