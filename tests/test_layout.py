"""The package's layout stays readable: short modules that say what they are for, all mapped."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from workbench.services.common import project_root

ROOT = project_root()
MODULES = sorted((ROOT / "workbench").rglob("*.py"))
#: "About 300 lines at most": a little slack, never a second screenful.
MAX_LINES = 320


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_is_short_and_opens_with_its_purpose(path: Path) -> None:
    """Each module has a docstring and stays under the size limit."""
    source = path.read_text(encoding="utf-8")
    assert len(source.splitlines()) <= MAX_LINES
    assert ast.get_docstring(ast.parse(source)), f"{path} has no module docstring"


def test_the_readme_maps_every_folder_and_notebook() -> None:
    """The README's Layout section names every package folder and every notebook."""
    layout = (ROOT / "README.md").read_text(encoding="utf-8").split("## Layout", 1)[1]
    folders = [p.name for p in (ROOT / "workbench").iterdir() if (p / "__init__.py").is_file()]
    assert all(f"{name}/" in layout for name in folders), folders
    notebooks = [p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")]
    assert all(f"| {name} |" in layout for name in notebooks), notebooks
