from __future__ import annotations

import importlib

import pytest

from workbench.errors import ConfigError
from workbench.exercises.catalog import EXERCISES, find
from workbench.services.common import project_root


class TestCatalog:
    """The list of exercises."""

    def test_eight_numbered_exercises_with_unique_names(self) -> None:
        """Exercises are numbered 1 to 8 in order, with distinct names and modules."""
        assert [e.number for e in EXERCISES] == list(range(1, 9))
        assert len({e.name for e in EXERCISES}) == len({e.module for e in EXERCISES}) == 8

    @pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
    def test_every_part_of_an_exercise_exists(self, exercise: object) -> None:
        """Its behaviours and model answer import; its notebooks and teaching notebook exist."""
        importlib.import_module(exercise.behaviours_module)
        importlib.import_module(exercise.solution_module)
        assert exercise.notebook_path.is_file()
        assert exercise.answer_notebook_path.is_file()
        assert (project_root() / "notebooks" / f"{exercise.practises}.ipynb").is_file()

    def test_finds_an_exercise_by_name_or_number(self) -> None:
        """retry, 1 and 01 name the same exercise; anything else is a ConfigError listing them."""
        assert find("retry") is find("1") is find("01") is find(" Retry ")
        with pytest.raises(ConfigError, match="expected one of retry, transaction"):
            find("retries")
