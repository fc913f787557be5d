"""The practice track's notebooks: their shape, their links, and papermill runs of each.

Each exercise notebook runs twice: as shipped, its grading cell must fail on the stub;
with its ``model_answer_parameters`` it must pass. Each model-answer notebook runs too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import papermill
import pytest

from workbench.commands.lab import START_PAGE
from workbench.exercises import progress
from workbench.exercises.catalog import EXERCISES, Exercise
from workbench.notebooks_run import execute
from workbench.services.common import project_root

NOTEBOOKS = project_root() / "notebooks"
TEACHING = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
LINK = re.compile(r"\]\(([^)#\s]+\.ipynb)\)")


def load(path: Path) -> dict[str, Any]:
    """Read a notebook's JSON."""
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict[str, Any]) -> str:
    """Return a cell's source as one string."""
    return "".join(cell["source"])


def tags(cell: dict[str, Any]) -> list[str]:
    """Return a cell's tags."""
    return list(cell.get("metadata", {}).get("tags", []))


def links(path: Path) -> list[str]:
    """Return the notebook links in a notebook's markdown cells."""
    cells = load(path)["cells"]
    return [m for c in cells if c["cell_type"] == "markdown" for m in LINK.findall(source(c))]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run a notebook with papermill from its own folder; progress goes to a temporary file."""
    monkeypatch.setenv(progress.PROGRESS_ENV, str(tmp_path / "exercises.json"))

    def run(path: Path, **parameters: Any) -> Any:
        return execute(path, tmp_path / path.name, parameters=parameters, timeout=600)

    return run


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
class TestExerciseNotebook:
    """One exercise notebook."""

    def test_structure(self, exercise: Exercise) -> None:
        """Title, parameters, one answer cell, a hint ladder and a grading cell, no outputs."""
        notebook = load(exercise.notebook_path)
        cells = notebook["cells"]
        code = [c for c in cells if c["cell_type"] == "code"]
        assert source(cells[0]).startswith(f"# Exercise {exercise.number:02d} · {exercise.title}")
        assert tags(code[0]) == ["parameters"] and "USE_MODEL_ANSWER = False" in source(code[0])
        assert [tags(c) for c in code].count(["answer"]) == 1
        assert any(source(c).count("<details>") >= 3 for c in cells if c["cell_type"] == "markdown")
        assert set(tags(code[-1])) == {"grading", "raises-exception"}
        assert f'check("{exercise.name}", globals()' in source(code[-1])
        assert notebook["metadata"]["workbench"]["exercise"] == exercise.name
        assert not any(c.get("outputs") for c in code), "commit exercise notebooks unrun"

    def test_links_its_teaching_notebook_and_model_answer(self, exercise: Exercise) -> None:
        """The exercise links the notebook it practises and its model answer."""
        found = links(exercise.notebook_path)
        assert f"../{exercise.practises}.ipynb" in found
        assert f"solutions/{exercise.answer_notebook_path.name}" in found

    def test_the_model_answer_passes_the_grading_cell(self, exercise: Exercise, run: Any) -> None:
        """Run with the model answer, every cell passes and the grade says all passed."""
        parameters = load(exercise.notebook_path)["metadata"]["workbench"]
        executed = run(exercise.notebook_path, **parameters["model_answer_parameters"])
        shown = json.dumps(executed.cells[-1]["outputs"])
        assert re.search(r"the model answer\): (\d+) of \1 behaviours pass", shown)

    def test_the_stub_fails_the_grading_cell(self, exercise: Exercise, run: Any) -> None:
        """Run as shipped, the grading cell raises ExerciseFailed: no behaviour passes."""
        with pytest.raises(papermill.PapermillExecutionError) as failed:
            run(exercise.notebook_path)
        assert failed.value.ename == "ExerciseFailed"
        assert f"{exercise.name} (your notebook): 0 of " in failed.value.evalue


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
class TestAnswerNotebook:
    """One model-answer notebook."""

    def test_structure(self, exercise: Exercise) -> None:
        """It links back, has the interview sections and ends proving the answer passes."""
        path = exercise.answer_notebook_path
        cells = load(path)["cells"]
        assert source(cells[0]).startswith(f"# Model answer {exercise.number:02d} · ")
        assert f"../{exercise.notebook}.ipynb" in links(path)
        text = "\n".join(source(c) for c in cells if c["cell_type"] == "markdown")
        for section in ("## Say this first", "## The code", "## Trade-offs", "## Follow-up"):
            assert section in text, section
        assert tags(cells[-1]) == ["checks"]
        assert f'check("{exercise.name}", model_answer=True)' in source(cells[-1])

    def test_runs(self, exercise: Exercise, run: Any) -> None:
        """It runs under papermill from a fresh kernel without a cell error."""
        run(exercise.answer_notebook_path)


class TestLinks:
    """How the two tracks point at each other."""

    def test_every_notebook_link_resolves(self) -> None:
        """Every .ipynb link in every notebook names a notebook that exists."""
        broken = [
            f"{path.relative_to(NOTEBOOKS)} -> {target}"
            for path in sorted(NOTEBOOKS.rglob("*.ipynb"))
            for target in links(path)
            if not (path.parent / target).is_file()
        ]
        assert not broken, broken

    def test_the_start_page_links_both_tracks(self) -> None:
        """The start page links every teaching notebook, exercise and model answer."""
        found = set(links(NOTEBOOKS / START_PAGE))
        expected = {p.name for p in TEACHING} | {
            str(path.relative_to(NOTEBOOKS))
            for e in EXERCISES
            for path in (e.notebook_path, e.answer_notebook_path)
        }
        assert expected <= found, sorted(expected - found)

    @pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
    def test_the_teaching_notebook_ends_with_its_exercise(self, exercise: Exercise) -> None:
        """The notebook an exercise practises ends with a cell linking to it (before its nav)."""
        cells = load(NOTEBOOKS / f"{exercise.practises}.ipynb")["cells"]
        last = [c for c in cells if "navigation" not in c["metadata"].get("workbench", {})][-1]
        assert last["cell_type"] == "markdown"
        assert f"exercises/{exercise.notebook}.ipynb" in source(last)
