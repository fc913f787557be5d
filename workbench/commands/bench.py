"""``workbench bench``: measure every mode, the limits and the peer; write results and plots.

    workbench bench                      # the full run (about 15 minutes on two cores)
    workbench bench --quick              # a minute or two: fewer cases, smaller sizes
    workbench bench --scenario io,cpu    # only some scenarios
    workbench bench --out DIR            # where results.csv, summary.md and the PNGs go

Scenarios: see ``workbench.bench.scenarios``. The summary judges the targets of
``benchmarks/targets.toml`` (``--targets`` names another file, ``--targets ''`` none). A
full run of every scenario writes ``benchmarks/results/<timestamp>/``, a folder meant to be
committed as a reference run; quick, scaled or partial runs write
``benchmarks/results/local-<timestamp>/``, which git ignores. Rows are appended to
``results.csv``, so several invocations with the same ``--out`` build one results folder.
Exit status: 0 when every case was measured, 1 when some failed, 2 on a bad flag.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from workbench.bench.results import run_folder_name
from workbench.bench.scenarios import FULL, QUICK, SCENARIOS, parse_scenarios
from workbench.bench.targets import load_targets
from workbench.services.common import project_root

__all__ = ["DEFAULT_TARGETS", "default_folder", "register"]

#: The project's targets, when running from a checkout (a plain install has none).
DEFAULT_TARGETS = project_root() / "benchmarks" / "targets.toml"


def default_folder(*, local: bool, now: dt.datetime | None = None) -> Path:
    """Return ``benchmarks/results/<timestamp>`` (``local-<timestamp>`` for non-reference runs)."""
    name = run_folder_name(now or dt.datetime.now(dt.UTC), local=local)
    return project_root() / "benchmarks" / "results" / name


def _bench(args: argparse.Namespace) -> int:
    """Run the chosen scenarios and print where the results are."""
    from workbench.bench.suite import run_benchmark

    scenarios = parse_scenarios(args.scenario)
    plan = (QUICK if args.quick else FULL).with_reps(args.reps)
    if args.size_factor != 1:
        plan = plan.scaled(args.size_factor)
    reference = not args.quick and args.size_factor == 1 and scenarios == SCENARIOS
    folder = Path(args.out) if args.out else default_folder(local=not reference)
    targets = load_targets(Path(args.targets)) if args.targets else []
    outcome = run_benchmark(plan, scenarios, folder, progress=not args.no_progress, targets=targets)
    print((folder / "summary.md").read_text())
    print(f"results: {folder}")
    for failure in outcome.failures:
        print(f"workbench: {failure}", file=sys.stderr)
    return 1 if outcome.failures else 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``bench`` to the CLI."""
    parser = subparsers.add_parser(
        "bench", help="measure every mode next to the HTTP and DB limits and a peer"
    )
    parser.add_argument("--quick", action="store_true", help="fewer cases, smaller sizes")
    parser.add_argument(
        "--scenario", default=",".join(SCENARIOS), help=f"comma-separated ({','.join(SCENARIOS)})"
    )
    parser.add_argument("--out", help="results folder (benchmarks/results/<timestamp>)")
    parser.add_argument("--reps", type=int, default=3, help="timed repetitions per case (3)")
    parser.add_argument(
        "--size-factor", type=float, default=1.0, help="multiply every size (1; e.g. 0.1)"
    )
    parser.add_argument(
        "--targets",
        default=str(DEFAULT_TARGETS) if DEFAULT_TARGETS.is_file() else "",
        help="targets to judge the run by (benchmarks/targets.toml; '' for none)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_bench)
