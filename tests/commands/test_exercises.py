"""``workbench exercises``: list the exercises, grade stubs and answers as a learner would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.exercises import catalog, find, progress
from workbench.exercises.catalog import EXERCISES, Exercise
from workbench.main import main


@pytest.fixture
def progress_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep progress, in this process and its children, in a temporary file."""
    path = tmp_path / "exercises.json"
    monkeypatch.setenv(progress.PROGRESS_ENV, str(path))
    return path


def workbench(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m workbench ARGS`` to the end, capturing its text output."""
    command = [sys.executable, "-m", "workbench", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=600, env=os.environ.copy()
    )


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
class TestCheck:
    """``workbench exercises check`` on each exercise, in a process of its own."""

    def test_the_untouched_stub_fails_every_behaviour_with_a_reason(
        self, exercise: Exercise, progress_path: Path
    ) -> None:
        """Checking the exercise notebook as shipped exits 1, every behaviour failed and why."""
        shipped = os.path.relpath(exercise.notebook_path)
        run = workbench("exercises", "check", exercise.name, shipped, "--json")
        assert run.returncode == 1, run.stderr
        grade = json.loads(run.stdout)
        assert grade["origin"] == shipped
        behaviours = grade["behaviours"]
        assert behaviours and not any(b["passed"] for b in behaviours)
        for b in behaviours:
            assert "still the stub" in b["message"] or "defines no" in b["message"], b
            assert b["hint"] and b["name"]
        assert progress.load()[exercise.name]["passing"] == 0

    def test_the_model_answer_passes_every_behaviour(
        self, exercise: Exercise, progress_path: Path
    ) -> None:
        """Checking the model answer exits 0, lists every behaviour as passed, records nothing."""
        run = workbench("exercises", "check", exercise.name, "--model-answer")
        assert run.returncode == 0, run.stdout + run.stderr
        assert "FAIL" not in run.stdout
        assert f"{exercise.name} (the model answer): " in run.stdout
        assert run.stdout.count("  PASS  ") >= 8
        assert not progress_path.exists()


class TestCheckAFile:
    """Answers in files of the learner's own."""

    def test_a_correct_file_passes_and_counts_as_solved(
        self, tmp_path: Path, progress_path: Path
    ) -> None:
        """A .py answer that passes exits 0, and `list` then shows the exercise solved."""
        answer = tmp_path / "dedup_answer.py"
        answer.write_text("from workbench.exercises.solutions.dedup import *\n")
        run = workbench("exercises", "check", "08", str(answer))
        assert run.returncode == 0, run.stdout + run.stderr
        listing = workbench("exercises", "list")
        assert listing.returncode == 0
        dedup = next(line for line in listing.stdout.splitlines() if " dedup " in line)
        assert "solved (" in dedup
        retry = next(line for line in listing.stdout.splitlines() if " retry " in line)
        assert retry.endswith("not tried")

    def test_an_answer_that_does_not_run_exits_1_saying_why(
        self, tmp_path: Path, progress_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A syntax error is reported on one line, exit status 1, nothing graded."""
        answer = tmp_path / "broken.py"
        answer.write_text("def filter_unseen(:\n")
        assert main(["exercises", "check", "dedup", str(answer)]) == 1
        err = capsys.readouterr().err
        assert "does not run: SyntaxError" in err and len(err.strip().splitlines()) == 1
        assert not progress_path.exists()


class TestStart:
    """A learner's own copy of an exercise notebook."""

    @pytest.fixture
    def folder(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        """An exercises folder holding the shipped dedup notebook, in place of the real one."""
        exercise = find("dedup")
        shutil.copyfile(exercise.notebook_path, tmp_path / exercise.notebook_path.name)
        monkeypatch.setattr(catalog, "exercises_dir", lambda: tmp_path)
        return tmp_path

    def test_start_copies_the_notebook_and_check_grades_the_copy(
        self, folder: Path, progress_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The copy is made beside the notebook, and check with no PATH grades the copy."""
        assert main(["exercises", "start", "dedup"]) == 0
        copy = folder / "08-Redis-Dedup.mine.ipynb"
        assert copy.read_bytes() == (folder / "08-Redis-Dedup.ipynb").read_bytes()
        assert main(["exercises", "check", "dedup", "--json", "-k", "empty"]) == 1
        grade = json.loads(capsys.readouterr().out.split("\n", 1)[1])
        assert grade["origin"].endswith("08-Redis-Dedup.mine.ipynb")

    def test_start_keeps_an_existing_copy_unless_forced(
        self, folder: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A second start refuses to overwrite the learner's work; --force starts over."""
        copy = folder / "08-Redis-Dedup.mine.ipynb"
        copy.write_text("my work")
        assert main(["exercises", "start", "dedup"]) == 2
        assert "exists" in capsys.readouterr().err and copy.read_text() == "my work"
        assert main(["exercises", "start", "dedup", "--force"]) == 0
        assert copy.read_text() != "my work"


class TestUsage:
    """Bad names, paths and flags."""

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["check", "nope"], "exercise 'nope': expected one of retry"),
            (["check", "retry", "missing.py"], "no such file"),
            (["check", "retry", "x.py", "--model-answer"], "not both"),
        ],
    )
    def test_mistakes_are_one_line_and_exit_2(
        self, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An unknown exercise, a missing file or PATH with --model-answer: one line, exit 2."""
        assert main(["exercises", *args]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1

    def test_lists_every_exercise(
        self, progress_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`list` shows each exercise's number, name, title and progress, then how to check."""
        assert main(["exercises", "list"]) == 0
        lines = capsys.readouterr().out.splitlines()
        for exercise, line in zip(EXERCISES, lines, strict=False):
            assert line.startswith(f"{exercise.number:02d}  {exercise.name} ")
            assert exercise.title in line and line.endswith("not tried")
        assert "workbench exercises check NAME [PATH]" in lines[-1]
