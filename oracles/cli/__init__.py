"""The ``manualbp`` command line: a thin layer over the Python API.

Each subcommand lives in its own module with ``register(subparsers)``; heavy
imports (numpy aside) happen inside the command's ``run``, so ``--help`` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("example", "check", "audit", "sweep", "report")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="manualbp",
        description="Prove backpropagation right, or show exactly where it is wrong.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"oracles.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"oracles.cli.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``manualbp`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"manualbp {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - anything else is manualbp's own failure, not the input's
        print(f"manualbp {args.command}: internal error (a bug in manualbp, not in your code or input; please "
              f"report it): {type(exc).__name__}: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
