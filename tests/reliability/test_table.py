"""The table: rows judged, appended as CSV, read back, shown as Markdown and as a frame."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.bench.results import Environment
from workbench.reliability.accounting import Accounting
from workbench.reliability.runs import Observed
from workbench.reliability.scenarios import SCENARIOS, Scenario
from workbench.reliability.table import (
    Row,
    append_row,
    frame,
    latest_run,
    load_run,
    markdown,
    summary,
)

ENV = Environment(2, "3.11.7", "Linux x86_64", "0.1.0", "18.6", "9.1.2", "")
SIGTERM = next(s for s in SCENARIOS if s.name == "sigterm")
BALANCED = Accounting(served=300, landed=290, rejected=10, duplicated=0, lost=0)


def judged(scenario: Scenario = SIGTERM, statuses: tuple[int, ...] = (143, 0),
           counts: Accounting = BALANCED, problems: tuple[str, ...] = ()) -> Row:  # fmt: skip
    """Judge a row of ``scenario`` in sync mode from what its runs did."""
    seen = Observed(list(statuses), counts, list(problems), ["stopped after 12 pages"])
    return Row.judge(scenario, "sync", seen, 4.25)


class TestJudge:
    """A row's verdict."""

    def test_a_balanced_row_with_the_expected_statuses_passes(self) -> None:
        """Nothing lost or doubled, statuses as expected: the row passes, notes joined."""
        row = judged()
        assert row.passed and row.failures == ()
        assert row.note == f"{SIGTERM.note}; stopped after 12 pages"

    @pytest.mark.parametrize(
        ("statuses", "counts", "problems", "failure"),
        [
            ((143, 0), Accounting(300, 289, 10, 0, 1), (), "1 lost"),
            ((143, 0), Accounting(300, 300, 0, 2, 0), (), "2 duplicated"),
            ((0,), BALANCED, (), "exit 0, expected 143 → 0"),
            ((143, 0), BALANCED, ("the killed run is 'running'",), "the killed run"),
        ],
    )
    def test_a_loss_a_duplicate_a_status_or_a_problem_fails_it(
        self, statuses: tuple[int, ...], counts: Accounting, problems: tuple[str, ...],
        failure: str,
    ) -> None:  # fmt: skip
        """Each of the four reasons alone fails the row, and is named."""
        row = judged(statuses=statuses, counts=counts, problems=problems)
        assert not row.passed
        assert any(f.startswith(failure) for f in row.failures), row.failures

    def test_a_crashed_scenario_fails_with_its_reason(self) -> None:
        """A runner that raised gives a failed row without counts."""
        row = Row.crashed(SIGTERM, "async", RuntimeError("no\nserver"), 1.0)
        assert not row.passed and row.served is None
        assert row.failures == ("could not run: RuntimeError: no server",)


class TestFiles:
    """results.csv and the Markdown made from it."""

    def test_rows_round_trip_through_the_csv(self, tmp_path: Path) -> None:
        """Appended rows read back equal, with the plan and the environment."""
        rows = [judged(), judged(statuses=(0,)), Row.crashed(SIGTERM, "async", OSError("x;y"), 1)]
        for row in rows:
            append_row(tmp_path, row, run_id="r1", plan="quick", env=ENV)
        run = load_run(tmp_path)
        assert (run.rows, run.plan, run.environment) == (rows, "quick", ENV)
        assert not run.passed

    def test_an_empty_folder_has_no_run(self, tmp_path: Path) -> None:
        """Reading a folder without results is an error, not an empty table."""
        with pytest.raises(FileNotFoundError):
            load_run(tmp_path)

    def test_the_latest_full_run_is_found_and_local_ones_only_when_asked(
        self, tmp_path: Path
    ) -> None:
        """A newer local run is passed over unless asked for; no run at all is None."""
        assert latest_run(tmp_path) is None
        for name, plan in (("20260101T000000Z", "full"), ("local-20260102T000000Z", "quick")):
            append_row(tmp_path / name, judged(), run_id="r", plan=plan, env=ENV)
        assert latest_run(tmp_path).plan == "full"  # type: ignore[union-attr]
        assert latest_run(tmp_path, local=True).plan == "quick"  # type: ignore[union-attr]

    def test_markdown_marks_and_explains_a_failed_row(self) -> None:
        """A passed row is plain; a failed one is marked and says why, counts with commas."""
        table = markdown([judged(), judged(counts=Accounting(3000, 2999, 0, 0, 1))])
        lines = table.splitlines()
        assert lines[0].startswith("| scenario | mode | served | landed | rejected |")
        assert lines[2].startswith("| sigterm | sync | 300 | 290 | 10 | 0 | 0 | 143 → 0 | 4.2 |")
        assert lines[3].startswith("| **✗ sigterm** | sync | 3,000 | 2,999 | 0 | 0 | 1 |")
        assert "**FAILED: 1 lost**" in lines[3]

    def test_the_summary_says_where_it_ran_and_the_verdict(self, tmp_path: Path) -> None:
        """The summary names the plan and the servers, then the verdict, then the table."""
        append_row(tmp_path, judged(), run_id="r1", plan="full", env=ENV)
        text = summary(load_run(tmp_path))
        assert text.startswith("Full plan, 2 CPUs, Python 3.11.7, PostgreSQL 18.6, Valkey 9.1.2")
        assert "All 1 rows passed" in text and "| sigterm | sync |" in text

    def test_the_frame_has_a_line_per_row(self) -> None:
        """The notebook's table: one line per row, the statuses as text."""
        table = frame([judged(), judged(statuses=(1,))])
        assert list(table["exit status"]) == ["143 → 0", "1"]
        assert list(table["passed"]) == [True, False]
        assert {"served", "landed", "rejected", "duplicated", "lost"} <= set(table.columns)
