"""Grade an answer: run the exercise's behaviour tests against it with ipytest, read the reports.

The behaviour tests are ordinary pytest tests that take the implementation under test from an
``impl`` fixture. Here that fixture hands them the learner's ``Answer``; the live-service
fixtures come from ``workbench.exercises.fixtures``; and a small plugin turns pytest's reports
into ``Behaviour`` results. ipytest runs pytest on the behaviours module from wherever we are:
a notebook kernel (in a thread, since the kernel's event loop is running) or the CLI.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from dataclasses import dataclass
from typing import Any

import pytest

from workbench.exercises import fixtures
from workbench.exercises.answers import Answer
from workbench.exercises.catalog import Exercise
from workbench.exercises.results import Behaviour, Grade

__all__ = ["GradingError", "grade"]

# The grader's pytest ignores any project configuration and conftest it happens to sit in
# (``-c /dev/null``, ``--noconftest``), writes no cache, and prints nothing itself: the
# ``Grade`` is the report.
PYTEST_ARGS = (
    "-c", os.devnull,
    "--noconftest",
    "--import-mode=importlib",
    "-p", "no:cacheprovider",
    "-p", "no:terminal",
)  # fmt: skip
#: pytest's exit codes for "tests ran" (all passed, some failed).
_RAN = (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)


class GradingError(RuntimeError):
    """pytest could not run the behaviours at all (as opposed to behaviours failing)."""


@dataclass
class _Item:
    """What the learner is told about one collected test, and how it went so far."""

    group: str
    name: str
    test: str
    hint: str
    passed: bool = True
    message: str = ""
    measured: str = ""


class _AnswerPlugin:
    """Provides the ``impl`` fixture: the answer being graded."""

    def __init__(self, answer: Answer) -> None:
        self._answer = answer

    @pytest.fixture
    def impl(self) -> Answer:
        """Return the implementation under test."""
        return self._answer


class _Collector:
    """Turns pytest's per-phase reports into one ``Behaviour`` per test, in collection order."""

    def __init__(self) -> None:
        self.items: dict[str, _Item] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Note each selected behaviour's group, sentence and hint, in collection order."""
        for item in session.items:
            marker = item.get_closest_marker("hint")
            name = _first_line(getattr(item, "function", None)) or item.name
            callspec = getattr(item, "callspec", None)
            if callspec is not None:  # a parametrised behaviour: say which case
                name = f"{name} [{callspec.id}]"
            self.items[item.nodeid] = _Item(
                group=_first_line(getattr(item, "cls", None)).rstrip("."),
                name=name,
                test=item.name,
                hint=str(marker.args[0]) if marker and marker.args else "",
            )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep the first failure of a test (setup, call or teardown) and its measurements."""
        item = self.items.get(report.nodeid)
        if item is None:
            return
        for key, value in report.user_properties:
            if key == "measured":
                item.measured = str(value)
        if item.passed and (report.failed or report.skipped):
            item.passed = False
            item.message = _message(report)

    def behaviours(self) -> tuple[Behaviour, ...]:
        """Return every collected behaviour's outcome."""
        return tuple(
            Behaviour(i.group, i.name, i.test, i.passed, i.message, i.hint, i.measured)
            for i in self.items.values()
        )


def grade(exercise: Exercise, answer: Answer, *, select: str | None = None) -> Grade:
    """Run ``exercise``'s behaviours (those matching ``-k select``) against ``answer``."""
    import ipytest

    module = importlib.import_module(exercise.behaviours_module)
    collector = _Collector()
    args = [*PYTEST_ARGS, *(["-k", select] if select else [])]
    code = ipytest.run(
        *args,
        module=module,
        plugins=[_AnswerPlugin(answer), fixtures, collector],
        # pytest cannot share a thread with a running event loop (a kernel's): the tests
        # call asyncio.run, so they go to a thread of their own there.
        run_in_thread=_event_loop_running(),
        raise_on_error=False,
        addopts=(),
        defopts=True,
        display_columns=False,
        coverage=False,
    )
    if code not in _RAN:
        raise GradingError(f"pytest could not run the {exercise.name} behaviours (exit {code})")
    return Grade(exercise, answer.origin, collector.behaviours())


def _event_loop_running() -> bool:
    """Tell whether this thread runs an event loop (as a Jupyter kernel's does)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _first_line(obj: Any) -> str:
    """Return the first line of ``obj``'s docstring, or an empty string."""
    doc = getattr(obj, "__doc__", None) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _message(report: pytest.TestReport) -> str:
    """Return why a phase failed, on one line (the exception, or pytest's skip reason)."""
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        text = crash.message
    elif isinstance(report.longrepr, tuple):  # a skip: (path, line, reason)
        text = str(report.longrepr[2])
    else:
        text = str(report.longrepr)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "failed")
    prefix = "" if report.when == "call" else f"in {report.when}: "
    return f"{prefix}{first}"[:400]
