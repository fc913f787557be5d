"""``workbench bench`` as a user runs it: a small quick run, the files it writes, bad flags."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.bench.results import COLUMNS, RESULTS_FILE, load_results, read_rows
from workbench.bench.scenarios import SCENARIOS
from workbench.bench.suite import PEER_SKIPPED
from workbench.bench.targets import evaluate, load_targets
from workbench.commands.bench import DEFAULT_TARGETS
from workbench.ingestion.modes import IN_PROCESS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def bench(
    env: dict[str, str], *flags: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m workbench bench --no-progress`` with ``flags``."""
    command = [sys.executable, "-m", "workbench", "bench", "--no-progress", *flags]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def env(postgres_dsn: str, redis_url: str) -> dict[str, str]:
    """The environment pointing the command at the test database and Redis."""
    return {**os.environ, "WORKBENCH_POSTGRES_DSN": postgres_dsn, "WORKBENCH_REDIS_URL": redis_url}


def check_csv(folder: Path) -> None:
    """Every scenario and mode is there, medians lie in their ranges, rows carry the environment."""
    with (folder / RESULTS_FILE).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and list(rows[0]) == list(COLUMNS)
    assert {row["scenario"] for row in rows} == set(SCENARIOS)
    for scenario in ("io", "cpu", "growth"):
        assert {row["mode"] for row in rows if row["scenario"] == scenario} == set(IN_PROCESS)
    for row in rows:
        assert all(
            row[column] for column in COLUMNS if column.startswith("env_") and column != "env_dlt"
        )
        assert int(row["reps"]) == 3 == len(row["samples"].split(";"))
        for measure in ("seconds", "rate", "peak_mb"):
            if row[f"{measure}_median"]:
                low, mid, high = (float(row[f"{measure}_{s}"]) for s in ("min", "median", "max"))
                assert low <= mid <= high, (row["case"], measure)
        assert row["plan"] == "quick x0.2"


def check_charts(folder: Path) -> None:
    """The charts, a timeline per mode among them, are real PNG files."""
    names = {
        "headline",
        "io",
        "cpu",
        "persist",
        "dedup",
        "growth",
        *(f"timeline-{m}" for m in IN_PROCESS),
    }
    for name in names:
        assert (folder / f"{name}.png").read_bytes().startswith(PNG_SIGNATURE), name


def check_summary(folder: Path) -> None:
    """summary.md has the headline, a section per target (labelled quick) and the peer's fate."""
    text = (folder / "summary.md").read_text()
    results = load_results(read_rows(folder))
    assert "## Headline" in text and "| async |" in text
    targets = load_targets(DEFAULT_TARGETS)
    for outcome in evaluate(targets, results):
        assert f". {outcome.title} (quick run: the smaller version)" in text
    assert text.count("- measured: ") == len(targets)
    assert PEER_SKIPPED in text or "| peer: dlt rest_api |" in text
    assert "![timeline-async.png](timeline-async.png)" in text


class TestBenchCommand:
    """Whole runs from the command line."""

    @pytest.mark.slow
    def test_a_small_quick_run_writes_complete_consistent_results(
        self, env: dict[str, str], tmp_path: Path
    ) -> None:
        """--quick at a fifth of its sizes exits 0 and writes the CSV, the PNGs and summary.md."""
        folder = tmp_path / "run"
        done = bench(env, "--quick", "--size-factor", "0.2", "--out", str(folder), timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.rstrip().endswith(f"results: {folder}")
        check_csv(folder)
        check_charts(folder)
        check_summary(folder)

    def test_runs_append_to_one_folder(self, env: dict[str, str], tmp_path: Path) -> None:
        """Two invocations into one --out append their rows; the summary covers both."""
        folder = tmp_path / "run"
        for scenario in ("dedup", "persist"):
            done = bench(
                env,
                "--quick",
                "--size-factor",
                "0.05",
                "--scenario",
                scenario,
                "--out",
                str(folder),
            )
            assert done.returncode == 0, done.stderr[-2000:]
        scenarios = [row["scenario"] for row in read_rows(folder)]
        assert set(scenarios) == {"dedup", "persist"}
        text = (folder / "summary.md").read_text()
        assert "### dedup" in text and "### persist" in text

    @pytest.mark.parametrize(
        ("flags", "message"),
        [
            (("--scenario", "nope"), "--scenario: unknown"),
            (("--reps", "2"), "--reps: expected at least 3"),
            (("--size-factor", "0"), "--size-factor: expected a number"),
            (("--size-factor", "many"), "invalid float value"),
        ],
    )
    def test_bad_flags_exit_2_with_one_line(
        self, env: dict[str, str], flags: tuple[str, ...], message: str
    ) -> None:
        """A bad flag ends with exit status 2 and a single line on stderr naming it."""
        done = bench(env, *flags)
        assert done.returncode == 2
        assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr
