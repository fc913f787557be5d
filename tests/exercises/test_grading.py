from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest

import workbench.retry
from workbench.errors import ConfigError
from workbench.exercises import ExerciseFailed, check, find, progress
from workbench.exercises.answers import from_namespace, model_answer
from workbench.exercises.grading import grade
from workbench.exercises.solutions import settings as settings_answer
from workbench.exercises.solutions import thread_fetch


@pytest.fixture(autouse=True)
def progress_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep progress in a temporary file."""
    path = tmp_path / "exercises.json"
    monkeypatch.setenv(progress.PROGRESS_ENV, str(path))
    return path


def retry_without_jitter(fn: Any = None, /, **settings: Any) -> Any:
    """The package's retry with jitter forced off: right in every way but one."""
    settings["jitter"] = False
    return workbench.retry.retry(fn, **settings) if fn else workbench.retry.retry(**settings)


class UnlockedCounters(thread_fetch.Counters):
    """Counters whose add reads and writes without the lock."""

    def add(self, **counts: int) -> None:
        """Add without holding the lock, yielding between read and write: updates interleave."""
        for name, count in counts.items():
            seen = self._counts.get(name, 0)
            time.sleep(0)  # a switch here loses updates every run, not only when the OS obliges
            self._counts[name] = seen + count


@contextlib.contextmanager
def naive_transaction(pool: Any) -> Iterator[Any]:
    """Commit, roll back and give back, but let a failed rollback replace the error."""
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            yield cur
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        pool.putconn(conn)


class TestGrade:
    """Grading an answer behaviour by behaviour."""

    def test_a_near_miss_fails_only_the_behaviour_it_misses(self) -> None:
        """Waits without jitter pass the exponential behaviour and fail the jitter one."""
        answer = from_namespace(find("retry"), {"retry": retry_without_jitter})
        result = grade(find("retry"), answer, select="jitter or exponentially")
        outcome = {b.test: b.passed for b in result.behaviours}
        assert outcome == {
            "test_waits_grow_exponentially_up_to_the_cap": True,
            "test_full_jitter_draws_each_wait_below_its_ceiling": False,
        }
        (failed,) = result.failed
        assert failed.message.startswith("AssertionError: waits after attempt 1 span only")
        assert failed.hint.startswith("Full jitter")
        assert failed.group == "How long it waits between attempts"

    def test_lost_updates_are_caught_and_counted(self) -> None:
        """Counters without a lock fail under contention, and the figure says how many were lost."""
        namespace = {"Counters": UnlockedCounters, "fetch_all": thread_fetch.fetch_all}
        answer = from_namespace(find("thread-fetch"), namespace)
        (behaviour,) = grade(find("thread-fetch"), answer, select="contention").behaviours
        assert not behaviour.passed
        assert behaviour.measured.endswith("of 160,000 updates lost")
        assert not behaviour.measured.startswith("0 of")

    def test_a_rollback_that_hides_the_error_is_caught(self) -> None:
        """A rollback on a dead connection raising its own error fails that behaviour."""
        namespace = {"transaction": naive_transaction, "atransaction": None}
        answer = from_namespace(find("transaction"), namespace)
        (behaviour,) = grade(find("transaction"), answer, select="dead_connection").behaviours
        assert not behaviour.passed and "InterfaceError" in behaviour.message

    def test_timing_behaviours_report_their_figure(self) -> None:
        """A timing behaviour that passes still shows what it measured."""
        exercise = find("dedup")
        (behaviour,) = grade(exercise, model_answer(exercise), select="one_request").behaviours
        assert behaviour.passed and "faster than one by one" in behaviour.measured

    def test_grades_from_inside_a_running_event_loop(self) -> None:
        """Called where an event loop runs (a notebook kernel), the async behaviours still run."""
        exercise = find("retry")

        async def in_a_kernel() -> Any:
            return grade(exercise, model_answer(exercise), select="event_loop")

        (behaviour,) = asyncio.run(in_a_kernel()).behaviours
        assert behaviour.passed, behaviour.message


class TestCheck:
    """The one-line call a notebook's grading cell makes."""

    def test_the_model_answer_passes_and_is_not_progress(self, progress_path: Path) -> None:
        """check(model_answer=True) prints the grade, raises nothing and records nothing."""
        check("settings", model_answer=True)
        assert not progress_path.exists()

    def test_a_failing_answer_raises_and_is_recorded(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A learner's answer with a failing behaviour raises ExerciseFailed and is recorded."""

        class LeakySettings(settings_answer.Settings):
            def __repr__(self) -> str:
                return repr(vars(self))

        namespace = {"Field": settings_answer.Field, "Settings": LeakySettings}
        with pytest.raises(ExerciseFailed) as raised:
            check("settings", namespace)
        assert raised.value.grade.failed[0].test == "test_repr_shows_settings_but_masks_secrets"
        assert "FAIL  repr() shows every setting" in capsys.readouterr().out
        entry = progress.load()["settings"]
        assert (entry["passing"], entry["solved"]) == (
            len(raised.value.grade.behaviours) - 1,
            False,
        )

    def test_a_namespace_is_required(self) -> None:
        """Without globals() (or the model answer) there is nothing to grade."""
        with pytest.raises(ConfigError, match="globals"):
            check("settings")


def test_the_probe_connection_is_a_psycopg2_connection(fresh_dsn: str) -> None:
    """The upsert behaviours' logging connection is an ordinary psycopg2 connection."""
    from workbench.exercises.probes import logging_connection

    conn = logging_connection(fresh_dsn)
    try:
        assert isinstance(conn, psycopg2.extensions.connection)
    finally:
        conn.close()
