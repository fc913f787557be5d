"""The learner's progress, kept in ``.workbench/exercises.json``: each exercise's last grade.

Only a learner's own answers are recorded (never a run of the model answer). The file is
plain JSON so it can be read, diffed or deleted by hand; ``$WORKBENCH_EXERCISES_PROGRESS``
points elsewhere (tests do).
"""

from __future__ import annotations

import contextlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.exercises.results import Grade
from workbench.services.common import file_lock, state_dir

__all__ = ["PROGRESS_ENV", "describe", "load", "progress_file", "record"]

PROGRESS_ENV = "WORKBENCH_EXERCISES_PROGRESS"


def progress_file() -> Path:
    """Return the progress file (``$WORKBENCH_EXERCISES_PROGRESS`` overrides the default)."""
    override = os.environ.get(PROGRESS_ENV)
    return Path(override) if override else state_dir() / "exercises.json"


def load() -> dict[str, dict[str, Any]]:
    """Return every exercise's recorded progress by name (empty before the first check)."""
    with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
        data = json.loads(progress_file().read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return data
    return {}


def record(grade: Grade, *, now: datetime | None = None) -> dict[str, Any]:
    """Remember ``grade`` as its exercise's latest; return the exercise's entry."""
    path = progress_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    with file_lock(path.with_suffix(".lock")):  # a notebook and the CLI may check at once
        data = load()
        previous = data.get(grade.exercise.name, {})
        entry = {
            "passing": grade.passing,
            "behaviours": len(grade.behaviours),
            "solved": grade.passed,
            "checks": int(previous.get("checks", 0)) + 1,
            "last_checked": stamp,
            # Solved once stays solved: a later experiment that breaks it is not a regression
            # of the learner's progress.
            "first_solved": previous.get("first_solved") or (stamp if grade.passed else None),
        }
        data[grade.exercise.name] = entry
        path.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    return entry


def describe(entry: dict[str, Any] | None) -> str:
    """Say where an exercise stands: ``not tried``, ``4/11 passing``, ``solved 2026-11-30``."""
    if not entry:
        return "not tried"
    now = f"{entry.get('passing', 0)}/{entry.get('behaviours', 0)} passing"
    if entry.get("solved"):
        return f"solved ({str(entry.get('last_checked', ''))[:10]})"
    if entry.get("first_solved"):
        return f"{now} (solved before, {str(entry['first_solved'])[:10]})"
    return now
