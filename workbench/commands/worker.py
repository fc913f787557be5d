"""``workbench worker``: serve the task queue until stopped; start as many as you like.

Each worker reads tasks of every active job (``--job``: only those) through the job's
consumer group, runs each through the same stages as every mode, and acknowledges it after
its transaction committed. It reaches Postgres, Redis and the queue through the same
``WORKBENCH_*`` settings as every command, so it runs on any machine that reaches them.
SIGTERM or Ctrl-C: it finishes the task it runs, gives back the ones it had not started,
and exits 0. ``--until-empty`` exits once no job is left to serve.
"""

from __future__ import annotations

import argparse
import sys

from workbench.config import Settings
from workbench.ingestion.factory import connections_for
from workbench.logging_setup import configure_logging
from workbench.queue.serve import serve
from workbench.queue.worker import default_name


def _worker(args: argparse.Namespace) -> int:
    """Run one worker until it is stopped."""
    settings = Settings.from_env(log_format=args.log_format)
    configure_logging(settings.log_format, settings.log_level, stream=sys.stderr)
    name = args.name or default_name()
    print(f"workbench worker {name}: serving {', '.join(args.job or ['every active job'])}",
          file=sys.stderr, flush=True)  # fmt: skip
    handled = serve(
        connections_for(settings), name=name, jobs=args.job, until_empty=args.until_empty
    )
    print(f"workbench worker {name}: stopped after {handled} task(s)", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``worker`` to the CLI."""
    parser = subparsers.add_parser("worker", help="serve the task queue until stopped")
    parser.add_argument("--name", help="consumer name, unique among workers (host-pid)")
    parser.add_argument(
        "--job", action="append", help="serve only this job (repeatable; default: every one)"
    )
    parser.add_argument(
        "--until-empty", action="store_true", help="exit once no job is left to serve"
    )
    parser.add_argument("--log-format", choices=("json", "text"), help="log lines on stderr")
    parser.set_defaults(handler=_worker)
