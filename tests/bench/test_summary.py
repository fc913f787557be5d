from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from workbench.bench.results import Environment
from workbench.bench.runner import Result
from workbench.bench.summary import headline, processors_table, render_summary, table, threads_note
from workbench.bench.targets import Target, evaluate, load_targets
from workbench.services.common import project_root

TARGETS: list[Target] = load_targets(project_root() / "benchmarks" / "targets.toml")

RateResult = Callable[..., Result]
ENV = Environment(2, "3.11.7", "Linux x86_64", "0.1.0", "18.1", "9.1.0", "1.31.0")


def run(rate_result: RateResult) -> list[Result]:
    """Return an end-to-end run: every mode, both limits and the peer at 100k."""
    found = [
        rate_result("growth", mode, rate, size=100_000, kind="ingest_child", peak_mb=90.0)
        for mode, rate in (
            ("sync", 10_000),
            ("threaded", 20_000),
            ("multiprocess", 15_000),
            ("async", 40_000),
        )
    ]
    found += [
        rate_result("limits", "http_limit", 400_000, size=100_000, kind="http_limit"),
        rate_result("limits", "copy_limit", 100_000, size=100_000, kind="copy_limit", unit="rows"),
        rate_result("limits", "dlt", 4_000, size=100_000, kind="peer"),
    ]
    return found


def render(results: list[Result], plan: str = "full") -> str:
    """Render a summary of ``results``."""
    return render_summary(
        results,
        evaluate(TARGETS, results),
        title="t",
        plan=plan,
        environment=ENV,
        charts=["headline.png", "io.png"],
    )


class TestHeadline:
    """The headline table."""

    def test_rows_are_modes_then_limits_then_the_peer(self, rate_result: RateResult) -> None:
        """Every mode, the two limits and the peer, in that order."""
        labels = [row.label for row in headline(run(rate_result))]
        assert labels[:4] == ["sync", "threaded", "multiprocess", "async"]
        assert labels[4:] == [
            "HTTP limit: raw aiohttp fetch",
            "DB limit: raw COPY",
            "peer: dlt rest_api",
        ]

    def test_speedup_and_share_of_the_limit(self, rate_result: RateResult) -> None:
        """Async at 40k/s is 4.00x sync and 0.40x of the 100k/s pipeline limit."""
        text = render(run(rate_result))
        async_line = next(line for line in text.splitlines() if line.startswith("| async |"))
        assert "| 4.00x | 0.40x | 90 |" in async_line

    def test_the_environment_is_stated(self, rate_result: RateResult) -> None:
        """The summary names the CPUs, Python and the server versions."""
        text = render(run(rate_result))
        assert "2 CPUs" in text and "PostgreSQL 18.1" in text and "Valkey 9.1.0" in text


class TestTargets:
    """A section per target."""

    def test_every_target_has_a_section(self, rate_result: RateResult) -> None:
        """Each target's title appears with its verdict, measured or not."""
        results = run(rate_result)
        text = render(results)
        for outcome in evaluate(TARGETS, results):
            assert f". {outcome.title}" in text
        assert text.count("- measured: ") == len(TARGETS)

    def test_a_missed_target_gets_a_limits_line(self, rate_result: RateResult) -> None:
        """Async at 2.5x below the limit is missed, and the limits line follows it."""
        text = render(run(rate_result))
        section = text.split("Async end to end within 2x")[1].split("###")[0]
        assert "**MISSED**" in section
        limits = next(target.limits for target in TARGETS if target.key == "e2e_vs_limit")
        assert f"- limits: {limits}" in section

    def test_quick_runs_label_the_smaller_versions(self, rate_result: RateResult) -> None:
        """A quick plan's targets say they are the smaller versions."""
        assert "(quick run: the smaller version)" in render(run(rate_result), plan="quick")
        assert "quick run" not in render(run(rate_result))

    def test_without_targets_there_is_no_targets_section(self, rate_result: RateResult) -> None:
        """A run judged by no targets (a plain install) has no targets section."""
        results = run(rate_result)
        text = render_summary(results, [], title="t", plan="full", environment=ENV, charts=[])
        assert "## Speed targets" not in text and "## Headline" in text

    def test_the_environment_line_names_the_locks(self, rate_result: RateResult) -> None:
        """The summary says which locks the run's venvs came from, or that none was recorded."""
        with_locks = replace(ENV, lock="0123456789abcdef", peer_lock="fedcba9876543210")
        text = render_summary(run(rate_result), [], title="t", plan="full", environment=with_locks,
                              charts=[])  # fmt: skip
        assert "lock 0123456789abcdef, peer lock fedcba9876543210." in text
        assert "dlt 1.31.0; lock not recorded." in render(run(rate_result))

    def test_charts_are_linked(self, rate_result: RateResult) -> None:
        """The charts given are linked as images."""
        text = render(run(rate_result))
        assert "![headline.png](headline.png)" in text and "![io.png](io.png)" in text


class TestProcessors:
    """Processors side by side, whichever is faster."""

    def test_each_load_shows_both_rates_and_their_ratio(self, rate_result: RateResult) -> None:
        """Per batch size and end to end: each processor's records/s and pandas over records."""
        results = [
            rate_result("processors", "records", 80_000, kind="process", page_size=100),
            rate_result("processors", "pandas", 20_000, kind="process", page_size=100),
            rate_result("processors", "records", 80_000, kind="process", page_size=10_000),
            rate_result("processors", "pandas", 100_000, kind="process", page_size=10_000),
            rate_result("processors", "async", 40_000),
            rate_result("processors", "async", 30_000, processor="pandas"),
        ]
        text = processors_table(results)
        assert "| load | records records/s | pandas records/s | pandas / records |" in text
        assert "| alone, batches of 100 | 80,000 | 20,000 | 0.25x |" in text
        assert "| alone, batches of 10,000 | 80,000 | 100,000 | 1.25x |" in text
        assert "| end to end, async | 40,000 | 30,000 | 0.75x |" in text
        assert "## Processors" in render(results)

    def test_a_missing_processor_is_a_dash_and_none_means_no_section(
        self, rate_result: RateResult
    ) -> None:
        """A load measured for one processor only has dashes; a run without any, no section."""
        only = [rate_result("processors", "records", 50_000, kind="process", page_size=100)]
        assert "| alone, batches of 100 | 50,000 | - | - |" in processors_table(only)
        assert processors_table(run(rate_result)) == ""
        assert "## Processors" not in render(run(rate_result))


class TestTable:
    """The Markdown table helper."""

    def test_header_separator_and_rows(self) -> None:
        """A table has a header, a separator with a cell per column, then the rows."""
        assert table(("a", "b"), [(1, 2)]) == "| a | b |\n|---|---|\n| 1 | 2 |\n"


class TestThreadsNote:
    """The thread sweep explained from its own numbers."""

    def test_names_where_more_threads_stopped_helping(self, rate_result: RateResult) -> None:
        """A sweep peaking at 8 threads says so, and how far 64 threads fell behind."""
        rates = {1: 1_000, 8: 6_000, 64: 3_000}
        sweep = [
            rate_result(
                "threads",
                "threaded",
                rate,
                concurrency=count,
                latency_ms=20.0,
                page_size=10,
                size=4_000,
            )
            for count, rate in rates.items()
        ]
        note = threads_note(sweep)
        assert "From 1 to 8 threads records/s grew 6.0x" in note
        assert "Past 8 they stop helping: at 64 threads 3,000 records/s, 50% of the best" in note
        assert "GIL" in note

    def test_no_sweep_no_note(self, rate_result: RateResult) -> None:
        """Without a threads scenario there is nothing to explain."""
        assert threads_note(run(rate_result)) == ""


class TestQueueSection:
    """The queue's own section: by workers, over one worker and over async."""

    def test_rows_by_latency_and_workers_with_both_ratios(self, rate_result: RateResult) -> None:
        """Each row shows records/s, the ratio to one worker and to async, then the task cost."""
        results = [
            rate_result("queue", "queue", 400, workers=1, latency_ms=20.0, page_size=10),
            rate_result("queue", "queue", 760, workers=2, latency_ms=20.0, page_size=10),
            rate_result("queue", "async", 4000, concurrency=16, latency_ms=20.0, page_size=10),
            rate_result("queue", "overhead", 5000, kind="queue_overhead", unit="tasks"),
        ]
        text = render(results)
        assert "## Queue: workers on Redis Streams" in text
        assert "| 20 | 2 | 760 | 760-760 | 1.90x | 0.19x |" in text
        assert "cost per task (enqueue, claim, acknowledge; no work): 0.200 ms" in text

    def test_no_queue_results_no_section(self, rate_result: RateResult) -> None:
        """A run without the queue scenario has no queue section."""
        assert "## Queue" not in render([rate_result("io", "sync", 100)])
