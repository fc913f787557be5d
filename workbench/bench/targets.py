"""The speed targets, each a ratio within one run, judged from that run's results.

Every target compares two numbers measured in the same run on the same machine (a mode and
a limit, a mode and the peer, two modes, a strategy and raw COPY), except the Redis and
memory targets, which are absolute. A target whose inputs were not measured (scenario not
chosen, dlt not installed) is "not measured", never met by default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from workbench.bench.runner import Result
from workbench.bench.scenarios import LatencyCase
from workbench.config import MODES

__all__ = ["MET", "MISSED", "NOT_MEASURED", "TARGETS", "TargetOutcome", "evaluate", "find"]

MET, MISSED, NOT_MEASURED = "met", "MISSED", "not measured"


@dataclass(frozen=True)
class TargetOutcome:
    """One target's verdict: the measured ratio against the bound, and what was compared."""

    key: str
    title: str
    bound: str
    measured: float | None
    status: str
    detail: str

    @property
    def measured_text(self) -> str:
        """Return the measured value as shown in the summary."""
        if self.measured is None:
            return "-"
        return f"{self.measured:,.0f}" if self.measured >= 1000 else f"{self.measured:.2f}"


def find(results: Sequence[Result], scenario: str, mode: str, **match: float) -> Result | None:
    """Return the result of ``scenario``/``mode`` whose case fields equal ``match``, or None."""
    for result in results:
        case = result.case
        same = case.scenario == scenario and case.mode == mode
        if same and all(getattr(case, name) == value for name, value in match.items()):
            return result
    return None


def _judge(ok: bool) -> str:
    """Return met or MISSED."""
    return MET if ok else MISSED


def _rate(result: Result) -> str:
    """Describe a result's median rate."""
    return f"{result.rate.median:,.0f} {result.case.unit}/s"


def _e2e_inputs(results: Sequence[Result]) -> tuple[Result, Result, Result] | None:
    """Return the HTTP limit, the DB limit and async end to end on the same load, if measured."""
    http, db = find(results, "limits", "http_limit"), find(results, "limits", "copy_limit")
    if http is None or db is None:
        return None
    async_run = find(results, "growth", "async", size=http.case.size)
    return None if async_run is None else (http, db, async_run)


def _e2e_vs_limit(key: str, results: Sequence[Result]) -> TargetOutcome:
    """Async end to end within 2x of the pipeline limit (the slower of HTTP and DB)."""
    title, bound = "Async end to end within 2x of the pipeline limit", "<= 2.00x"
    inputs = _e2e_inputs(results)
    if inputs is None:
        return TargetOutcome(key, title, bound, None, NOT_MEASURED, "needs growth and limits")
    http, db, async_run = inputs
    limit = min(http, db, key=lambda r: r.rate.median)
    ratio = limit.rate.median / async_run.rate.median
    name = "HTTP" if limit is http else "DB"
    detail = (
        f"async {_rate(async_run)} on {async_run.case.size:,} posts; pipeline limit "
        f"{_rate(limit)} ({name} limit; HTTP {_rate(http)}, DB {_rate(db)}): "
        f"async is {ratio:.2f}x slower than the limit"
    )
    return TargetOutcome(key, title, bound, ratio, _judge(ratio <= 2.0), detail)


def _e2e_vs_peer(key: str, results: Sequence[Result]) -> TargetOutcome:
    """Async end to end at least 8x the peer's records/s on the same load."""
    title, bound = "Async end to end at least 8x the peer (dlt)", ">= 8.00x"
    inputs = _e2e_inputs(results)
    peer = find(results, "limits", "dlt")
    if inputs is None or peer is None:
        why = "dlt is not installed: the peer was skipped" if inputs else "needs growth and limits"
        return TargetOutcome(key, title, bound, None, NOT_MEASURED, why)
    async_run = inputs[2]
    ratio = async_run.rate.median / peer.rate.median
    detail = f"async {_rate(async_run)}, dlt {_rate(peer)} on {peer.case.size:,} posts"
    return TargetOutcome(key, title, bound, ratio, _judge(ratio >= 8.0), detail)


def _latency(key: str, results: Sequence[Result]) -> TargetOutcome:
    """Async at 50 ms added latency, 500 pages, concurrency 50: at most 1.25x the ideal."""
    shape = LatencyCase()
    title = (
        f"Async at {shape.latency_ms:g} ms latency, concurrency {shape.concurrency}: "
        "wall time near the ideal"
    )
    bound = "<= 1.25x"
    run = find(results, "io", "async", latency_ms=shape.latency_ms, concurrency=shape.concurrency)
    if run is None or run.ideal_ratio is None:
        return TargetOutcome(key, title, bound, None, NOT_MEASURED, "needs io")
    ideal = run.case.ideal_seconds
    detail = (
        f"{run.case.pages} pages of {run.case.page_size}: {run.seconds.median:.3f} s, "
        f"ideal {ideal:.3f} s (latency x pages / concurrency)"
    )
    return TargetOutcome(
        key, title, bound, run.ideal_ratio, _judge(run.ideal_ratio <= 1.25), detail
    )


def _gil(key: str, results: Sequence[Result]) -> TargetOutcome:
    """Multiprocess at least 1.7x sync on CPU-heavy processing with 2 cores."""
    title, bound = "Multiprocess beats the GIL on CPU-heavy records", ">= 1.70x"
    sync, multi = find(results, "cpu", "sync"), find(results, "cpu", "multiprocess")
    if sync is None or multi is None:
        return TargetOutcome(key, title, bound, None, NOT_MEASURED, "needs cpu")
    ratio = multi.rate.median / sync.rate.median
    detail = f"multiprocess ({multi.case.workers} processes) {_rate(multi)}, sync {_rate(sync)}"
    return TargetOutcome(key, title, bound, ratio, _judge(ratio >= 1.7), detail)


def _upsert(key: str, results: Sequence[Result]) -> TargetOutcome:
    """COPY + upsert at least half the raw COPY limit's rows/s (new rows, as a first load)."""
    title, bound = "COPY + upsert at least half of raw COPY", ">= 0.50x"
    upsert = find(results, "persist", "upsert_copy", update=False)
    limit = find(results, "persist", "copy_limit")
    if upsert is None or limit is None:
        return TargetOutcome(key, title, bound, None, NOT_MEASURED, "needs persist")
    ratio = upsert.rate.median / limit.rate.median
    detail = f"upsert_copy {_rate(upsert)}, raw COPY {_rate(limit)} ({upsert.case.size:,} new rows)"
    update = find(results, "persist", "upsert_copy", update=True)
    if update is not None:
        share = update.rate.median / limit.rate.median
        detail += f"; updating every row instead: {_rate(update)} ({share:.2f}x raw COPY)"
    return TargetOutcome(key, title, bound, ratio, _judge(ratio >= 0.5), detail)


def _dedup(key: str, results: Sequence[Result]) -> TargetOutcome:
    """Redis dedup at least 300k keys/s batched (SMISMEMBER)."""
    title, bound = "Redis dedup batched (SMISMEMBER)", ">= 300,000 keys/s"
    run = find(results, "dedup", "smismember")
    if run is None:
        return TargetOutcome(key, title, bound, None, NOT_MEASURED, "needs dedup")
    detail = f"{_rate(run)} in batches of {run.case.batch} ({run.case.size:,} keys)"
    return TargetOutcome(
        key, title, bound, run.rate.median, _judge(run.rate.median >= 300_000), detail
    )


def _growth(results: Sequence[Result]) -> tuple[int, int, dict[str, tuple[Result, Result]]] | None:
    """Return the two largest growth sizes and each mode's results at both, if all measured."""
    sizes = sorted({r.case.size for r in results if r.case.scenario == "growth"})
    if len(sizes) < 2:
        return None
    small, large = sizes[-2], sizes[-1]
    pairs = {}
    for mode in MODES:
        a, b = find(results, "growth", mode, size=small), find(results, "growth", mode, size=large)
        if a is None or b is None:
            return None
        pairs[mode] = (a, b)
    return small, large, pairs


def _growth_memory(key: str, results: Sequence[Result]) -> TargetOutcome:
    """At the largest size, every mode's peak memory at most 300 MB."""
    title, bound = "Largest growth size: peak memory in every mode", "<= 300 MB"
    growth = _growth(results)
    if growth is None or any(b.peak_mb is None for _, b in growth[2].values()):
        return TargetOutcome(key, title, bound, None, NOT_MEASURED, "needs growth (2 sizes)")
    _, large, pairs = growth
    peaks = {mode: b.peak_mb.maximum for mode, (_, b) in pairs.items() if b.peak_mb}
    worst = max(peaks, key=lambda mode: peaks[mode])
    listed = ", ".join(f"{mode} {peak:.0f} MB" for mode, peak in peaks.items())
    detail = f"{large:,} records, highest peak of the repetitions: {listed} (worst: {worst})"
    return TargetOutcome(key, title, bound, peaks[worst], _judge(peaks[worst] <= 300), detail)


def _growth_linear(key: str, results: Sequence[Result]) -> TargetOutcome:
    """At the largest size, time per record within 20% of the next size down, every mode."""
    title, bound = "Largest growth size: time per record stays flat", "<= 1.20x"
    growth = _growth(results)
    if growth is None:
        return TargetOutcome(key, title, bound, None, NOT_MEASURED, "needs growth (2 sizes)")
    small, large, pairs = growth
    ratios = {
        mode: (b.seconds.median / b.case.size) / (a.seconds.median / a.case.size)
        for mode, (a, b) in pairs.items()
    }
    worst = max(ratios, key=lambda mode: ratios[mode])
    listed = ", ".join(f"{mode} {ratio:.2f}x" for mode, ratio in ratios.items())
    detail = f"time per record at {large:,} over {small:,}: {listed} (worst: {worst})"
    return TargetOutcome(key, title, bound, ratios[worst], _judge(ratios[worst] <= 1.2), detail)


#: Every target by key, in the order the summary lists them.
TARGETS: dict[str, Callable[[str, Sequence[Result]], TargetOutcome]] = {
    "e2e_vs_limit": _e2e_vs_limit,
    "e2e_vs_peer": _e2e_vs_peer,
    "latency": _latency,
    "gil": _gil,
    "upsert_vs_copy": _upsert,
    "dedup": _dedup,
    "growth_memory": _growth_memory,
    "growth_linear": _growth_linear,
}


def evaluate(results: Sequence[Result]) -> list[TargetOutcome]:
    """Judge every target from one run's results."""
    return [judge(key, results) for key, judge in TARGETS.items()]
