"""Re-execute the notebooks in place with their full parameters (``make notebooks``).

Committed notebooks carry their outputs so a reader sees results without running anything;
this regenerates them, one fresh kernel per notebook, in name order. Before a run their
prev/next navigation is refreshed (``workbench.notebook_navigation``); after each success the
notebook is stamped with the package digest, the run's id and the date
(``workbench.notebook_freshness``), which the tests compare with the package on disk.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench.notebook_freshness import package_digest, stamp_file
from workbench.notebook_metadata import stabilise_file
from workbench.notebook_navigation import refresh as refresh_navigation


def execute(
    path: Path,
    output: Path,
    *,
    parameters: Mapping[str, Any] | None = None,
    timeout: float | None = None,
) -> Any:
    """Run ``path`` in a fresh python3 kernel, from its own folder; write the run to ``output``.

    A cell error raises ``papermill.PapermillExecutionError``; the executed notebook is returned.
    """
    import papermill

    return papermill.execute_notebook(
        str(path),
        str(output),
        parameters=dict(parameters or {}),
        cwd=str(path.parent),
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=timeout,
    )


def run_all(folder: Path, names: list[str] | None = None) -> int:
    """Execute every ``NN-*.ipynb`` in ``folder`` (or those ``names`` start) in place.

    Returns how many failed.
    """
    import papermill

    failures = 0
    paths = sorted(folder.glob("[0-9][0-9]-*.ipynb"))
    if names:
        paths = [p for p in paths if any(p.name.startswith(name) for name in names)]
    refresh_navigation(folder, names)
    digest, run_id = package_digest(), uuid.uuid4().hex[:12]
    for path in paths:
        started = time.perf_counter()
        try:
            execute(path, path)
        except papermill.PapermillExecutionError as exc:
            failures += 1
            print(f"FAILED {path.name}: {exc.ename}: {exc.evalue}", file=sys.stderr)
            continue
        stamp_file(path, digest, run_id)
        stabilise_file(path)
        print(f"ok     {path.name} ({time.perf_counter() - started:.1f} s)")
    return failures


def main(argv: list[str] | None = None) -> int:
    """Run ``[FOLDER [NAME ...]]`` (default: every notebook of ``notebooks``); 1 on a failure.

    ``python -m workbench.notebooks_run notebooks 00 09`` re-executes notebooks 00 and 09 only.
    """
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "notebooks")
    return 1 if run_all(folder, args[1:]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
