"""Named measures over one run's results: the numbers a target can be judged by.

The benchmark measures; what counts as good enough is the project's own call, written as
data in ``benchmarks/targets.toml`` (see ``workbench.bench.targets``). Each measure here
takes the run's results and a few arguments and returns a ``Measure`` (the value and what
was compared), or None when its inputs were not measured in this run. Ratios compare two
numbers measured in the same run on the same machine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.bench.runner import Result
from workbench.ingestion.modes import IN_PROCESS

__all__ = ["MEASURES", "Measure", "find", "pipeline_limit"]


@dataclass(frozen=True)
class Measure:
    """A measured value and a sentence saying what it compared."""

    value: float
    detail: str


def find(results: Sequence[Result], scenario: str, mode: str, **match: Any) -> Result | None:
    """Return the result of ``scenario``/``mode`` whose case fields equal ``match``, or None."""
    for result in results:
        case = result.case
        same = case.scenario == scenario and case.mode == mode
        if same and all(getattr(case, name) == value for name, value in match.items()):
            return result
    return None


def _rate(result: Result) -> str:
    """Describe a result's median rate."""
    return f"{result.rate.median:,.0f} {result.case.unit}/s"


def pipeline_limit(results: Sequence[Result]) -> tuple[Result, str] | None:
    """Return the slower of the HTTP and DB limits and its name, when both were measured."""
    http, db = find(results, "limits", "http_limit"), find(results, "limits", "copy_limit")
    if http is None or db is None:
        return None
    return (http, "HTTP") if http.rate.median <= db.rate.median else (db, "DB")


def _end_to_end(results: Sequence[Result], mode: str) -> Result | None:
    """Return ``mode`` end to end on the limits' load (the growth case of the same size)."""
    limit = find(results, "limits", "http_limit")
    return None if limit is None else find(results, "growth", mode, size=limit.case.size)


def vs_pipeline_limit(results: Sequence[Result], mode: str) -> Measure | None:
    """Measure how many times slower than the pipeline limit ``mode`` runs end to end."""
    return _over_limit(results, _end_to_end(results, mode), mode)


def vs_peer(results: Sequence[Result], mode: str, peer: str = "dlt") -> Measure | None:
    """Measure how many times ``mode``'s records/s end to end is the peer's (same load)."""
    return _over_peer(results, _end_to_end(results, mode), mode, peer)


def _fastest(results: Sequence[Result], size: int) -> Result | None:
    """Return the fastest mode's end-to-end result at ``size`` records (the growth cases)."""
    runs = [find(results, "growth", mode, size=size) for mode in IN_PROCESS]
    measured = [run for run in runs if run is not None]
    return max(measured, key=lambda run: run.rate.median) if measured else None


def fastest_vs_pipeline_limit(results: Sequence[Result], size: int) -> Measure | None:
    """Measure how many times slower than the pipeline limit the fastest mode runs at ``size``."""
    run = _fastest(results, size)
    return _over_limit(results, run, f"fastest mode {run.case.mode}" if run else "")


def fastest_vs_peer(results: Sequence[Result], size: int, peer: str = "dlt") -> Measure | None:
    """Measure how many times the fastest mode's records/s at ``size`` is the peer's there."""
    run = _fastest(results, size)
    return _over_peer(results, run, f"fastest mode {run.case.mode}" if run else "", peer)


def _over_limit(results: Sequence[Result], run: Result | None, who: str) -> Measure | None:
    """Measure how many times slower than the pipeline limit ``run`` (``who``'s) is."""
    limit = pipeline_limit(results)
    if limit is None or run is None:
        return None
    ratio = limit[0].rate.median / run.rate.median
    detail = (
        f"{who} {_rate(run)} on {run.case.size:,} posts; pipeline limit {_rate(limit[0])} "
        f"({limit[1]} limit, measured on the end-to-end load): {ratio:.2f}x slower"
    )
    return Measure(ratio, detail)


def _over_peer(
    results: Sequence[Result], run: Result | None, who: str, peer: str
) -> Measure | None:
    """Measure how many times ``run``'s records/s is the peer's on the same load."""
    other = None if run is None else find(results, "limits", peer, size=run.case.size)
    if run is None or other is None:
        return None
    ratio = run.rate.median / other.rate.median
    return Measure(ratio, f"{who} {_rate(run)}, {peer} {_rate(other)} on {run.case.size:,} posts")


def over_ideal(results: Sequence[Result], mode: str, **match: Any) -> Measure | None:
    """Measure an io case's wall time over its ideal (latency x pages / in flight)."""
    run = find(results, "io", mode, **match)
    if run is None or run.ideal_ratio is None or run.case.ideal_seconds is None:
        return None
    detail = (
        f"{run.case.pages} pages of {run.case.page_size} at {run.case.latency_ms:g} ms, "
        f"{run.case.in_flight} in flight: {run.seconds.median:.3f} s, ideal "
        f"{run.case.ideal_seconds:.3f} s"
    )
    return Measure(run.ideal_ratio, detail)


def speedup(
    results: Sequence[Result], scenario: str, mode: str, over: str, **match: Any
) -> Measure | None:
    """Measure how many times the rate of ``mode`` is that of ``over`` in one scenario."""
    run, base = find(results, scenario, mode, **match), find(results, scenario, over, **match)
    if run is None or base is None:
        return None
    ratio = run.rate.median / base.rate.median
    return Measure(ratio, f"{scenario}: {mode} {_rate(run)}, {over} {_rate(base)}")


def scaling(
    results: Sequence[Result], scenario: str, mode: str, workers: int, over: int, **match: Any
) -> Measure | None:
    """Measure how many times the rate of ``mode`` with ``workers`` is that with ``over``."""
    run = find(results, scenario, mode, workers=workers, **match)
    base = find(results, scenario, mode, workers=over, **match)
    if run is None or base is None:
        return None
    ratio = run.rate.median / base.rate.median
    detail = f"{mode}: {workers} workers {_rate(run)}, {over} {_rate(base)} ({run.case.name})"
    return Measure(ratio, detail)


def per_unit_ms(results: Sequence[Result], scenario: str, mode: str) -> Measure | None:
    """Measure the milliseconds one unit costs (the inverse of the case's median rate)."""
    run = find(results, scenario, mode)
    if run is None or not run.rate.median:
        return None
    detail = f"{run.case.size:,} {run.case.unit} at {_rate(run)}"
    return Measure(1000 / run.rate.median, detail)


def rate(results: Sequence[Result], scenario: str, mode: str, **match: Any) -> Measure | None:
    """Measure the median rate of one case."""
    run = find(results, scenario, mode, **match)
    if run is None:
        return None
    return Measure(run.rate.median, f"{mode}: {_rate(run)} ({run.case.size:,} {run.case.unit})")


def _growth_pairs(results: Sequence[Result]) -> tuple[int, int, dict[str, tuple[Result, Result]]]:
    """Return the two largest growth sizes and each mode's results at both (all measured)."""
    sizes = sorted({r.case.size for r in results if r.case.scenario == "growth"})
    if len(sizes) < 2:
        return 0, 0, {}
    small, large = sizes[-2], sizes[-1]
    pairs = {}
    for mode in IN_PROCESS:
        a, b = find(results, "growth", mode, size=small), find(results, "growth", mode, size=large)
        if a is None or b is None:
            return small, large, {}
        pairs[mode] = (a, b)
    return small, large, pairs


def growth_peak_mb(results: Sequence[Result]) -> Measure | None:
    """Measure the highest peak memory of any mode at the largest growth size."""
    _, large, pairs = _growth_pairs(results)
    peaks = {mode: b.peak_mb.maximum for mode, (_, b) in pairs.items() if b.peak_mb}
    if not pairs or len(peaks) < len(pairs):
        return None
    worst = max(peaks, key=lambda mode: peaks[mode])
    listed = ", ".join(f"{mode} {peak:.0f} MB" for mode, peak in peaks.items())
    return Measure(peaks[worst], f"{large:,} records: {listed} (worst: {worst})")


def growth_per_record(results: Sequence[Result]) -> Measure | None:
    """Measure the worst time per record at the largest growth size over the next size."""
    small, large, pairs = _growth_pairs(results)
    if not pairs:
        return None
    ratios = {
        mode: (b.seconds.median / b.case.size) / (a.seconds.median / a.case.size)
        for mode, (a, b) in pairs.items()
    }
    worst = max(ratios, key=lambda mode: ratios[mode])
    listed = ", ".join(f"{mode} {ratio:.2f}x" for mode, ratio in ratios.items())
    return Measure(ratios[worst], f"time per record, {large:,} over {small:,}: {listed}")


#: Every measure a target may name, by name.
MEASURES: dict[str, Callable[..., Measure | None]] = {
    "vs_pipeline_limit": vs_pipeline_limit,
    "vs_peer": vs_peer,
    "fastest_vs_pipeline_limit": fastest_vs_pipeline_limit,
    "fastest_vs_peer": fastest_vs_peer,
    "over_ideal": over_ideal,
    "speedup": speedup,
    "rate": rate,
    "scaling": scaling,
    "per_unit_ms": per_unit_ms,
    "growth_peak_mb": growth_peak_mb,
    "growth_per_record": growth_per_record,
}
