"""``workbench exercises list|check``: the practice track from a shell.

``check NAME [PATH]`` grades the answer in PATH (a ``.py`` file, or a notebook's cells tagged
``answer``; by default the exercise's own notebook) on the live services and prints every
behaviour, passed or failed; it exits 0 when all pass and 1 otherwise. ``list`` shows the
exercises and the learner's progress.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from workbench.errors import ConfigError
from workbench.exercises import progress
from workbench.exercises.answers import AnswerLoadError, from_file, model_answer
from workbench.exercises.catalog import EXERCISES, find
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
            answer = from_file(exercise, Path(args.path or exercise.notebook_path))
    except AnswerLoadError as exc:
        print(f"workbench: {exc}", file=sys.stderr)
        return 1
    result = grade(exercise, answer, select=args.k)
    if not args.model_answer and args.k is None:
        progress.record(result)
    print(json.dumps(result.as_dict(), indent=2) if args.json else result)
    return 0 if result.passed else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``exercises`` and its actions to the CLI."""
    parser = subparsers.add_parser("exercises", help="practice exercises graded on live services")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="the exercises and your progress").set_defaults(handler=_list)
    check = actions.add_parser("check", help="grade an answer: every behaviour, with hints")
    check.add_argument("name", metavar="NAME", help="the exercise: its name or number")
    check.add_argument(
        "path",
        metavar="PATH",
        nargs="?",
        help="a .py file or a notebook (cells tagged 'answer'); default: the exercise notebook",
    )
    check.add_argument("--model-answer", action="store_true", help="grade the model answer instead")
    check.add_argument("-k", metavar="EXPR", help="only the behaviours whose test names match")
    check.add_argument("--json", action="store_true", help="print the grade as JSON")
    check.set_defaults(handler=_check)
