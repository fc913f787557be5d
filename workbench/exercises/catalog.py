"""The eight exercises: what each asks for, where its notebook, behaviours and answer live.

An exercise is a task stated in ``notebooks/exercises/NN-Title.ipynb``, graded by the pytest
behaviours in ``workbench.exercises.behaviours.<module>`` and answered by the model answer in
``workbench.exercises.solutions.<module>`` (which reuses the package wherever it already
has the reference implementation).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ConfigError
from workbench.services.common import project_root

__all__ = ["EXERCISES", "Exercise", "exercises_dir", "find"]


@dataclass(frozen=True)
class Exercise:
    """One practice exercise: its number, CLI name, title and the names its answer defines."""

    number: int
    name: str
    title: str
    #: The Python module name shared by its behaviours and its model answer.
    module: str
    #: The stem of its notebook in ``notebooks/exercises/``.
    notebook: str
    #: The teaching notebook it practises.
    practises: str
    #: What an answer must define, by name.
    names: tuple[str, ...]

    @property
    def label(self) -> str:
        """Return ``01 retry``: the number and name, as lists show them."""
        return f"{self.number:02d} {self.name}"

    @property
    def behaviours_module(self) -> str:
        """Return the dotted name of the module holding its behaviour tests."""
        return f"workbench.exercises.behaviours.{self.module}"

    @property
    def solution_module(self) -> str:
        """Return the dotted name of the module holding its model answer."""
        return f"workbench.exercises.solutions.{self.module}"

    @property
    def notebook_path(self) -> Path:
        """Return the exercise notebook, whose cells tagged ``answer`` hold the learner's code."""
        return exercises_dir() / f"{self.notebook}.ipynb"

    @property
    def working_copy_path(self) -> Path:
        """Return the learner's own copy (``workbench exercises start``), which git ignores."""
        return exercises_dir() / f"{self.notebook}.mine.ipynb"

    @property
    def answer_notebook_path(self) -> Path:
        """Return the notebook that explains the model answer."""
        return exercises_dir() / "solutions" / f"{self.notebook}-Answer.ipynb"


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        1,
        "retry",
        "A retry decorator for plain and async functions",
        "retry",
        "01-Retry-Decorator",
        "02-Decorators-and-Retry",
        ("retry",),
    ),
    Exercise(
        2,
        "transaction",
        "A transaction context manager, sync and async",
        "transaction",
        "02-Transaction-Manager",
        "03-Context-Managers",
        ("transaction", "atransaction"),
    ),
    Exercise(
        3,
        "settings",
        "A validating descriptor for settings",
        "settings",
        "03-Validating-Descriptor",
        "04-Descriptors-and-Config",
        ("Field", "Settings"),
    ),
    Exercise(
        4,
        "errors",
        "An exception hierarchy and the library errors mapped onto it",
        "errors",
        "04-Error-Hierarchy",
        "05-Errors-and-Exceptions",
        (
            "WorkbenchError",
            "TransientError",
            "PermanentError",
            "SourceTimeoutError",
            "SourceConnectionError",
            "MalformedPayloadError",
            "HTTPStatusError",
            "ServerError",
            "RateLimitedError",
            "ClientError",
            "StorageUnavailableError",
            "StorageDataError",
            "map_requests_errors",
            "map_aiohttp_errors",
            "map_psycopg2_errors",
        ),
    ),
    Exercise(
        5,
        "async-fetch",
        "A bounded-concurrency async fetcher",
        "async_fetch",
        "05-Async-Fetcher",
        "09-Async-Ingestion",
        ("fetch_all",),
    ),
    Exercise(
        6,
        "thread-fetch",
        "A thread-pool fetcher with shared counters",
        "thread_fetch",
        "06-Thread-Pool-Fetcher",
        "08-Threads-Processes-and-the-GIL",
        ("Counters", "fetch_all"),
    ),
    Exercise(
        7,
        "upsert",
        "An idempotent bulk upsert into Postgres",
        "upsert",
        "07-Idempotent-Upsert",
        "11-Postgres-Bulk-Persistence",
        ("upsert",),
    ),
    Exercise(
        8,
        "dedup",
        "Batched Redis dedup that fails open",
        "dedup",
        "08-Redis-Dedup",
        "10-Redis-Cache-and-Dedup",
        ("filter_unseen", "mark_seen"),
    ),
)


def exercises_dir() -> Path:
    """Return ``notebooks/exercises/`` of this checkout."""
    return project_root() / "notebooks" / "exercises"


def find(name: str) -> Exercise:
    """Return the exercise called ``name`` (``retry``, ``1`` or ``01`` alike)."""
    wanted = name.strip().casefold()
    for exercise in EXERCISES:
        if wanted in (exercise.name, str(exercise.number), f"{exercise.number:02d}"):
            return exercise
    known = ", ".join(exercise.name for exercise in EXERCISES)
    raise ConfigError(f"exercise {name!r}: expected one of {known} (or its number)")
