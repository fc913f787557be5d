"""The benchmark's PNG charts, drawn with ``workbench.plots`` where a shared plot fits.

* ``headline.png``: records/s of every mode next to the limits and the peer;
* ``io.png``: records/s against concurrency, a panel per added latency, a line per mode;
* ``cpu.png``, ``persist.png``, ``dedup.png``, ``batching.png``, ``processors.png``: a bar
  per mode, strategy or processor;
* ``growth.png``: time per record and peak memory against the number of records;
* ``timeline-<mode>.png``: each page's fetch, processing and write over time, a row per worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.bench.runner import Result
from workbench.bench.summary import headline
from workbench.ingestion.modes import IN_PROCESS
from workbench.plots import throughput_bars, timeline

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from workbench.ingestion.report import RunReport

__all__ = ["bars", "growth_chart", "io_chart", "save", "write_charts", "write_timeline"]

_BARS = {
    "cpu": "CPU-heavy processing: records/s",
    "persist": "Postgres insert strategies: rows/s",
    "dedup": "Redis dedup strategies: keys/s",
    "batching": "A transaction per page (batch 1) or batches: records/s",
    "processors": "Processing alone per batch size, then end to end: records/s",
}


def save(figure: Figure, path: Path) -> Path:
    """Write a figure as PNG and free it."""
    import matplotlib.pyplot as plt

    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def io_chart(results: Sequence[Result]) -> Figure:
    """Return records/s against pages in flight, a panel per added latency, a line per mode."""
    import matplotlib.pyplot as plt

    io = [r for r in results if r.case.scenario == "io"]
    # The latency target's case (async alone at its own latency) has no curve to compare with.
    latencies = sorted({r.case.latency_ms for r in io if r.case.mode == "sync"})
    figure, axes = plt.subplots(
        1, len(latencies), figsize=(4.2 * len(latencies), 3.6), squeeze=False
    )
    for ax, latency in zip(axes[0], latencies, strict=True):
        for mode in IN_PROCESS:
            points = sorted(
                (r.case.in_flight, r.rate.median)
                for r in io
                if r.case.mode == mode and r.case.latency_ms == latency
            )
            if mode == "sync" and points:
                ax.axhline(points[0][1], linestyle="--", color="grey", label="sync (1 at a time)")
            elif points:
                ax.plot(*zip(*points, strict=True), marker="o", label=mode)
        ax.set_xscale("log", base=2)
        ax.set_title(f"{latency:g} ms added latency")
        ax.set_xlabel("pages in flight (threads, processes, tasks)")
        ax.set_ylabel("records/s")
        ax.legend(fontsize=7)
    figure.suptitle("I/O-bound: throughput against concurrency")
    figure.tight_layout()
    return figure


def growth_chart(results: Sequence[Result]) -> Figure:
    """Return time per record and peak memory against records ingested, a line per mode."""
    import matplotlib.pyplot as plt

    growth = [r for r in results if r.case.scenario == "growth"]
    figure, (per_record, memory) = plt.subplots(1, 2, figsize=(10, 3.8))
    for mode in IN_PROCESS:
        runs = sorted((r for r in growth if r.case.mode == mode), key=lambda r: r.case.size)
        sizes = [r.case.size for r in runs]
        per_record.plot(
            sizes, [r.seconds.median / r.case.size * 1e6 for r in runs], marker="o", label=mode
        )
        memory.plot(
            sizes,
            [r.peak_mb.maximum if r.peak_mb else float("nan") for r in runs],
            marker="o",
            label=mode,
        )
    memory.axhline(300, linestyle="--", color="red", label="target: 300 MB")
    for ax, label in ((per_record, "microseconds per record"), (memory, "peak memory (MB)")):
        ax.set_xscale("log")
        ax.set_ylim(bottom=0)
        ax.set_xlabel("records ingested")
        ax.set_ylabel(label)
        ax.legend(fontsize=7, loc="lower right")
    figure.suptitle("Growth: does time per record and memory stay flat?")
    figure.tight_layout()
    return figure


def bars(values: dict[str, float], *, title: str, unit: str) -> Figure:
    """Return ``throughput_bars`` with room for the longest label and readable ticks."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    figure = throughput_bars(values, title=title, unit=unit)
    ax = figure.axes[0]
    ax.margins(x=0.18)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    return figure


def write_timeline(folder: Path, report: RunReport) -> Path:
    """Write one mode's timeline as ``timeline-<mode>.png``."""
    return save(timeline(report), folder / f"timeline-{report.mode}.png")


def write_charts(folder: Path, results: Sequence[Result]) -> list[str]:
    """Write every chart the results allow; return the file names of all charts in the folder."""
    headline_rates = {row.label: row.result.rate.median for row in headline(results)}
    if headline_rates:
        figure = bars(headline_rates, title="End to end: records/s", unit="records/s")
        save(figure, folder / "headline.png")
    scenarios = {r.case.scenario for r in results}
    if "io" in scenarios:
        save(io_chart(results), folder / "io.png")
    for scenario, title in _BARS.items():
        if scenario in scenarios:
            values = {r.case.label: r.rate.median for r in results if r.case.scenario == scenario}
            unit = next(r.case.unit for r in results if r.case.scenario == scenario)
            save(bars(values, title=title, unit=f"{unit}/s"), folder / f"{scenario}.png")
    if "growth" in scenarios:
        save(growth_chart(results), folder / "growth.png")
    order = ["headline", "io", *_BARS, "growth", *(f"timeline-{mode}" for mode in IN_PROCESS)]
    present = {p.stem for p in folder.glob("*.png")}
    return [f"{name}.png" for name in order if name in present]
