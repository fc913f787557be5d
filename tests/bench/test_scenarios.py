from __future__ import annotations

import pytest

from workbench.bench.scenarios import (
    FULL,
    QUICK,
    SCENARIOS,
    Case,
    cases,
    parse_scenarios,
)
from workbench.errors import ConfigError
from workbench.ingestion import DEFAULT_BATCH_ROWS
from workbench.ingestion.modes import IN_PROCESS


class TestPlans:
    """The full and quick plans and their variations."""

    def test_quick_is_smaller_but_keeps_three_repetitions(self) -> None:
        """The quick plan has fewer cases and smaller sizes, and still 3 repetitions."""
        assert QUICK.reps == FULL.reps == 3
        assert len(cases(QUICK)) < len(cases(FULL))
        assert max(QUICK.growth_sizes) < max(FULL.growth_sizes)
        assert QUICK.label == "quick" and FULL.label == "full"

    def test_full_growth_reaches_a_million_and_compares_with_100k(self) -> None:
        """The full plan grows to 1M records and its end-to-end load is 100k, a growth size."""
        assert max(FULL.growth_sizes) == 1_000_000
        assert FULL.e2e_records == 100_000 and FULL.e2e_records in FULL.growth_sizes

    def test_scaling_multiplies_sizes_in_whole_pages(self) -> None:
        """A size factor scales every count, keeps whole pages and the e2e load a growth size."""
        plan = QUICK.scaled(0.1)
        assert plan.size_factor == pytest.approx(0.1)
        assert plan.e2e_records in plan.growth_sizes
        assert all(size % plan.page_size == 0 for size in plan.growth_sizes)
        assert plan.dedup_keys == round(QUICK.dedup_keys * 0.1)
        assert plan.label == "quick x0.1"

    @pytest.mark.parametrize("factor", [0, -1, 11, float("nan")])
    def test_a_bad_size_factor_is_a_config_error(self, factor: float) -> None:
        """A size factor outside (0, 10] is refused with the flag's name."""
        with pytest.raises(ConfigError, match="--size-factor"):
            FULL.scaled(factor)

    def test_fewer_than_three_repetitions_are_refused(self) -> None:
        """Medians of fewer than 3 repetitions mean little: --reps 2 is a config error."""
        with pytest.raises(ConfigError, match="--reps"):
            FULL.with_reps(2)
        assert FULL.with_reps(5).reps == 5


class TestParseScenarios:
    """The --scenario flag."""

    def test_names_come_back_in_canonical_order_without_repeats(self) -> None:
        """Chosen scenarios run in the canonical order whatever order they were given in."""
        assert parse_scenarios("limits, io,io") == ("io", "limits")
        assert parse_scenarios(",".join(SCENARIOS)) == SCENARIOS

    @pytest.mark.parametrize("text", ["nope", "io,nope", "", " , "])
    def test_unknown_or_empty_names_are_a_config_error(self, text: str) -> None:
        """An unknown or empty scenario list names the known scenarios."""
        with pytest.raises(ConfigError, match="known: io, threads, cpu"):
            parse_scenarios(text)


class TestCases:
    """The cases the plans expand to."""

    def test_case_names_are_unique(self) -> None:
        """Every case of a plan has its own name (results.csv is keyed by it)."""
        for plan in (FULL, QUICK, QUICK.scaled(0.1)):
            names = [case.name for case in cases(plan)]
            assert len(names) == len(set(names))

    def test_io_covers_every_mode_at_every_latency(self) -> None:
        """Each added latency is measured in every mode, and the latency target's case is there."""
        io = [c for c in cases(FULL, ("io",))]
        for latency in FULL.io_latencies_ms:
            assert {c.mode for c in io if c.latency_ms == latency} == set(IN_PROCESS)
        target = [c for c in io if c.latency_ms == 50]
        assert [(c.mode, c.pages, c.page_size, c.concurrency) for c in target] == [
            ("async", 500, 10, 50)
        ]

    def test_multiprocess_io_uses_few_processes(self) -> None:
        """Multiprocess I/O cases start the plan's few processes, not one per task."""
        for latency in FULL.io_latencies_ms:
            workers = [
                c.workers
                for c in cases(FULL, ("io",))
                if c.mode == "multiprocess" and c.latency_ms == latency
            ]
            assert tuple(workers) == FULL.io_workers

    def test_one_timeline_case_per_mode(self) -> None:
        """Each mode has exactly one case flagged for its timeline, at 20 ms."""
        flagged = [c for c in cases(FULL) if c.timeline]
        assert sorted(c.mode for c in flagged) == sorted(IN_PROCESS)
        assert {c.latency_ms for c in flagged} == {20.0}

    def test_sync_has_one_page_in_flight(self) -> None:
        """Sync cases are one page at a time, whatever the plan's concurrency."""
        assert all(c.in_flight == 1 for c in cases(FULL) if c.mode == "sync")

    def test_growth_runs_in_child_processes_every_mode_every_size(self) -> None:
        """Growth has every mode at every size, each measured in a child process."""
        growth = cases(FULL, ("growth",))
        assert {(c.mode, c.size) for c in growth} == {
            (mode, size) for mode in IN_PROCESS for size in FULL.growth_sizes
        }
        assert {c.kind for c in growth} == {"ingest_child"}

    def test_without_the_peer_its_case_is_dropped(self) -> None:
        """peer=False (dlt missing) leaves the limits without the dlt case only."""
        with_peer = cases(QUICK, ("limits",))
        without = cases(QUICK, ("limits",), peer=False)
        assert [c.mode for c in with_peer] == ["http_limit", "copy_limit", "dlt"]
        assert [c.mode for c in without] == ["http_limit", "copy_limit"]

    def test_batching_compares_each_mode_with_itself(self) -> None:
        """Every mode twice on the same load: a transaction per page, then the default batches."""
        found = cases(FULL, ("batching",))
        assert [(c.mode, c.batch_rows) for c in found] == [
            (mode, rows) for mode in IN_PROCESS for rows in (1, DEFAULT_BATCH_ROWS)
        ]
        assert {c.size for c in found} == {FULL.batching_records}
        assert {c.label for c in found if c.batch_rows == 1} == {
            f"{m} (batch 1)" for m in IN_PROCESS
        }

    def test_queue_by_workers_and_latency_next_to_async_and_its_cost(self) -> None:
        """Queue with 1, 2 and 4 workers at 0 and 20 ms, async on each load, then the overhead."""
        found = cases(FULL, ("queue",))
        ingest = [(c.mode, c.latency_ms, c.in_flight) for c in found if c.kind == "ingest"]
        assert ingest == [
            (mode, latency, load)
            for latency in (0.0, 20.0)
            for mode, load in (("queue", 1), ("queue", 2), ("queue", 4), ("async", 16))
        ]
        assert {c.size for c in found if c.kind == "ingest"} == {FULL.queue_pages * 10}
        assert [c.name for c in found if c.kind == "ingest"][1] == "queue/queue/2000x10/0ms/w2"
        [overhead] = [c for c in found if c.kind == "queue_overhead"]
        assert (overhead.mode, overhead.unit) == ("overhead", "tasks")
        assert "queue" not in {c.mode for c in cases(FULL) if c.scenario != "queue"}

    def test_every_other_ingestion_uses_the_default_batches(self) -> None:
        """Outside the batching comparison, every mode writes with the same batch size."""
        others = [c for c in cases(FULL) if c.kind.startswith("ingest")]
        assert {c.batch_rows for c in others if c.scenario != "batching"} == {DEFAULT_BATCH_ROWS}

    def test_processors_are_measured_alone_per_batch_size_then_end_to_end(self) -> None:
        """Each processor alone on pages of 100 and larger batches, then both in async."""
        found = cases(FULL, ("processors",))
        assert [(c.kind, c.mode, c.page_size, c.processor) for c in found] == [
            *(
                ("process", name, batch, "records")
                for batch in (100, 1_000, 10_000)
                for name in ("records", "pandas")
            ),
            ("ingest", "async", FULL.page_size, "records"),
            ("ingest", "async", FULL.page_size, "pandas"),
        ]
        assert {c.size for c in found} == {FULL.processor_records}
        assert [c.label for c in found[:2]] == ["records, batches of 100", "pandas, batches of 100"]
        assert [c.label for c in found[-2:]] == ["async", "async (pandas)"]
        assert found[-1].name.endswith("/pandas") and not found[-2].name.endswith("/records")

    def test_processor_batches_never_exceed_the_posts(self) -> None:
        """A scaled-down plan measures batches no larger than the posts it processes."""
        plan = QUICK.scaled(0.05)
        sizes = {c.page_size for c in cases(plan, ("processors",)) if c.kind == "process"}
        assert max(sizes) <= plan.processor_records

    def test_persist_measures_the_upsert_both_ways(self) -> None:
        """Persistence has every strategy on new rows, the upsert updating, and raw COPY."""
        persist = cases(FULL, ("persist",))
        labels = [c.label for c in persist]
        assert labels[-2:] == ["upsert_copy (update)", "copy_limit"]
        assert {"row_by_row", "executemany", "execute_values", "copy", "upsert_copy"} <= set(labels)


class TestIdeal:
    """The ideal wall time of a case with added latency."""

    def test_ideal_is_latency_times_pages_over_pages_in_flight(self) -> None:
        """500 pages at 50 ms with 50 in flight ideally take 0.5 s."""
        case = Case("io", "ingest", "async", 5000, latency_ms=50, concurrency=50, page_size=10)
        assert case.ideal_seconds == pytest.approx(0.5)

    def test_multiprocess_counts_processes_and_sync_one(self) -> None:
        """Multiprocess keeps one page per process in flight; sync one page."""
        multi = Case("io", "ingest", "multiprocess", 1000, latency_ms=20, workers=4, page_size=10)
        sync = Case("io", "ingest", "sync", 1000, latency_ms=20, concurrency=99, page_size=10)
        assert multi.ideal_seconds == pytest.approx(0.02 * 100 / 4)
        assert sync.ideal_seconds == pytest.approx(0.02 * 100)

    def test_no_latency_or_no_ingestion_means_no_ideal(self) -> None:
        """Without added latency, or for a storage case, there is no ideal to compare with."""
        assert Case("io", "ingest", "async", 100).ideal_seconds is None
        assert Case("persist", "write", "copy", 100, latency_ms=5).ideal_seconds is None
