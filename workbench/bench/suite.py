"""One benchmark run: each chosen case measured in turn, its row appended, then the summary.

    folder = run_benchmark(QUICK, ("io", "dedup"), Path("benchmarks/results/local-x"))

Rows are appended as each case finishes, so an interrupted run keeps what it measured; the
summary and charts are then rendered from everything the folder's results.csv holds. A case
that fails (an incomplete run, a server error) is named in the summary and the run goes on.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.bench.charts import write_charts, write_timeline
from workbench.bench.context import BenchContext
from workbench.bench.limits import CopyLimitTrial, HttpLimitTrial
from workbench.bench.peer import PeerTrial
from workbench.bench.peer_env import ensure_peer_env
from workbench.bench.processing import ProcessTrial
from workbench.bench.results import (
    collect_environment,
    environment_from_row,
    load_results,
    read_rows,
    row_for,
    write_row,
)
from workbench.bench.runner import Result, Trial, measure, summarise
from workbench.bench.scenarios import Case, Plan, cases
from workbench.bench.stores import DedupTrial, WriteTrial
from workbench.bench.summary import render_summary
from workbench.bench.targets import Target, evaluate
from workbench.bench.trials import ChildIngestTrial, IngestTrial, QueueOverheadTrial
from workbench.errors import WorkbenchError
from workbench.services import Services, ensure_services

__all__ = ["PEER_SKIPPED", "RunOutcome", "run_benchmark", "trial_for", "write_summary"]

PEER_SKIPPED = "the peer (dlt) was skipped"

_TRIALS: dict[str, Callable[[Case, BenchContext, Plan], Trial]] = {
    "ingest": lambda c, ctx, p: IngestTrial(c, ctx, warmup_pages=p.warmup_pages),
    "ingest_child": lambda c, ctx, p: ChildIngestTrial(c, ctx, warmup_pages=p.warmup_pages),
    "http_limit": lambda c, ctx, p: HttpLimitTrial(c, ctx, warmup_pages=p.warmup_pages),
    "peer": lambda c, ctx, p: PeerTrial(c, ctx, warmup_pages=p.warmup_pages),
    "copy_limit": lambda c, ctx, p: CopyLimitTrial(c, ctx),
    "write": lambda c, ctx, p: WriteTrial(c, ctx),
    "dedup": lambda c, ctx, p: DedupTrial(c, ctx),
    "queue_overhead": lambda c, ctx, p: QueueOverheadTrial(c, ctx),
    "process": lambda c, ctx, p: ProcessTrial(c, ctx.seed),
}


def trial_for(case: Case, ctx: BenchContext, plan: Plan) -> Trial:
    """Return the trial that measures ``case``."""
    return _TRIALS[case.kind](case, ctx, plan)


@dataclass
class RunOutcome:
    """What a run did: its folder, its results and the cases that failed."""

    folder: Path
    results: list[Result] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    #: What the reader should know that is not a failure (the peer skipped, and why).
    notes: list[str] = field(default_factory=list)


def _progress(total: int, enabled: bool) -> Any:
    """Return a tqdm bar on stderr when enabled and stderr is a terminal, else None."""
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="rep", desc="bench", file=sys.stderr)


def _tick(bar: Any) -> None:
    """Advance the progress bar by one repetition, if there is one."""
    if bar is not None:
        bar.update(1)


def _say(bar: Any, line: str) -> None:
    """Print a line on stderr without breaking the progress bar."""
    if bar is not None:
        bar.write(line, file=sys.stderr)
    else:
        print(line, file=sys.stderr, flush=True)


def run_benchmark(
    plan: Plan,
    scenarios: Sequence[str],
    folder: Path,
    *,
    services: Services | None = None,
    progress: bool = True,
    targets: Sequence[Target] = (),
) -> RunOutcome:
    """Measure every case of ``scenarios``, append each to ``folder``, then write the summary."""
    services = services or ensure_services()
    wants_peer = any(case.kind == "peer" for case in cases(plan, tuple(scenarios)))
    peer = ensure_peer_env() if wants_peer else None
    dlt = peer.dlt if peer is not None else None
    chosen = cases(plan, tuple(scenarios), peer=dlt is not None)
    environment = collect_environment(services.postgres_dsn, services.redis_url, dlt)
    outcome = RunOutcome(folder)
    if peer is not None and peer.dlt is None:
        outcome.notes.append(f"{PEER_SKIPPED}: {peer.reason}")
        _say(None, f"bench: {outcome.notes[-1]}")
    bar = _progress(len(chosen) * plan.reps, progress)
    sizes = [c.size for c in chosen if c.kind in ("ingest", "ingest_child", "http_limit", "peer")]
    try:
        with BenchContext(services, max_records=max(sizes, default=100)) as ctx:
            for case in chosen:
                result = _run_case(case, ctx, plan, bar, outcome)
                if result is not None:
                    row = row_for(
                        result, run_id=folder.name, plan=plan.label, environment=environment
                    )
                    write_row(folder, row)
                    if case.timeline and result.report is not None:
                        write_timeline(folder, result.report)
    finally:
        if bar is not None:
            bar.close()
    write_summary(folder, notes=[*outcome.notes, *outcome.failures], targets=targets)
    return outcome


def _run_case(
    case: Case, ctx: BenchContext, plan: Plan, bar: Any, outcome: RunOutcome
) -> Result | None:
    """Measure one case and say how it went; a failure is recorded in ``outcome``, not raised."""
    if bar is not None:
        bar.set_description(case.name)
    started = time.perf_counter()
    try:
        samples = measure(trial_for(case, ctx, plan), plan.reps, on_sample=lambda _: _tick(bar))
    except WorkbenchError as exc:
        outcome.failures.append(f"{case.name} failed: {exc}")
        _say(bar, f"bench: {outcome.failures[-1]}")
        return None
    result = summarise(case, samples)
    outcome.results.append(result)
    rate = result.rate
    _say(bar, f"bench: {case.name}: {rate.median:,.0f} {case.unit}/s "
              f"({rate.minimum:,.0f}-{rate.maximum:,.0f}), "
              f"{time.perf_counter() - started:.0f} s with warm-up and set-up")  # fmt: skip
    return result


def write_summary(
    folder: Path, *, notes: Sequence[str] = (), targets: Sequence[Target] = ()
) -> Path:
    """Render summary.md and the charts from everything the folder's results.csv holds."""
    rows = read_rows(folder)
    results = load_results(rows)
    folder.mkdir(parents=True, exist_ok=True)
    if not rows:
        path = folder / "summary.md"
        path.write_text("# workbench bench\n\nNo results were measured.\n" + "".join(
            f"\nNote: {note}\n" for note in notes))  # fmt: skip
        return path
    environment = environment_from_row(rows[-1])
    all_notes = list(notes)
    text = render_summary(
        results,
        evaluate(targets, results),
        title=folder.name,
        plan=rows[-1]["plan"],
        environment=environment,
        charts=write_charts(folder, results),
        notes=all_notes,
    )
    path = folder / "summary.md"
    path.write_text(text)
    return path
