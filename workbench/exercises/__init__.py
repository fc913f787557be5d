"""The practice track: exercises the learner writes and the workbench grades on live services.

In an exercise notebook, after writing the answer cell::

    from workbench.exercises import check
    check("retry", globals())          # every behaviour, passed or failed, with hints

From a shell: ``workbench exercises check retry [PATH]`` and ``workbench exercises list``.
The behaviour tests (``behaviours/``) are ordinary pytest tests of an ``impl`` fixture; the
model answers (``solutions/``) pass them all, and CI proves it, as it proves that every
untouched stub fails them all.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from workbench.errors import ConfigError
from workbench.exercises import answers
from workbench.exercises.answers import Answer
from workbench.exercises.catalog import EXERCISES, Exercise, find
from workbench.exercises.results import Behaviour, ExerciseFailed, Grade

__all__ = [
    "EXERCISES",
    "Answer",
    "Behaviour",
    "Exercise",
    "ExerciseFailed",
    "Grade",
    "check",
    "find",
    "show_source",
]


def check(
    name: str, namespace: Mapping[str, Any] | None = None, *, model_answer: bool = False
) -> None:
    """Grade the answer in ``namespace`` (pass ``globals()``), or the model answer; show it.

    Raises ``ExerciseFailed`` when a behaviour fails, so a notebook run stops at the grading
    cell. A learner's grade is recorded as their progress; the model answer's is not.
    """
    from workbench.exercises import progress
    from workbench.exercises.grading import grade

    exercise = find(name)
    if model_answer:
        answer = answers.model_answer(exercise)
    elif namespace is None:
        raise ConfigError(f"check({name!r}, globals()): pass the namespace holding your answer")
    else:
        answer = answers.from_namespace(exercise, namespace)
    result = grade(exercise, answer)
    if not model_answer:
        progress.record(result)
    _show(result)
    if not result.passed:
        raise ExerciseFailed(result)


def _show(grade: Grade) -> None:
    """Display the grade as a table in a notebook, or print it as text elsewhere."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython comes with ipytest
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(grade)
    else:
        print(grade)


def show_source(*objects: Any) -> Any:
    """Return the source of functions, classes or modules, highlighted for a notebook."""
    from IPython.display import Code

    return Code("\n\n".join(inspect.getsource(obj) for obj in objects), language="python")
