"""``workbench exercises list|check``: the practice track from a shell.

``start NAME`` copies the exercise notebook to ``NN-Title.mine.ipynb`` beside it (git
ignores it), so the shipped notebook keeps its stub. ``check NAME [PATH]`` grades the answer
in PATH (a ``.py`` file, or a notebook's cells tagged ``answer``; by default that copy, else
the exercise notebook itself) on the live services and prints every behaviour, passed or
failed; it exits 0 when all pass and 1 otherwise. ``list`` shows the exercises and the
learner's progress.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from workbench.errors import ConfigError
from workbench.exercises import progress
from workbench.exercises.answers import AnswerLoadError, from_file, model_answer
from workbench.exercises.catalog import EXERCISES, Exercise, find
from workbench.services.common import project_root


def _shown(path: Path) -> str:
    """Return ``path`` relative to the project when it is inside it."""
    try:
        return str(path.relative_to(project_root()))
    except ValueError:
        return str(path)


def _list(args: argparse.Namespace) -> int:
    """Print one line per exercise: number, name, title, progress."""
    done = progress.load()
    width = max(len(exercise.name) for exercise in EXERCISES)
    for exercise in EXERCISES:
        state = progress.describe(done.get(exercise.name))
        print(f"{exercise.number:02d}  {exercise.name:<{width}}  {exercise.title:<62}  {state}")
    print(
        f"\nnotebooks: {_shown(EXERCISES[0].notebook_path.parent)}/"
        "  check one: workbench exercises check NAME [PATH]"
    )
    return 0


def _start(args: argparse.Namespace) -> int:
    """Copy the exercise notebook to the learner's own, which ``check`` then grades."""
    exercise = find(args.name)
    copy = exercise.working_copy_path
    if copy.exists() and not args.force:
        raise ConfigError(f"{_shown(copy)} exists: open it, or start over with --force")
    shutil.copyfile(exercise.notebook_path, copy)
    print(f"your copy: {_shown(copy)} (open it in `make lab`; git ignores it)")
    return 0


def _check(args: argparse.Namespace) -> int:
    """Grade one answer; print the behaviours (or JSON); exit 0 if every one passed."""
    from workbench.exercises.grading import grade

    exercise = find(args.name)
    if args.model_answer and args.path is not None:
        raise ConfigError("give PATH or --model-answer, not both")
    try:
        if args.model_answer:
            answer = model_answer(exercise)
        else:
            answer = from_file(exercise, Path(args.path or _default_answer(exercise)))
    except AnswerLoadError as exc:
        print(f"workbench: {exc}", file=sys.stderr)
        return 1
    result = grade(exercise, answer, select=args.k)
    if not args.model_answer and args.k is None:
        progress.record(result)
    print(json.dumps(result.as_dict(), indent=2) if args.json else result)
    return 0 if result.passed else 1


def _default_answer(exercise: Exercise) -> Path:
    """Return the learner's copy of the exercise notebook if there is one, else the notebook."""
    copy = exercise.working_copy_path
    return copy if copy.exists() else exercise.notebook_path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``exercises`` and its actions to the CLI."""
    parser = subparsers.add_parser("exercises", help="practice exercises graded on live services")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="the exercises and your progress").set_defaults(handler=_list)
    start = actions.add_parser("start", help="copy an exercise notebook to your own to work in")
    start.add_argument("name", metavar="NAME", help="the exercise: its name or number")
    start.add_argument("--force", action="store_true", help="overwrite your copy with the stub")
    start.set_defaults(handler=_start)
    check = actions.add_parser("check", help="grade an answer: every behaviour, with hints")
    check.add_argument("name", metavar="NAME", help="the exercise: its name or number")
    check.add_argument(
        "path",
        metavar="PATH",
        nargs="?",
        help="a .py file or a notebook (cells tagged 'answer'); default: your copy of the "
        "exercise notebook (see start), else the notebook itself",
    )
    check.add_argument("--model-answer", action="store_true", help="grade the model answer instead")
    check.add_argument("-k", metavar="EXPR", help="only the behaviours whose test names match")
    check.add_argument("--json", action="store_true", help="print the grade as JSON")
    check.set_defaults(handler=_check)
