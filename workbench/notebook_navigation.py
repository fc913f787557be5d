"""Prev/next navigation in the numbered notebooks, and the start page's contents, generated.

    refresh(Path("notebooks"))     # every NN-*.ipynb, and Start-Here's contents
    outdated(Path("notebooks"))    # the notebooks whose navigation is not what refresh writes

Each numbered notebook gets one markdown line under its title cell and the same line as its
last cell, linking the previous notebook, the start page and the next one by file name, with
the titles their own first headings give (``# 03 · Context Managers``). The cells are marked
in their metadata (``workbench.navigation``: ``top`` / ``bottom``), so a refresh replaces
them instead of adding more, and leaves a notebook that is already right untouched (same
bytes, no churn in git). The start page's teaching-track table is one more generated cell
(``contents``), so a new notebook cannot be missing from it. ``make notebooks`` refreshes them
(``workbench.notebooks_run``); ``python -m workbench.notebook_navigation notebooks`` does
it alone.
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path
from typing import Any

from workbench.notebook_metadata import read_notebook, write_notebook

__all__ = ["HOME", "contents_table", "navigation_line", "outdated", "refresh", "title"]

#: The start page every notebook links as home; a folder without one gets no navigation.
HOME = "Start-Here.ipynb"
#: A line of links only, e.g. ``[< previous](01-X.ipynb) | [contents](00-Y.ipynb)``: the
#: navigation the notebooks carried by hand before it was generated (removed on refresh).
_HAND_WRITTEN = re.compile(
    r"^\[(< )?(previous|contents|next >?)\]\([^)]*\)( \| \[[^\]]*\]\([^)]*\))*$"
)


def numbered(folder: Path) -> list[Path]:
    """Return the folder's numbered notebooks (``NN-*.ipynb``) in order."""
    return sorted(folder.glob("[0-9][0-9]-*.ipynb"))


def _load(path: Path) -> dict[str, Any]:
    """Read a notebook's JSON."""
    return read_notebook(path)


def title(path: Path) -> str:
    """Return a notebook's title: its first ``# `` heading, else its file name in words."""
    for cell in _load(path)["cells"]:
        if cell["cell_type"] == "markdown":
            first = "".join(cell["source"]).lstrip().splitlines()[:1]
            if first and first[0].startswith("# "):
                return first[0][2:].strip()
            break
    return path.stem.replace("-", " ")


def navigation_line(paths: list[Path], index: int) -> str:
    """Return the markdown line linking ``paths[index]``'s previous notebook, home and next."""
    home_title = title(paths[index].parent / HOME)
    links = [f"[{home_title}]({HOME})"]
    if index > 0:
        links.insert(0, f"[< {title(paths[index - 1])}]({paths[index - 1].name})")
    if index + 1 < len(paths):
        links.append(f"[{title(paths[index + 1])} >]({paths[index + 1].name})")
    return " | ".join(links)


def contents_table(paths: list[Path]) -> str:
    """Return the start page's teaching-track table: every numbered notebook, linked."""
    rows = [f"| [{title(path)}]({path.name}) |" for path in paths]
    return "\n".join(["| notebook |", "|---|", *rows])


def _cell(text: str, place: str, existing: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the generated markdown cell for ``place``: ``existing`` with ``text``, else new.

    An existing cell keeps its id and whatever metadata a run added (papermill's), so a
    notebook whose links are right compares equal to its refreshed self.
    """
    if existing is not None:
        return {**existing, "source": text.splitlines(keepends=True)}
    return {
        "cell_type": "markdown",
        "id": f"navigation-{place}",
        "metadata": {"workbench": {"navigation": place}},
        "source": text.splitlines(keepends=True),
    }


def _place(cell: dict[str, Any]) -> str | None:
    """Return where a generated cell belongs (top, bottom, contents), None for any other."""
    workbench = cell.get("metadata", {}).get("workbench", {})
    return workbench.get("navigation") if isinstance(workbench, dict) else None


def _without_hand_written(cell: dict[str, Any]) -> None:
    """Drop lines of hand-written navigation links from a markdown cell, and blank lines left."""
    lines = "".join(cell["source"]).splitlines()
    kept = [line for line in lines if not _HAND_WRITTEN.match(line.strip())]
    if kept != lines:
        cell["source"] = "\n".join(kept).rstrip("\n").splitlines(keepends=True)


def navigate(notebook: dict[str, Any], line: str) -> dict[str, Any]:
    """Return a copy of ``notebook`` with ``line`` under its title cell and as its last cell."""
    result = copy.deepcopy(notebook)
    found = {_place(cell): cell for cell in result["cells"] if _place(cell) in ("top", "bottom")}
    cells = [cell for cell in result["cells"] if _place(cell) not in ("top", "bottom")]
    if cells and cells[0]["cell_type"] == "markdown":
        _without_hand_written(cells[0])
    top, bottom = (_cell(line, place, found.get(place)) for place in ("top", "bottom"))
    result["cells"] = [*cells[:1], top, *cells[1:], bottom]
    return result


def with_contents(home: dict[str, Any], table: str) -> dict[str, Any]:
    """Return a copy of the start page with its generated contents cell set to ``table``."""
    result = copy.deepcopy(home)
    for index, cell in enumerate(result["cells"]):
        if _place(cell) == "contents":
            result["cells"][index] = _cell(table, "contents", cell)
            return result
    raise ValueError(f"{HOME} has no cell marked workbench.navigation = 'contents'")


def _expected(folder: Path) -> dict[Path, dict[str, Any]]:
    """Return every notebook of ``folder`` that carries navigation, as refresh would write it."""
    if not (folder / HOME).is_file():
        return {}
    paths = numbered(folder)
    expected = {
        path: navigate(_load(path), navigation_line(paths, i)) for i, path in enumerate(paths)
    }
    expected[folder / HOME] = with_contents(_load(folder / HOME), contents_table(paths))
    return expected


def outdated(folder: Path) -> list[Path]:
    """Return the notebooks of ``folder`` whose navigation differs from what refresh writes."""
    return [path for path, notebook in _expected(folder).items() if notebook != _load(path)]


def refresh(folder: Path, names: list[str] | None = None) -> list[Path]:
    """Write the navigation of ``folder``'s notebooks (``names``' only, and home); return changed.

    The links are computed from every numbered notebook; a notebook already right is not
    rewritten.
    """
    changed = []
    for path, notebook in _expected(folder).items():
        chosen = path.name == HOME or not names or any(path.name.startswith(n) for n in names)
        if chosen and notebook != _load(path):
            write_notebook(path, notebook)
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    """Refresh ``[FOLDER [NAME ...]]`` (default: every notebook of ``notebooks``); print changes."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "notebooks")
    for path in refresh(folder, args[1:]):
        print(f"navigation refreshed: {path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
