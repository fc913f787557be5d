"""``summary.md``: the headline table, a section per target, a table per scenario.

Rendered from the results read back from ``results.csv`` (so a folder filled by several
invocations is summarised whole), the targets' verdicts (``benchmarks/targets.toml``, when
given) and the charts found next to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workbench.bench.measures import find
from workbench.bench.results import Environment
from workbench.bench.runner import Result, Spread
from workbench.bench.targets import MISSED, TargetOutcome
from workbench.ingestion.modes import IN_PROCESS
from workbench.processing.registry import PROCESSORS

__all__ = [
    "HeadlineRow",
    "case_row",
    "headline",
    "headline_size",
    "headline_table",
    "processors_table",
    "queue_table",
    "render_summary",
    "table",
    "targets_table",
    "threads_note",
]

_LIMITS = (("http_limit", "HTTP limit: raw aiohttp fetch"), ("copy_limit", "DB limit: raw COPY"))


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Return a Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _range(spread: Spread) -> str:
    """Return a spread's min-max, formatted like its median."""
    if spread.maximum >= 100:
        return f"{spread.minimum:,.0f}-{spread.maximum:,.0f}"
    return f"{spread.minimum:.3f}-{spread.maximum:.3f}"


def _ratio(value: float | None) -> str:
    """Format a ratio (``-`` when unknown)."""
    return "-" if value is None else f"{value:.2f}x"


def headline_size(results: Sequence[Result]) -> int | None:
    """Return the end-to-end load: the limits' size, else the largest growth size."""
    limit = find(results, "limits", "http_limit")
    if limit is not None:
        return limit.case.size
    sizes = [r.case.size for r in results if r.case.scenario == "growth"]
    return max(sizes, default=None)


@dataclass(frozen=True)
class HeadlineRow:
    """One line of the headline: a mode, a limit or the peer on the end-to-end load."""

    label: str
    result: Result
    speedup: float | None  # over sync
    share_of_limit: float | None  # of the pipeline limit (the slower of HTTP and DB)


def headline(results: Sequence[Result]) -> list[HeadlineRow]:
    """Return every mode, both limits and the peer on the end-to-end load, with ratios."""
    size = headline_size(results)
    found = [(mode, find(results, "growth", mode, size=size)) for mode in IN_PROCESS]
    found += [(label, find(results, "limits", key)) for key, label in _LIMITS]
    found.append(("peer: dlt rest_api", find(results, "limits", "dlt", size=size)))
    present = [(label, result) for label, result in found if result is not None]
    sync = dict(present).get("sync")
    limits = [result.rate.median for label, result in present if label in dict(_LIMITS).values()]
    limit = min(limits, default=None)
    return [
        HeadlineRow(
            label,
            result,
            result.rate.median / sync.rate.median if sync else None,
            result.rate.median / limit if limit else None,
        )
        for label, result in present
    ]


def headline_table(results: Sequence[Result]) -> str:
    """Return the headline section: every mode next to the limits and the peer."""
    rows = headline(results)
    if not rows:
        return "No end-to-end results (scenarios growth and limits were not run).\n"
    body = [
        (
            row.label,
            f"{row.result.rate.median:,.0f}",
            _range(row.result.rate),
            _ratio(row.speedup),
            _ratio(row.share_of_limit),
            f"{row.result.peak_mb.maximum:.0f}" if row.result.peak_mb else "-",
        )
        for row in rows
    ]
    headers = ("", "records/s (median)", "min-max", "speedup vs sync",
               "share of pipeline limit", "peak MB")  # fmt: skip
    intro = (
        f"{headline_size(results) or 0:,} posts from the local API (its own process, no added "
        "latency), fetched, processed, deduplicated through Redis and upserted into Postgres; "
        "the pipeline limit is the slower of the HTTP and DB limits.\n\n"
    )
    return intro + table(headers, body)


def queue_table(results: Sequence[Result]) -> str:
    """Return queue mode by workers and latency, over one worker and over async (same load)."""
    rows = []
    for run in (r for r in results if r.case.scenario == "queue" and r.case.mode == "queue"):
        latency = run.case.latency_ms
        one = find(results, "queue", "queue", workers=1, latency_ms=latency)
        other = find(results, "queue", "async", latency_ms=latency)
        rows.append((
            f"{latency:g}", run.case.workers, f"{run.rate.median:,.0f}", _range(run.rate),
            _ratio(run.rate.median / one.rate.median if one else None),
            _ratio(run.rate.median / other.rate.median if other else None),
        ))  # fmt: skip
    if not rows:
        return ""
    headers = ("latency ms", "workers", "records/s", "min-max", "x 1 worker", "x async")
    text = table(headers, rows)
    overhead = find(results, "queue", "overhead")
    if overhead is not None:
        text += (
            f"\nThe queue's own cost per task (enqueue, claim, acknowledge; no work): "
            f"{1000 / overhead.rate.median:.3f} ms ({overhead.case.size:,} tasks).\n"
        )
    return text


def processors_table(results: Sequence[Result]) -> str:
    """Return every processor side by side: alone per batch size, then end to end."""
    loads: dict[str, dict[str, float]] = {}  # load -> processor -> median records/s
    for result in results:
        case = result.case
        if case.scenario != "processors":
            continue
        if case.kind == "process":
            loads.setdefault(f"alone, batches of {case.page_size:,}", {})[case.mode] = (
                result.rate.median
            )
        else:
            loads.setdefault(f"end to end, {case.mode}", {})[case.processor] = result.rate.median
    if not loads:
        return ""
    baseline, *others = PROCESSORS
    body = []
    for load, rates in loads.items():
        cells = [f"{rates[name]:,.0f}" if name in rates else "-" for name in PROCESSORS]
        base = rates.get(baseline)
        ratios = [_ratio(rates[name] / base if base and name in rates else None) for name in others]
        body.append((load, *cells, *ratios))
    headers = (
        "load",
        *(f"{name} records/s" for name in PROCESSORS),
        *(f"{name} / {baseline}" for name in others),
    )
    intro = (
        "The same posts through each processor: alone (no I/O) in batches of each size, then a "
        f"whole ingestion. Above 1.00x a processor is faster than {baseline}, below it slower.\n\n"
    )
    return intro + table(headers, body)


def targets_table(outcomes: Sequence[TargetOutcome]) -> str:
    """Return the targets as one compact table: measured, bound, verdict."""
    rows = [(o.title, o.measured_text, o.bound, f"**{o.status}**") for o in outcomes]
    return table(("target", "measured", "bound", "status"), rows)


def _target_section(number: int, outcome: TargetOutcome, quick: bool) -> str:
    """Return one target's section: measured, bound, verdict and, when missed, what limits it."""
    label = " (quick run: the smaller version)" if quick else ""
    lines = [
        f"### {number}. {outcome.title}{label}",
        "",
        f"- measured: {outcome.measured_text} (target {outcome.bound}): **{outcome.status}**",
        f"- {outcome.detail}",
    ]
    if outcome.status == MISSED:
        lines.append(f"- limits: {outcome.target.limits or '...'}")
    return "\n".join(lines) + "\n"


def case_row(result: Result) -> dict[str, Any]:
    """Return one case's load and measurements by column name (scenario tables and frames)."""
    case = result.case
    return {
        "mode": case.label,
        "size": case.size,
        "unit": case.unit,
        "latency ms": case.latency_ms,
        "in flight": case.in_flight,
        "per second": result.rate.median,
        "min": result.rate.minimum,
        "max": result.rate.maximum,
        "wall s": result.seconds.median,
        "x ideal": result.ideal_ratio,
        "peak MB": result.peak_mb.maximum if result.peak_mb else None,
    }


def _cell(column: str, value: Any) -> str:
    """Format one scenario-table cell by its column."""
    if value is None:
        return "-"
    if column == "x ideal":
        return _ratio(value)
    if column == "wall s":
        return f"{value:.3f}"
    if column == "latency ms":
        return f"{value:g}"
    return f"{value:,.0f}" if isinstance(value, (int, float)) else str(value)


def _scenario_tables(results: Sequence[Result]) -> str:
    """Return a table per scenario that was run."""
    by_scenario: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        by_scenario.setdefault(result.case.scenario, []).append(case_row(result))
    sections = []
    for scenario, rows in by_scenario.items():
        headers = list(rows[0])
        cells = [[_cell(column, row[column]) for column in headers] for row in rows]
        note = threads_note(results) if scenario == "threads" else ""
        sections.append(f"### {scenario}\n\n{table(headers, cells)}{note}")
    return "\n".join(sections)


def threads_note(results: Sequence[Result]) -> str:
    """Explain the thread sweep from its numbers: where more threads stopped helping, and why."""
    sweep = sorted(
        (r for r in results if r.case.scenario == "threads"), key=lambda r: r.case.concurrency
    )
    if len(sweep) < 2:
        return ""
    best = max(sweep, key=lambda r: r.rate.median)
    first, last = sweep[0], sweep[-1]
    text = (
        f"\nFrom {first.case.concurrency} to {best.case.concurrency} threads records/s grew "
        f"{best.rate.median / first.rate.median:.1f}x: threads overlap their waiting. "
    )
    if best is last:
        return text + "More threads still helped at the largest count.\n"
    return text + (
        f"Past {best.case.concurrency} they stop helping: at {last.case.concurrency} threads "
        f"{last.rate.median:,.0f} records/s, {last.rate.median / best.rate.median:.0%} of the "
        f"best, although waiting alone ({last.case.ideal_seconds or 0:.3f} s) would allow "
        f"{last.case.size / (last.case.ideal_seconds or 1):,.0f}. Every page's parsing and "
        "processing, and the writing in the calling thread, need the one GIL: once the CPU "
        "work fills it, more threads only queue for it (and each switch between them costs). "
        "Each thread has its own HTTP connection, so no pool runs dry first.\n"
    )


def render_summary(
    results: Sequence[Result],
    outcomes: Sequence[TargetOutcome],
    *,
    title: str,
    plan: str,
    environment: Environment,
    charts: Sequence[str],
    notes: Sequence[str] = (),
) -> str:
    """Return the whole summary.md."""
    quick = plan.startswith("quick")
    env = environment
    smaller = " (smaller sizes: the targets below are their smaller versions)" if quick else ""
    reps = len(results[0].samples) if results else 0
    parts = [
        f"# workbench bench: {title}\n",
        f"Plan: {plan}{smaller}; {reps} timed repetitions per case after a warm-up; "
        "medians with min-max.\n",
        f"Environment: {env.cpu_count} CPUs, {env.platform}, Python {env.python}, "
        f"workbench {env.workbench}, PostgreSQL {env.postgres}, Valkey {env.valkey}, "
        f"dlt {env.dlt or 'not installed'}; lock {env.lock or 'not recorded'}"
        f"{f', peer lock {env.peer_lock}' if env.peer_lock else ''}.\n",
        *(f"Note: {note}\n" for note in notes),
        "## Headline\n",
        headline_table(results),
        *(f"![{name}]({name})\n" for name in charts if name.startswith("headline")),
        *(["## Speed targets\n"] if outcomes else []),
        "\n".join(_target_section(i, o, quick) for i, o in enumerate(outcomes, 1)),
        *(
            ["## Queue: workers on Redis Streams\n", queue]
            if (queue := queue_table(results))
            else []
        ),
        *(["## Processors\n", processors_table(results)] if processors_table(results) else []),
        "## Scenarios\n",
        _scenario_tables(results),
        "## Charts\n",
        *(f"![{name}]({name})\n" for name in charts if not name.startswith("headline")),
    ]
    return "\n".join(parts)
