"""The implementation under test: a learner's notebook or file, or the model answer.

An ``Answer`` is one namespace (a kernel's ``globals()``, a module run from a ``.py`` file or
from a notebook's cells tagged ``answer``, or a model-answer module) and the names the
exercise asks of it. The behaviour tests read every name through it, so a name the answer
forgot to define fails each behaviour that needs it with a message saying which.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.exercises.catalog import Exercise

__all__ = [
    "ANSWER_TAG",
    "Answer",
    "AnswerLoadError",
    "answer_source",
    "from_file",
    "from_namespace",
    "model_answer",
]

#: The tag of the notebook cells that hold the learner's code.
ANSWER_TAG = "answer"


class AnswerLoadError(Exception):
    """The learner's code could not even be run (a syntax error, an import that fails)."""


class Answer:
    """The names an exercise asks for, looked up in one namespace, with a clear error if absent."""

    def __init__(self, namespace: Mapping[str, Any], *, origin: str, names: tuple[str, ...]):
        self._namespace = namespace
        self.origin = origin
        self.names = names

    def __getattr__(self, name: str) -> Any:
        try:
            return self._namespace[name]
        except KeyError:
            asked = ", ".join(self.names)
            raise AttributeError(
                f"{self.origin} defines no {name!r} (the exercise asks for {asked})"
            ) from None

    def missing(self) -> list[str]:
        """Return the asked-for names the namespace does not define."""
        return [name for name in self.names if name not in self._namespace]

    def __repr__(self) -> str:
        return f"Answer({self.origin})"


def from_namespace(
    exercise: Exercise, namespace: Mapping[str, Any], *, origin: str = "your notebook"
) -> Answer:
    """Grade the names defined in ``namespace`` (a notebook's ``globals()``)."""
    return Answer(namespace, origin=origin, names=exercise.names)


def model_answer(exercise: Exercise) -> Answer:
    """Return the model answer: ``workbench.exercises.solutions.<module>``."""
    module = importlib.import_module(exercise.solution_module)
    return Answer(vars(module), origin="the model answer", names=exercise.names)


def from_file(exercise: Exercise, path: Path) -> Answer:
    """Run a ``.py`` file, or a notebook's cells tagged ``answer``, as a fresh module."""
    if not path.is_file():
        raise ConfigError(f"answer {str(path)!r}: no such file")
    shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    if path.suffix == ".ipynb":
        source = answer_source(path)
    elif path.suffix == ".py":
        source = path.read_text(encoding="utf-8")
    else:
        raise ConfigError(f"answer {str(path)!r}: expected a .py file or an .ipynb notebook")
    # A real module in sys.modules, so dataclasses, pickling and tracebacks work as usual.
    name = f"workbench_answer_{exercise.module}"
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    # A notebook's line numbers are not the JSON file's: name the cells, not the file.
    filename = str(path) if path.suffix == ".py" else f"<cells tagged {ANSWER_TAG!r} in {shown}>"
    try:
        exec(compile(source, filename, "exec"), vars(module))
    except Exception as exc:
        raise AnswerLoadError(f"{shown} does not run: {type(exc).__name__}: {exc}") from exc
    return Answer(vars(module), origin=shown, names=exercise.names)


def answer_source(notebook: Path) -> str:
    """Return the code of a notebook's cells tagged ``answer``, IPython magics made Python."""
    from IPython.core.inputtransformer2 import TransformerManager

    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    sources = [
        "".join(cell["source"])
        for cell in cells
        if cell["cell_type"] == "code" and ANSWER_TAG in cell.get("metadata", {}).get("tags", [])
    ]
    if not sources:
        raise ConfigError(f"{notebook}: no code cell is tagged {ANSWER_TAG!r}")
    transform = TransformerManager().transform_cell
    return "\n\n".join(transform(source) for source in sources)
