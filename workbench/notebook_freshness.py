"""Which package source a notebook's outputs came from, so a stale notebook cannot be committed.

    digest = package_digest()         # sha256 of every workbench/**/*.py: path and content
    stamp_file(path, digest, run_id)  # metadata.workbench.freshness: digest, run id, date
    stale(paths, digest)              # the notebooks whose outputs came from other source

``make notebooks`` (``workbench.notebooks_run``) stamps each notebook it executes; a test
(``tests/notebooks/test_freshness.py``) fails when a committed notebook's digest differs from
the package on disk and names the command that re-executes it. The digest covers the source
only: a change of comment re-dates every notebook, which is the price of never guessing
which change a notebook's outputs depend on.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from workbench.notebook_metadata import read_notebook, write_notebook

__all__ = [
    "FRESHNESS_KEY",
    "package_digest",
    "recorded",
    "rerun_command",
    "stale",
    "stamp",
    "stamp_file",
]

#: Where in ``metadata.workbench`` a notebook records what it ran against.
FRESHNESS_KEY = "freshness"
#: The package whose source the digest covers.
PACKAGE = Path(__file__).resolve().parent


def package_digest(package: Path = PACKAGE) -> str:
    """Return a stable hash of every ``*.py`` under ``package``: relative path and content.

    Files are taken in path order and Windows line endings read as Unix ones, so the same
    source gives the same digest on every machine and checkout.
    """
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py"), key=lambda p: p.relative_to(package).as_posix()):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return f"sha256:{digest.hexdigest()}"


def stamp(notebook: dict[str, Any], digest: str, run_id: str, date: str | None = None) -> None:
    """Record in a notebook's metadata the package digest, run id and date it was executed on."""
    workbench = notebook.setdefault("metadata", {}).setdefault("workbench", {})
    workbench[FRESHNESS_KEY] = {
        "package_digest": digest,
        "run_id": run_id,
        "date": date or datetime.datetime.now(datetime.UTC).date().isoformat(),
    }


def stamp_file(path: Path, digest: str, run_id: str, date: str | None = None) -> None:
    """Stamp a notebook file in place, written in nbformat's own layout."""
    notebook = read_notebook(path)
    stamp(notebook, digest, run_id, date)
    write_notebook(path, notebook)


def recorded(notebook: dict[str, Any]) -> str | None:
    """Return the package digest a notebook was executed against, None if it never was."""
    freshness = notebook.get("metadata", {}).get("workbench", {}).get(FRESHNESS_KEY, {})
    digest: str | None = freshness.get("package_digest")
    return digest


def stale(paths: Iterable[Path], digest: str) -> list[Path]:
    """Return the notebooks among ``paths`` not executed against the source ``digest`` names."""
    return [path for path in paths if recorded(read_notebook(path)) != digest]


def rerun_command(paths: Iterable[Path], root: Path) -> str:
    """Return the commands that re-execute ``paths`` (their number prefixes), folder by folder."""
    folders: dict[Path, list[str]] = {}
    for path in paths:
        folders.setdefault(path.parent, []).append(path.name[:2])
    return " && ".join(
        f".venv/bin/python -m workbench.notebooks_run {folder.relative_to(root).as_posix()}/ "
        + " ".join(sorted(set(numbers)))
        for folder, numbers in sorted(folders.items())
    )
