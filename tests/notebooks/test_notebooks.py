"""Every notebook runs top to bottom under papermill with its quick parameters, checks passing.

A notebook declares its quick parameters in its metadata (``workbench.quick_parameters``) and
ends with a code cell tagged ``checks`` whose asserts state the outcomes it is meant to show
(the rollback left the table unchanged, async beat sync at added latency, ...). papermill
fails on any cell error, so a failed check fails the test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from workbench.notebooks_run import execute
from workbench.playground import MEASUREMENTS_ENV
from workbench.services.common import project_root

NOTEBOOKS = sorted((project_root() / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def load(path: Path) -> dict[str, Any]:
    """Read a notebook's JSON."""
    return json.loads(path.read_text())


def tagged(notebook: dict[str, Any], tag: str) -> list[dict[str, Any]]:
    """Return the notebook's code cells carrying ``tag``."""
    return [
        cell
        for cell in notebook["cells"]
        if cell["cell_type"] == "code" and tag in cell.get("metadata", {}).get("tags", [])
    ]


def test_there_are_notebooks() -> None:
    """The notebooks folder holds the numbered notebooks."""
    assert len(NOTEBOOKS) >= 10


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
class TestNotebook:
    """One notebook: its structure, then a quick papermill run."""

    def test_structure(self, path: Path) -> None:
        """The first code cell is tagged parameters and a checks cell with asserts exists."""
        notebook = load(path)
        code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
        assert "parameters" in code[0].get("metadata", {}).get("tags", [])
        checks = tagged(notebook, "checks")
        assert checks, "no cell tagged 'checks'"
        assert any("assert " in "".join(cell["source"]) for cell in checks)
        assert "quick_parameters" in notebook["metadata"].get("workbench", {})
        first_markdown = "".join(notebook["cells"][0]["source"])
        assert first_markdown.startswith("# ")

    def test_runs_with_quick_parameters(
        self, path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """papermill runs the notebook from a fresh kernel without a cell error."""
        monkeypatch.setenv(MEASUREMENTS_ENV, str(tmp_path / "measurements.json"))
        parameters = load(path)["metadata"]["workbench"]["quick_parameters"]
        execute(path, tmp_path / path.name, parameters=parameters, timeout=600)
