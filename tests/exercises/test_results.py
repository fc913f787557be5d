from __future__ import annotations

import pytest

from workbench.exercises import ExerciseFailed, find
from workbench.exercises.results import Behaviour, Grade


def grade(*behaviours: Behaviour) -> Grade:
    """A grade of the retry exercise made of the given behaviours."""
    return Grade(find("retry"), "your notebook", behaviours)


PASSED = Behaviour("Waits", "It waits <a lot>.", "test_waits", True, measured="6.0x faster")
FAILED = Behaviour(
    "Waits", "It gives up.", "test_gives_up", False, "AssertionError: 3 calls", "count calls"
)


class TestGrade:
    """How a grade reads."""

    def test_passes_only_when_every_behaviour_passed(self) -> None:
        """All passed is a pass; one failure, or no behaviour at all, is not."""
        assert grade(PASSED).passed
        assert not grade(PASSED, FAILED).passed
        assert not grade().passed
        assert grade(PASSED, FAILED).passing == 1

    def test_text_lists_each_behaviour_with_why_hint_and_figure(self) -> None:
        """The text has a headline, groups, PASS/FAIL lines, the figure, why and the hint."""
        text = str(grade(PASSED, FAILED))
        assert "retry (your notebook): 1 of 2 behaviours pass" in text
        assert "  PASS  It waits <a lot>.  [measured: 6.0x faster]" in text
        assert "  FAIL  It gives up." in text
        assert "why:  AssertionError: 3 calls" in text and "hint: count calls" in text
        assert text.count("\nWaits\n") == 1

    def test_html_escapes_what_it_shows(self) -> None:
        """The notebook table escapes text from docstrings and messages."""
        html = grade(PASSED, FAILED)._repr_html_()
        assert "&lt;a lot&gt;" in html and "<a lot>" not in html
        assert "count calls" in html and "6.0x faster" in html

    def test_json_carries_every_field(self) -> None:
        """as_dict names the exercise, the origin and every behaviour's fields."""
        data = grade(PASSED, FAILED).as_dict()
        assert data["exercise"] == "retry" and data["passed"] is False
        assert data["behaviours"][1]["hint"] == "count calls"

    def test_repr_is_the_headline(self) -> None:
        """A grade's repr is one short line."""
        assert repr(grade(PASSED)) == "<Grade retry (your notebook): 1 of 1 behaviours pass>"


class TestExerciseFailed:
    """The error a failed check raises."""

    def test_names_the_first_failing_tests(self) -> None:
        """The message has the headline and the failing tests' names, three at most."""
        failures = [FAILED] * 5
        with pytest.raises(AssertionError) as raised:
            raise ExerciseFailed(grade(PASSED, *failures))
        message = str(raised.value)
        assert message.startswith("retry (your notebook): 1 of 6 behaviours pass")
        assert message.count("test_gives_up") == 3 and "and 2 more" in message
