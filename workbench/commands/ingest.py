"""``workbench ingest``: fetch, process, dedup and save resources in one of the modes.

The last line on stdout is the run report as one JSON object, however the run ends. Exit
status: 0 when every page was saved; 1 when some pages failed after their retries (named on
stderr and kept in ``ingest_rejects``) or Postgres could not be reached; 2 on a bad flag or
setting; 130 or 143 after SIGINT or SIGTERM, which stop the run gracefully (pages in flight
are written; a second signal ends it at once). A run stopped early resumes when run again:
committed pages' responses are in the response cache and their records in the dedup set, so
they are neither fetched nor written again; the rest are.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from workbench.commands.signals import Caught, graceful_stop
from workbench.config import Settings
from workbench.errors import ConfigError
from workbench.ingestion import Ingestor, RunReport, UnitResult
from workbench.ingestion.factory import build_ingestor
from workbench.ingestion.modes import ALIASES, MODES
from workbench.logging_setup import configure_logging
from workbench.processing.registry import PROCESSORS


def _progress_bar(enabled: bool) -> Any:
    """Return a tqdm bar on stderr when it is a terminal, else None."""
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(unit="page", desc="ingest", file=sys.stderr)


def ingestor_from_args(args: argparse.Namespace, **overrides: Any) -> Ingestor:
    """Build the ingestor the source flags (``add_source_flags``) and ``overrides`` describe."""
    values = {
        "base_url": args.base_url,
        "resources": args.resource,
        "page_size": args.page_size,
        "max_pages": args.max_pages,
        "batch_rows": args.batch_rows,
        "linger_s": args.linger_s,
        "write_connections": args.write_connections,
        "use_cache": False if args.no_cache else None,
        "processor": args.processor,
        "log_format": args.log_format,
        **overrides,
    }
    settings = Settings.from_env(**values)
    if args.cpu_cost < 0:
        raise ConfigError(f"--cpu-cost: expected an integer >= 0, got {args.cpu_cost}")
    configure_logging(settings.log_format, settings.log_level, stream=sys.stderr)
    return build_ingestor(settings, source_name=args.source_name, cpu_cost=args.cpu_cost)


def _ingest(args: argparse.Namespace) -> int:
    """Run one ingestion and print its report."""
    ingestor = ingestor_from_args(
        args, mode=args.mode, concurrency=args.concurrency, workers=args.workers
    )
    bar = _progress_bar(not args.no_progress)

    def progress(result: UnitResult) -> None:
        if bar is not None:
            bar.update(1)

    try:
        with graceful_stop(ingestor.stopping) as caught:
            report = ingestor.run(progress=progress)
    finally:
        if bar is not None:
            bar.close()
        ingestor.close()
    return finish(report, caught)


def finish(report: RunReport, caught: Caught | None = None) -> int:
    """Print one line on stderr if the run is not ok, the report last on stdout; pick a status."""
    if report.interrupted:
        print(
            f"workbench: interrupted by {report.stopped} after {report.pages} page(s); "
            "committed pages will not be fetched or written again: run again to resume",
            file=sys.stderr,
        )
    elif report.stopped:
        print(f"workbench: error: {' '.join(report.stopped.split())}", file=sys.stderr)
    elif not report.ok:
        print(f"workbench: {report.failure_summary()}", file=sys.stderr)
    print(json.dumps(report.summary(), sort_keys=True), flush=True)
    if caught is not None and caught.exit_status is not None:
        return caught.exit_status
    return 0 if report.ok else 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ingest`` and its flags (an unset flag falls back to WORKBENCH_* or the default)."""
    parser = subparsers.add_parser("ingest", help="ingest resources from an API into Postgres")
    aliases = ", ".join(f"{alias} = {mode}" for alias, mode in ALIASES.items())
    parser.add_argument(
        "--mode",
        choices=[*MODES, *ALIASES],
        metavar="MODE",
        help=f"how pages are scheduled: {', '.join(MODES)} (sync; also {aliases})",
    )
    parser.add_argument("--concurrency", type=int, help="threads or tasks in flight (16)")
    parser.add_argument(
        "--workers", type=int, help="processes of the process modes, workers in queue mode (CPUs)"
    )
    add_source_flags(parser)
    parser.set_defaults(handler=_ingest)


def add_source_flags(parser: argparse.ArgumentParser) -> None:
    """Add the flags saying what to read and how to write it (``ingest`` and ``enqueue``)."""
    parser.add_argument("--base-url", help="the API's base URL (the real JSONPlaceholder)")
    parser.add_argument("--resource", help="comma-separated resources, ingested in parallel")
    parser.add_argument("--page-size", type=int, help="records per page (100)")
    parser.add_argument("--max-pages", type=int, help="stop after this many pages per resource")
    parser.add_argument(
        "--batch-rows",
        type=int,
        help="records per write transaction, whole pages (5000; 1: a transaction per page)",
    )
    parser.add_argument(
        "--linger-s",
        type=float,
        help="seconds a batch waits to fill before it is written anyway (0.1; 0: at once)",
    )
    parser.add_argument(
        "--write-connections",
        type=int,
        help="Postgres connections writing batches at once (the mode's default: 1, or 2)",
    )
    parser.add_argument(
        "--processor",
        choices=list(PROCESSORS),
        help="how pages are processed: records (one at a time) or pandas (a column at a time)",
    )
    parser.add_argument("--no-cache", action="store_true", help="bypass the Redis cache and dedup")
    parser.add_argument("--log-format", choices=("json", "text"), help="log lines on stderr")
    parser.add_argument("--source-name", help="name stored with the records (from the URL)")
    parser.add_argument("--cpu-cost", type=int, default=0, help="extra CPU work per record (0)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
