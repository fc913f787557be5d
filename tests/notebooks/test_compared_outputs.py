"""Outputs that must not drift are compared by nbval, with only what varies masked.

A cell marked ``# NBVAL_CHECK_OUTPUT`` has its stored output compared with a fresh run's by
``make test`` (nbval-lax); ``notebooks/sanitize.cfg`` masks what differs between runs and
machines (durations, ports, paths, run ids). A cell that prints source code must be marked:
its output is the code a learner is told they are reading.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from nbval.plugin import get_sanitize_patterns

from workbench.services.common import project_root

ROOT = project_root()
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
MARK = "# NBVAL_CHECK_OUTPUT"
#: A call that prints or diffs a function's source: ``inspect.getsource(...)``.
PRINTS_SOURCE = re.compile(r"\bgetsource(lines)?\(")


def sanitize(text: str) -> str:
    """Apply notebooks/sanitize.cfg to ``text`` as nbval does, in the file's order."""
    patterns = get_sanitize_patterns((ROOT / "notebooks" / "sanitize.cfg").read_text("utf-8"))
    for regex, replace in patterns:
        text = re.sub(regex, replace, text)
    return text


@pytest.mark.parametrize(
    ("varying", "masked"),
    [
        ("add finished in 0.052s", "add finished in DURATION"),
        ("took 12 ms and 3.5 s", "took DURATION and DURATION"),
        ("2026-11-28T14:14:24.102+00:00 INFO", "TIMESTAMP INFO"),
        ("http://127.0.0.1:38217/posts", "http://127.0.0.1:PORT/posts"),
        ("redis://127.0.0.1:59009/0", "redis://127.0.0.1:PORT/0"),
        ("host=/work/wt-nb9/.workbench/postgres/data", "host=PROJECT/.workbench/postgres/data"),
        ("run 743ed494586b ok", "run RUN-ID ok"),
        ("cache_namespace='wb:pg-11963648'", "cache_namespace='wb:pg-NAMESPACE'"),
        ("<object at 0x7f3a2c>", "<object at 0xADDRESS>"),
    ],
)
def test_sanitizers_mask_what_varies(varying: str, masked: str) -> None:
    """Each sanitizer turns a varying value into one placeholder, leaving the rest alone."""
    assert sanitize(varying) == masked


def test_sanitizers_leave_fixed_facts_alone() -> None:
    """Counts, names and messages that should be compared survive sanitizing."""
    fact = "abstract: ['schedule'] | DEFAULT_BATCH_ROWS = 5000 | page_size: got 0"
    assert sanitize(fact) == fact


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_cells_printing_source_are_compared(path: Path) -> None:
    """A cell printing source code is marked for nbval, so its output cannot go stale."""
    cells = json.loads(path.read_text("utf-8"))["cells"]
    unmarked = [
        index
        for index, cell in enumerate(cells)
        if cell["cell_type"] == "code"
        and PRINTS_SOURCE.search(source := "".join(cell["source"]))
        and MARK not in source
    ]
    assert not unmarked, f"{path.name}: cells {unmarked} print source code; mark them {MARK}"
