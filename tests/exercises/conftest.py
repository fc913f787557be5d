"""The grader's live-service fixtures, and ``impl``: each exercise's model answer and its stub.

``impl`` is parametrised by the implementation under test. The model answer must pass every
behaviour; the untouched stub in the exercise notebook must fail every one, so its case is
a strict xfail: a stub that passed a behaviour would fail the suite.
"""

from __future__ import annotations

import pytest

from workbench.exercises.answers import Answer, from_file, model_answer
from workbench.exercises.catalog import EXERCISES, Exercise
from workbench.exercises.fixtures import (  # noqa: F401 - fixtures, found here by pytest
    api,
    api_server,
    fresh_dsn,
    live_services,
    redis_round_trips,
    redis_sandbox,
    requests_in_flight,
)

STUB = pytest.param(
    "stub",
    marks=pytest.mark.xfail(reason="an untouched stub fails every behaviour", strict=True),
)


def exercise_of(request: pytest.FixtureRequest) -> Exercise:
    """Return the exercise whose behaviours module defined the requesting test."""
    module = request.cls.__module__ if request.cls is not None else request.module.__name__
    return next(e for e in EXERCISES if e.behaviours_module == module)


@pytest.fixture(params=["model answer", STUB])
def impl(request: pytest.FixtureRequest) -> Answer:
    """The implementation under test: the model answer, or the stub in the notebook."""
    exercise = exercise_of(request)
    if request.param == "model answer":
        return model_answer(exercise)
    return from_file(exercise, exercise.notebook_path)
