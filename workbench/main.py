"""The ``workbench`` command line: one parser, one sub-command module per verb.

Usage errors and configuration errors end with one line on stderr and exit status 2, never
a traceback; any other workbench error (Postgres unreachable, a server that will not start)
ends with one line and exit status 1, as does a run that completed with failed pages.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from workbench.errors import ConfigError, WorkbenchError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

# Each module here exposes ``register(subparsers)``, which adds its verb and sets ``handler``.
COMMAND_MODULES = (
    "workbench.commands.services",
    "workbench.commands.source",
    "workbench.commands.lab",
    "workbench.commands.ingest",
    "workbench.commands.enqueue",
    "workbench.commands.worker",
    "workbench.commands.queue",
    "workbench.commands.bench",
    "workbench.commands.exercises",
    "workbench.commands.reliability",
)


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``prog: error: message`` on one line and exit 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the full parser with every registered sub-command."""
    import importlib

    parser = OneLineParser(prog="workbench", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=OneLineParser
    )
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def one_line(exc: BaseException) -> str:
    """Return an error's message on one line (libpq's messages span several)."""
    return " ".join(str(exc).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or EXIT_OK)
    except ConfigError as exc:
        print(f"workbench: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except WorkbenchError as exc:  # a service, the queue, a source: one line, no traceback
        print(f"workbench: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
