"""Timelines and bar charts drawn from run reports."""

from __future__ import annotations

from dataclasses import replace

from workbench.ingestion.report import PageSpan, RunReport
from workbench.plots import grouped_bars, throughput_bars, timeline, timelines, writer_rows


def report(mode: str, workers: int, writers: int = 0) -> RunReport:
    """A report with two pages per worker, written in batches of two pages.

    ``writers`` above 0 names the batches' writers ``writer_0``... in turn and gives the run
    that many write connections; 0 leaves them unnamed, on one connection.
    """
    run = RunReport(
        "r1", mode, "local", ("posts",), write_connections=writers or 1, pages=2 * workers,
        seconds=1.0,
    )  # fmt: skip
    for index in range(2 * workers):
        start = index * 0.1
        batch = 0.2 * (index // 2) + 0.1  # two pages share their batch's dedup and persist
        run.spans.append(
            PageSpan(
                "posts",
                index + 1,
                f"w{index % workers}",
                (start, start + 0.05),
                (start + 0.05, start + 0.06),
                (batch, batch + 0.02),
                (batch + 0.02, batch + 0.1),
                f"writer_{index // 2 % writers}" if writers else None,
            )
        )
    return run


class TestTimeline:
    """A row per worker for fetching and processing, and one for the writer's batches."""

    def test_rows_are_workers_then_the_writer(self) -> None:
        """Three workers and the writer give four rows; the writer draws each batch once."""
        figure = timeline(report("threaded", 3))
        ax = figure.axes[0]
        labels = [label.get_text() for label in ax.get_yticklabels()]
        assert labels == ["w0", "w1", "w2", "writer"]
        assert len(ax.collections) == 6 * 2 + 3 * 2  # fetch, process per page; two per batch
        assert "threaded: 6 pages" in ax.get_title()

    def test_each_writer_gets_a_row_of_its_own(self) -> None:
        """Batches written on two connections land in two writer rows, each drawn once."""
        figure = timeline(report("async_processes", 3, writers=2))
        ax = figure.axes[0]
        labels = [label.get_text() for label in ax.get_yticklabels()]
        assert labels == ["w0", "w1", "w2", "writer_0", "writer_1"]
        assert len(ax.collections) == 6 * 2 + 3 * 2
        boxes = ax.collections[-6:]  # the last two stages drawn: each batch's dedup and persist
        assert {round(box.get_paths()[0].vertices[:, 1].mean()) for box in boxes} == {3, 4}

    def test_a_writer_handed_no_batch_still_has_its_row(self) -> None:
        """Two write connections give two writer rows even when one thread wrote every batch."""
        run = report("async", 2, writers=1)
        run.write_connections = 2
        assert writer_rows(run) == ["writer_0", "writer_1"]
        labels = [label.get_text() for label in timeline(run).axes[0].get_yticklabels()]
        assert labels == ["w0", "w1", "writer_0", "writer_1"]

    def test_a_writer_not_among_the_connections_gets_a_row_after_them(self) -> None:
        """Spans naming a writer outside the run's own (a worker's elsewhere) add its row last."""
        run = report("queue", 2)
        run.spans[0] = replace(run.spans[0], writer="writer_7")
        assert writer_rows(run) == ["writer", "writer_7"]

    def test_timelines_stack_one_axis_per_run(self) -> None:
        """Several runs share one figure, one axis each."""
        figure = timelines([report("sync", 1), report("async", 4)])
        assert [ax.get_title().split(":")[0] for ax in figure.axes] == ["sync", "async"]


class TestBars:
    """Throughput bars."""

    def test_one_bar_per_label(self) -> None:
        """Each label gets a bar whose length is its value."""
        figure = throughput_bars({"sync": 10.0, "async": 40.0}, title="t")
        widths = [patch.get_width() for patch in figure.axes[0].patches]
        assert widths == [10.0, 40.0]

    def test_grouped_bars_draw_each_series_per_label(self) -> None:
        """Each series gets a bar per label it has, in series order, labels on the y axis."""
        values = {"faults": {"sync": 3.0, "async": 5.0}, "retries": {"sync": 2.0, "async": 4.0}}
        figure = grouped_bars(values, title="t")
        ax = figure.axes[0]
        assert [patch.get_width() for patch in ax.patches] == [3.0, 5.0, 2.0, 4.0]
        assert [tick.get_text() for tick in ax.get_yticklabels()] == ["sync", "async"]
        assert [text.get_text() for text in ax.get_legend().get_texts()] == ["faults", "retries"]

    def test_grouped_bars_format_and_reference_line(self) -> None:
        """Bars are labelled with ``fmt``, and ``reference`` draws one dashed line at its value."""
        speedups = {"I/O": {"sync": 1.0, "async": 4.0}, "CPU": {"sync": 1.0, "async": 0.9}}
        figure = grouped_bars(speedups, title="t", fmt="{:.2f}x", reference=1.0)
        ax = figure.axes[0]
        assert [text.get_text() for text in ax.texts] == ["1.00x", "4.00x", "1.00x", "0.90x"]
        assert [line.get_xdata()[0] for line in ax.lines] == [1.0]
