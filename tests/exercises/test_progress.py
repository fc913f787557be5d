from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from workbench.exercises import find, progress
from workbench.exercises.results import Behaviour, Grade


@pytest.fixture(autouse=True)
def progress_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep progress in a temporary file."""
    path = tmp_path / "state" / "exercises.json"
    monkeypatch.setenv(progress.PROGRESS_ENV, str(path))
    return path


def grade(passing: int, total: int) -> Grade:
    """A retry grade with ``passing`` of ``total`` behaviours passed."""
    behaviours = tuple(
        Behaviour("g", f"b{i}", f"test_{i}", i < passing, "" if i < passing else "why")
        for i in range(total)
    )
    return Grade(find("retry"), "your notebook", behaviours)


class TestProgress:
    """The learner's progress file."""

    def test_records_each_check_and_counts_them(self, progress_path: Path) -> None:
        """Each check replaces the last grade and adds one to the count of checks."""
        progress.record(grade(3, 10), now=datetime(2026, 11, 30, tzinfo=UTC))
        entry = progress.record(grade(4, 10), now=datetime(2026, 12, 1, tzinfo=UTC))
        assert progress_path.is_file()
        assert progress.load()["retry"] == entry
        assert (entry["passing"], entry["behaviours"], entry["checks"]) == (4, 10, 2)
        assert entry["solved"] is False and entry["first_solved"] is None

    def test_solved_once_is_remembered(self) -> None:
        """A later failing check keeps the date the exercise was first solved."""
        progress.record(grade(10, 10), now=datetime(2026, 11, 30, tzinfo=UTC))
        entry = progress.record(grade(9, 10), now=datetime(2026, 12, 2, tzinfo=UTC))
        assert entry["first_solved"] == "2026-11-30T00:00:00+00:00"
        assert progress.describe(entry) == "9/10 passing (solved before, 2026-11-30)"

    def test_describes_every_state(self) -> None:
        """Not tried, partly passing and solved read as such."""
        assert progress.describe(None) == "not tried"
        assert progress.describe(progress.record(grade(2, 5))) == "2/5 passing"
        stamp = datetime(2026, 11, 30, tzinfo=UTC)
        assert progress.describe(progress.record(grade(5, 5), now=stamp)) == "solved (2026-11-30)"

    def test_a_missing_or_corrupt_file_is_no_progress(self, progress_path: Path) -> None:
        """Nothing recorded yet, or a file that is not JSON, reads as empty progress."""
        assert progress.load() == {}
        progress_path.parent.mkdir(parents=True)
        progress_path.write_text("{not json")
        assert progress.load() == {}
