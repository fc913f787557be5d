from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.errors import ConfigError
from workbench.exercises import find
from workbench.exercises.answers import (
    AnswerLoadError,
    answer_source,
    from_file,
    from_namespace,
    model_answer,
)


def notebook(path: Path, *cells: tuple[str, list[str]]) -> Path:
    """Write a notebook of code cells ``(source, tags)``."""
    path.write_text(
        json.dumps(
            {
                "cells": [
                    {"cell_type": "code", "metadata": {"tags": tags}, "source": source}
                    for source, tags in cells
                ],
                "metadata": {},
                "nbformat": 4,
                "nbformat_minor": 5,
            }
        )
    )
    return path


class TestAnswer:
    """Names looked up in an answer."""

    def test_a_missing_name_says_what_the_exercise_asks(self) -> None:
        """Reading a name the answer lacks raises AttributeError naming it and the asked names."""
        answer = from_namespace(find("dedup"), {"filter_unseen": print})
        assert answer.filter_unseen is print
        assert answer.missing() == ["mark_seen"]
        with pytest.raises(AttributeError, match=r"defines no 'mark_seen'.*filter_unseen, mark"):
            answer.mark_seen  # noqa: B018 - reading it is the test

    def test_every_model_answer_defines_what_its_exercise_asks(self) -> None:
        """Each model answer module defines every name of its exercise."""
        from workbench.exercises.catalog import EXERCISES

        assert {e.name: model_answer(e).missing() for e in EXERCISES} == {
            e.name: [] for e in EXERCISES
        }


class TestFromFile:
    """Answers read from files."""

    def test_a_python_file_runs_as_a_module(self, tmp_path: Path) -> None:
        """A .py file's names are the answer's, and its classes live in a real module."""
        path = tmp_path / "answer.py"
        path.write_text("import dataclasses\n@dataclasses.dataclass\nclass Field:\n    x: int\n")
        answer = from_file(find("settings"), path)
        assert answer.Field(1).x == 1 and answer.origin.endswith("answer.py")

    def test_a_notebook_contributes_only_its_answer_cells(self, tmp_path: Path) -> None:
        """Only the cells tagged answer run, in their order."""
        path = notebook(
            tmp_path / "mine.ipynb",
            ("raise SystemExit('not an answer cell')", ["parameters"]),
            ("A = 1", ["answer"]),
            ("B = A + 1", ["answer"]),
        )
        assert from_file(find("dedup"), path).B == 2

    def test_ipython_magics_in_answer_cells_become_python(self, tmp_path: Path) -> None:
        """A magic line is turned into the get_ipython() call IPython itself would run."""
        path = notebook(tmp_path / "magic.ipynb", ("%time A = 1", ["answer"]))
        assert "get_ipython().run_line_magic('time', 'A = 1')" in answer_source(path)

    def test_code_that_does_not_run_is_a_load_error(self, tmp_path: Path) -> None:
        """A syntax error or an exception at import is reported, naming the file."""
        path = tmp_path / "broken.py"
        path.write_text("def retry(:\n")
        with pytest.raises(AnswerLoadError, match=r"broken.py does not run: SyntaxError"):
            from_file(find("retry"), path)

    def test_bad_paths_are_config_errors(self, tmp_path: Path) -> None:
        """A missing file, another kind of file or a notebook without answer cells is refused."""
        with pytest.raises(ConfigError, match="no such file"):
            from_file(find("retry"), tmp_path / "missing.py")
        (tmp_path / "answer.txt").write_text("")
        with pytest.raises(ConfigError, match=r"expected a \.py file or an \.ipynb notebook"):
            from_file(find("retry"), tmp_path / "answer.txt")
        empty = notebook(tmp_path / "empty.ipynb", ("A = 1", []))
        with pytest.raises(ConfigError, match="no code cell is tagged 'answer'"):
            from_file(find("retry"), empty)
