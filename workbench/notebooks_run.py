"""Re-execute the notebooks in place with their full parameters (``make notebooks``).

Committed notebooks carry their outputs so a reader sees results without running anything;
this regenerates them, one fresh kernel per notebook, in name order.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def run_all(folder: Path) -> int:
    """Execute every ``NN-*.ipynb`` in ``folder`` in place; return how many failed."""
    import papermill

    failures = 0
    for path in sorted(folder.glob("[0-9][0-9]-*.ipynb")):
        started = time.perf_counter()
        try:
            papermill.execute_notebook(
                str(path), str(path), cwd=str(folder), kernel_name="python3", progress_bar=False
            )
        except papermill.PapermillExecutionError as exc:
            failures += 1
            print(f"FAILED {path.name}: {exc.ename}: {exc.evalue}", file=sys.stderr)
            continue
        print(f"ok     {path.name} ({time.perf_counter() - started:.1f} s)")
    return failures


def main(argv: list[str] | None = None) -> int:
    """Run the notebooks of the folder given (default ``notebooks``); exit 1 on a failure."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "notebooks")
    return 1 if run_all(folder) else 0


if __name__ == "__main__":
    raise SystemExit(main())
