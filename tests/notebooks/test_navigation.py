"""Every numbered notebook links its neighbours and the start page, as the generator writes it."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from workbench.notebook_navigation import (
    HOME,
    contents_table,
    navigation_line,
    outdated,
    refresh,
    title,
)
from workbench.services.common import project_root

NOTEBOOKS = project_root() / "notebooks"


def make_notebook(path: Path, heading: str, *more: str) -> Path:
    """Write a notebook whose first cell is ``heading`` and whose other cells are ``more``."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(heading)]
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in more]
    nbformat.write(notebook, path)
    return path


def make_folder(folder: Path) -> list[Path]:
    """Write a start page with a contents cell and three numbered notebooks."""
    home = nbformat.v4.new_notebook()
    contents = nbformat.v4.new_markdown_cell("stale")
    contents.metadata = {"workbench": {"navigation": "contents"}}
    home.cells = [nbformat.v4.new_markdown_cell("# Start here"), contents]
    nbformat.write(home, folder / HOME)
    return [
        make_notebook(folder / "00-First.ipynb", "# 00 · First\n\n[contents](00-First.ipynb)"),
        make_notebook(folder / "01-Second-One.ipynb", "# 01 · Second one", "x = 1"),
        make_notebook(folder / "02-Third.ipynb", "no heading here"),
    ]


def sources(path: Path) -> list[str]:
    """Return a notebook's cell sources as strings."""
    return ["".join(cell["source"]) for cell in json.loads(path.read_text())["cells"]]


class TestGenerator:
    """The generator writes one line at the top and bottom, and the start page's table."""

    def test_titles_come_from_headings_else_file_names(self, tmp_path: Path) -> None:
        """A notebook's first heading is its title; without one, its file name in words."""
        first, _, third = make_folder(tmp_path)
        assert title(first) == "00 · First" and title(third) == "02 Third"

    def test_lines_link_previous_home_and_next(self, tmp_path: Path) -> None:
        """The middle notebook links both neighbours; the ends link only the one they have."""
        paths = make_folder(tmp_path)
        assert navigation_line(paths, 1) == (
            "[< 00 · First](00-First.ipynb) | [Start here](Start-Here.ipynb)"
            " | [02 Third >](02-Third.ipynb)"
        )
        assert navigation_line(paths, 0).startswith("[Start here](Start-Here.ipynb) | ")
        assert navigation_line(paths, 2).endswith(" | [Start here](Start-Here.ipynb)")

    def test_refresh_places_the_line_under_the_title_and_at_the_end(self, tmp_path: Path) -> None:
        """The title cell stays first, hand-written links leave it, the code is untouched."""
        paths = make_folder(tmp_path)
        changed = refresh(tmp_path)
        assert set(changed) == {*paths, tmp_path / HOME}
        cells = sources(paths[1])
        line = navigation_line(paths, 1)
        assert cells == ["# 01 · Second one", line, "x = 1", line]
        assert sources(paths[0])[0] == "# 00 · First"  # the hand-written link line is gone
        assert sources(tmp_path / HOME)[1] == contents_table(paths)

    def test_refresh_is_idempotent(self, tmp_path: Path) -> None:
        """A second refresh changes no file, not even a byte."""
        make_folder(tmp_path)
        refresh(tmp_path)
        before = {path: path.read_bytes() for path in tmp_path.iterdir()}
        assert refresh(tmp_path) == [] and outdated(tmp_path) == []
        assert {path: path.read_bytes() for path in tmp_path.iterdir()} == before

    def test_metadata_a_run_adds_keeps_the_links_current(self, tmp_path: Path) -> None:
        """Papermill's metadata on the generated cells is kept, and is no reason to refresh."""
        paths = make_folder(tmp_path)
        refresh(tmp_path)
        notebook = nbformat.read(paths[1], as_version=4)
        for cell in notebook.cells:
            cell.metadata["papermill"] = {"duration": 0.1}
        nbformat.write(notebook, paths[1])
        assert outdated(tmp_path) == [] and refresh(tmp_path) == []

    def test_a_new_notebook_makes_its_neighbour_outdated(self, tmp_path: Path) -> None:
        """Adding a notebook leaves the old last one and the start page to refresh."""
        paths = make_folder(tmp_path)
        refresh(tmp_path)
        make_notebook(tmp_path / "03-Fourth.ipynb", "# 03 · Fourth")
        assert outdated(tmp_path) == [paths[2], tmp_path / "03-Fourth.ipynb", tmp_path / HOME]

    def test_names_limit_the_notebooks_refreshed(self, tmp_path: Path) -> None:
        """Only the named notebooks (and the start page) are written."""
        paths = make_folder(tmp_path)
        assert refresh(tmp_path, ["01"]) == [paths[1], tmp_path / HOME]

    def test_a_folder_without_a_start_page_gets_none(self, tmp_path: Path) -> None:
        """Model answers and other folders without a home page are left alone."""
        make_notebook(tmp_path / "01-Answer.ipynb", "# 01 · Answer")
        assert refresh(tmp_path) == [] and outdated(tmp_path) == []


def test_every_notebook_has_current_navigation() -> None:
    """Each numbered notebook and the start page carry the navigation the generator writes."""
    behind = outdated(NOTEBOOKS)
    if behind:
        pytest.fail(
            f"navigation out of date in {', '.join(path.name for path in behind)}: run "
            ".venv/bin/python -m workbench.notebook_navigation notebooks (make notebooks does)",
            pytrace=False,
        )
