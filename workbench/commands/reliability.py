"""``workbench reliability``: every scenario of trouble in every mode, and the table to prove it.

    workbench reliability                      # the full run (1M-record soak per mode)
    workbench reliability --quick              # small sizes: a few minutes
    workbench reliability --scenario soak,hostile --mode async
    workbench reliability --out DIR            # where results.csv and summary.md go

Scenarios and groups: see ``workbench.reliability.scenarios``. Each row runs in a new
database on the embedded (or configured) Postgres and a private Valkey started for the
run, so nothing a user stored is touched. A full run of every scenario writes
``benchmarks/reliability/<timestamp>/``, a folder meant to be committed; quick or partial
runs write ``benchmarks/reliability/local-<timestamp>/``, which git ignores. Workbench's
log lines go to ``run.log`` in that folder. Exit status: 0 when every row passed, 1 when
any row lost or duplicated a record or ended with another status than expected, 2 on a
bad flag, 130 after Ctrl-C or SIGTERM (the private Valkey and the row's command stopped).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.bench.results import run_folder_name
from workbench.commands.signals import sigterm_unwinds
from workbench.reliability.scenarios import FULL, GROUPS, QUICK, SCENARIOS, parse_scenarios
from workbench.services.common import project_root

if TYPE_CHECKING:
    from workbench.reliability.table import Row

__all__ = ["default_folder", "register"]


def default_folder(*, local: bool, now: dt.datetime | None = None) -> Path:
    """Return ``benchmarks/reliability/<timestamp>`` (``local-<timestamp>`` when not full)."""
    name = run_folder_name(now or dt.datetime.now(dt.UTC), local=local)
    return project_root() / "benchmarks" / "reliability" / name


def _show(row: Row) -> None:
    """Say on stderr how a row went, as it ends."""
    from workbench.reliability.table import status_text

    verdict = "ok" if row.passed else "FAILED: " + "; ".join(row.failures)
    print(f"{row.scenario:>22} {row.mode:<12} exit {status_text(row.statuses) or '-':<8} "
          f"{row.seconds:7.1f} s  {verdict}", file=sys.stderr, flush=True)  # fmt: skip


def _reliability(args: argparse.Namespace) -> int:
    """Run the chosen scenarios, print the table and where it is; 1 if any row failed."""
    from workbench.bench.results import collect_environment
    from workbench.logging_setup import configure_logging
    from workbench.reliability.suite import run_reliability
    from workbench.reliability.table import SUMMARY_FILE
    from workbench.reliability.workspace import Workspace
    from workbench.services import ensure_services
    from workbench.services.valkey import ThrowawayValkey

    scenarios = parse_scenarios(args.scenario, args.mode)
    plan = QUICK if args.quick else FULL
    reference = not args.quick and scenarios == SCENARIOS
    folder = Path(args.out) if args.out else default_folder(local=not reference)
    folder.mkdir(parents=True, exist_ok=True)
    services = ensure_services()
    with (
        sigterm_unwinds(),  # a SIGTERM stops the throwaway Valkey and the row's command too
        (folder / "run.log").open("a", encoding="utf-8") as log,
        ThrowawayValkey() as valkey,
    ):
        configure_logging("text", "WARNING", stream=log)
        workspace = Workspace(services.postgres_dsn, valkey.url)
        environment = collect_environment(services.postgres_dsn, valkey.url, dlt=None)
        rows = run_reliability(plan, scenarios, folder, workspace, environment,
                               progress=None if args.no_progress else _show)  # fmt: skip
    print((folder / SUMMARY_FILE).read_text(encoding="utf-8"))
    print(f"results: {folder}")
    failed = [row for row in rows if not row.passed]
    for row in failed:
        print(f"workbench: {row.scenario} ({row.mode}): {'; '.join(row.failures)}",
              file=sys.stderr)  # fmt: skip
    return 1 if failed else 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``reliability`` to the CLI."""
    parser = subparsers.add_parser(
        "reliability", help="every scenario of trouble in every mode; the table to prove it"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (a few minutes)")
    parser.add_argument(
        "--scenario", default="", help=f"comma-separated scenarios or groups ({','.join(GROUPS)})"
    )
    parser.add_argument("--mode", default="", help="comma-separated modes (every mode)")
    parser.add_argument("--out", help="results folder (benchmarks/reliability/<timestamp>)")
    parser.add_argument("--no-progress", action="store_true", help="no line per row on stderr")
    parser.set_defaults(handler=_reliability)
