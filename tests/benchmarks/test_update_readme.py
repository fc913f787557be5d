"""benchmarks/update_readme.py: the README's results block from a results folder."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest

from workbench.bench.results import Environment, row_for, write_row
from workbench.bench.runner import Result
from workbench.reliability.accounting import Accounting
from workbench.reliability.runs import Observed
from workbench.reliability.scenarios import SCENARIOS
from workbench.reliability.table import Row, append_row
from workbench.services.common import project_root

_SCRIPT = project_root() / "benchmarks" / "update_readme.py"
_spec = importlib.util.spec_from_file_location("update_readme", _SCRIPT)
assert _spec is not None and _spec.loader is not None
update_readme = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(update_readme)
END, START = update_readme.END, update_readme.START
main, replace_section, results_section = (
    update_readme.main,
    update_readme.replace_section,
    update_readme.results_section,
)

RateResult = Callable[..., Result]
ENV = Environment(2, "3.11.7", "Linux x86_64", "0.1.0", "18.6", "9.1.2", "")


@pytest.fixture
def run_folder(tmp_path: Path, rate_result: RateResult) -> Path:
    """A results folder under tmp_path/benchmarks/results with an end-to-end run."""
    folder = tmp_path / "benchmarks" / "results" / "20260101T000000Z"
    for mode, rate in (("sync", 10_000), ("async", 30_000)):
        result = rate_result("growth", mode, rate, size=1000, kind="ingest_child")
        write_row(folder, row_for(result, run_id="r", plan="full", environment=ENV))
    return folder


class TestReadmeSection:
    """The README's results block."""

    def test_the_section_has_the_headline_targets_and_chart(
        self, run_folder: Path, tmp_path: Path
    ) -> None:
        """The block sits between the markers, links the run relatively, and shows both tables."""
        section = results_section(run_folder, tmp_path)
        assert section.startswith(START) and section.endswith(END)
        assert "(benchmarks/results/20260101T000000Z/summary.md)" in section
        assert (
            "| async | 30,000 |" in section and "| target | measured | bound | status |" in section
        )
        assert "benchmarks/results/20260101T000000Z/headline.png" in section
        assert "dlt not installed" in section

    def test_only_the_block_between_the_markers_is_replaced(self) -> None:
        """Text before and after the markers is kept; the old block is gone."""
        text = f"intro\n{START}\nold numbers\n{END}\noutro\n"
        assert (
            replace_section(text, f"{START}\nnew\n{END}") == f"intro\n{START}\nnew\n{END}\noutro\n"
        )

    def test_main_writes_the_readme(self, run_folder: Path, tmp_path: Path) -> None:
        """Given a README, the command rewrites its results block in place."""
        readme = tmp_path / "README.md"
        readme.write_text(f"# x\n{START}\n{END}\n## Layout\n")
        assert main([str(run_folder), str(readme)]) == 0
        text = readme.read_text()
        assert "| sync | 10,000 |" in text and text.endswith(f"{END}\n## Layout\n")


class TestReliabilitySection:
    """The README's reliability block, from a reliability run's folder."""

    @pytest.fixture
    def reliability_folder(self, tmp_path: Path) -> Path:
        """A reliability run under tmp_path/benchmarks/reliability with two rows."""
        folder = tmp_path / "benchmarks" / "reliability" / "20260101T000000Z"
        for scenario in [s for s in SCENARIOS if s.name in ("sigterm", "redis-kill")]:
            seen = Observed(list(scenario.expected), Accounting(300, 290, 10, 0, 0))
            row = Row.judge(scenario, "async", seen, 5.0)
            append_row(folder, row, run_id="r", plan="full", env=ENV)
        return folder

    def test_the_section_links_the_run_and_shows_every_row(
        self, reliability_folder: Path, tmp_path: Path
    ) -> None:
        """Between its own markers: the link, the verdict, one table line per row."""
        section = update_readme.section_for(reliability_folder, tmp_path)
        assert section.startswith(update_readme.RELIABILITY_START)
        assert section.endswith(update_readme.RELIABILITY_END)
        assert "(benchmarks/reliability/20260101T000000Z/summary.md)" in section
        assert "All 2 rows passed" in section
        assert "| sigterm | async | 300 | 290 | 10 | 0 | 0 | 143 → 0 |" in section

    def test_main_replaces_only_the_reliability_block(
        self, reliability_folder: Path, tmp_path: Path
    ) -> None:
        """The benchmark's block is left as it was; the reliability block is rewritten."""
        readme = tmp_path / "README.md"
        start, end = update_readme.RELIABILITY_START, update_readme.RELIABILITY_END
        readme.write_text(f"{START}\nbench\n{END}\n{start}\nold\n{end}\n## Layout\n")
        assert main([str(reliability_folder), str(readme)]) == 0
        text = readme.read_text()
        assert text.startswith(f"{START}\nbench\n{END}\n{start}\nFrom the run in ")
        assert "old" not in text and text.endswith(f"{end}\n## Layout\n")
