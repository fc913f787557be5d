"""Plots shared by the notebooks and ``workbench bench``: timelines and throughput bars.

A timeline draws every page's fetch and processing as bars over time, one row per worker
(thread, process or task), and the writers' batches (dedup, then persist) in rows of their
own, one per writer the run was given (``writer``, or ``writer_0``, ``writer_1`` when batches
are written on several connections at once), so a mode's concurrency, and how writing
overlaps fetching, are visible at a glance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from workbench.ingestion.report import WRITER, PageSpan, RunReport, writer_names

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

STAGE_COLOURS = {
    "fetch": "#4C72B0",
    "process": "#DD8452",
    "dedup": "#8172B3",
    "persist": "#55A868",
}
#: The stages a writer runs once per batch, drawn in that writer's own row.
WRITER_STAGES = ("dedup", "persist")


def _worker_order(spans: Iterable[PageSpan]) -> list[str]:
    """Return worker names in the order they first started work."""
    first: dict[str, float] = {}
    for span in spans:
        first[span.worker] = min(first.get(span.worker, span.fetch[0]), span.fetch[0])
    return sorted(first, key=lambda name: (first[name], name))


def writer_rows(report: RunReport) -> list[str]:
    """Return the report's writer rows: one per write connection, then any other writer seen.

    A row per connection, not per writer that happened to write: with quick writes one thread
    may take every batch, and the timeline still shows the run had two. Workers elsewhere (a
    queue's) write with writers of their own, named the same way.
    """
    rows = list(writer_names(report.write_connections))
    seen = {span.writer or WRITER for span in report.spans if span.persist is not None}
    return rows + sorted(seen.difference(rows))


def draw_timeline(ax: Axes, report: RunReport, *, max_workers: int = 64) -> None:
    """Draw ``report``'s page spans on ``ax``: a row per worker, then a row per writer."""
    workers = [*_worker_order(report.spans)[:max_workers], *writer_rows(report)]
    rows = {name: index for index, name in enumerate(workers)}
    for stage, colour in STAGE_COLOURS.items():
        drawn: set[tuple[str, tuple[float, float]]] = set()  # a batch's pages share its bars
        for span in report.spans:
            interval = getattr(span, stage)
            writing = stage in WRITER_STAGES
            row = (span.writer or WRITER) if writing else span.worker
            if interval is None or row not in rows or (row, interval) in drawn:
                continue
            if writing:
                drawn.add((row, interval))
            start, end = interval
            ax.broken_barh([(start, max(end - start, 1e-4))], (rows[row] - 0.4, 0.8),
                           facecolors=colour)  # fmt: skip
    ax.set_yticks(range(len(workers)), labels=workers, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the run started")
    ax.set_title(f"{report.mode}: {report.pages} pages in {report.seconds:.2f} s")
    handles = [_patch(colour, stage) for stage, colour in STAGE_COLOURS.items()]
    ax.legend(handles=handles, loc="upper right", fontsize=7)


def _patch(colour: str, label: str) -> Any:
    """Return a legend patch."""
    from matplotlib.patches import Patch

    return Patch(facecolor=colour, label=label)


def _rows(report: RunReport) -> int:
    """Return how many rows ``report``'s timeline has: its workers and its writers."""
    return len(_worker_order(report.spans)) + len(writer_rows(report))


def timeline(report: RunReport, *, width: float = 10.0) -> Figure:
    """Return a figure with one run's timeline."""
    import matplotlib.pyplot as plt

    rows = _rows(report)
    figure, ax = plt.subplots(figsize=(width, min(1.5 + 0.25 * rows, 12)))
    draw_timeline(ax, report)
    figure.tight_layout()
    return figure


def timelines(reports: Sequence[RunReport], *, width: float = 10.0) -> Figure:
    """Return one figure with a timeline per run, stacked, sharing the time axis."""
    import matplotlib.pyplot as plt

    heights = [1.5 + 0.2 * _rows(r) for r in reports]
    figure, axes = plt.subplots(
        len(reports), 1, figsize=(width, min(sum(heights), 30)), sharex=True, squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )  # fmt: skip
    for ax, report in zip(axes[:, 0], reports, strict=True):
        draw_timeline(ax, report)
    figure.tight_layout()
    return figure


def throughput_bars(values: Mapping[str, float], *, title: str, unit: str = "records/s") -> Figure:
    """Return a horizontal bar chart of one number per label (e.g. records/s per mode)."""
    import matplotlib.pyplot as plt

    labels = list(values)
    figure, ax = plt.subplots(figsize=(7, 0.6 + 0.45 * len(labels)))
    ax.barh(labels, [values[label] for label in labels], color="#4C72B0")
    ax.invert_yaxis()
    ax.set_xlabel(unit)
    ax.set_title(title)
    for index, label in enumerate(labels):
        ax.annotate(f"{values[label]:,.0f}", (values[label], index), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=8)  # fmt: skip
    figure.tight_layout()
    return figure


def grouped_bars(
    values: Mapping[str, Mapping[str, float]],
    *,
    title: str,
    unit: str = "count",
    fmt: str = "{:,.0f}",
    reference: float | None = None,
) -> Figure:
    """Return a horizontal bar chart of several numbers per label, one colour per series.

    ``values`` maps each series (e.g. "faults injected") to its number per label (e.g. per
    mode); a label missing from a series draws no bar there. ``fmt`` labels each bar;
    ``reference`` draws a dashed line at that value (e.g. 1 for speed-ups over a baseline).
    """
    import matplotlib.pyplot as plt

    series = list(values)
    labels = list(dict.fromkeys(label for numbers in values.values() for label in numbers))
    height = 0.8 / max(1, len(series))
    figure, ax = plt.subplots(figsize=(9, 0.8 + 0.3 * len(labels) * len(series)))
    for position, name in enumerate(series):
        rows = [i + position * height for i, label in enumerate(labels) if label in values[name]]
        numbers = [values[name][label] for label in labels if label in values[name]]
        bars = ax.barh(rows, numbers, height=height, label=name)
        ax.bar_label(bars, fmt=fmt, padding=3, fontsize=8)
    if reference is not None:
        ax.axvline(reference, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks([i + height * (len(series) - 1) / 2 for i in range(len(labels))], labels)
    ax.invert_yaxis()
    ax.set_xlabel(unit)
    ax.set_title(title)
    # Beside the bars, not over them: the longest bar may end anywhere.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    figure.tight_layout()
    return figure
