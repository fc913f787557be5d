"""Stable notebook metadata: what changes on every run and says nothing is not saved.

papermill records each run's start and end times, durations and paths in the notebook's and
every cell's ``metadata.papermill``, and the kernel client its message timestamps in each
cell's ``metadata.execution``; re-executing an unchanged notebook would rewrite them all, so a
diff shows dozens of timestamps around the one output that did change. ``stabilise`` drops
exactly those keys and keeps the rest: ``metadata.workbench`` (quick parameters and whatever
the runner records there), cell tags, the kernel spec and language info.

``make notebooks`` stabilises what it executes; the pre-commit hook runs
``python -m workbench.notebook_metadata FILE...`` on the notebooks of a commit (status 1 when
it changed one, so the change is looked at and added, as formatters' hooks do).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "VOLATILE_CELL_KEYS",
    "VOLATILE_NOTEBOOK_KEYS",
    "main",
    "read_notebook",
    "stabilise",
    "stabilise_file",
    "write_notebook",
]

#: Notebook-level metadata written anew by every run.
VOLATILE_NOTEBOOK_KEYS = ("papermill",)
#: Cell-level metadata written anew by every run (timings, statuses, message timestamps).
VOLATILE_CELL_KEYS = ("papermill", "execution", "ExecuteTime")


def stabilise(notebook: dict[str, Any]) -> bool:
    """Drop the volatile metadata from a notebook (parsed JSON) in place; True if any was there."""
    changed = _drop(notebook.get("metadata", {}), VOLATILE_NOTEBOOK_KEYS)
    for cell in notebook.get("cells", []):
        changed |= _drop(cell.get("metadata", {}), VOLATILE_CELL_KEYS)
    return changed


def _drop(metadata: dict[str, Any], keys: tuple[str, ...]) -> bool:
    """Remove ``keys`` from one metadata mapping; True if one was there."""
    present = [key for key in keys if key in metadata]
    for key in present:
        del metadata[key]
    return bool(present)


def read_notebook(path: Path) -> dict[str, Any]:
    """Read a notebook file as parsed JSON."""
    notebook: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return notebook


def write_notebook(path: Path, notebook: dict[str, Any]) -> None:
    """Write a notebook in nbformat's own layout, so a rewrite moves only what changed.

    Indent 1, sorted keys, non-ASCII kept; the final newline kept or not as it was (papermill
    writes none, Jupyter one).
    """
    ending = path.exists() and path.read_text(encoding="utf-8").endswith("\n")
    text = json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n" * ending, encoding="utf-8")


def stabilise_file(path: Path) -> bool:
    """Stabilise a notebook file in place, written as Jupyter writes it; True if it changed."""
    notebook = read_notebook(path)
    if not stabilise(notebook):
        return False
    write_notebook(path, notebook)
    return True


def main(argv: list[str] | None = None) -> int:
    """Stabilise each notebook named; 1 when one changed (a pre-commit hook's convention)."""
    paths = [Path(arg) for arg in (sys.argv[1:] if argv is None else argv)]
    changed = [path for path in paths if stabilise_file(path)]
    for path in changed:
        print(f"stabilised the metadata of {path}")
    return 1 if changed else 0


if __name__ == "__main__":
    raise SystemExit(main())
