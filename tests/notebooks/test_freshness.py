"""Committed notebooks ran against the package on disk; the digest that says so is stable."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from workbench.notebook_freshness import (
    FRESHNESS_KEY,
    package_digest,
    recorded,
    rerun_command,
    stale,
    stamp,
    stamp_file,
)
from workbench.services.common import project_root

ROOT = project_root()
#: The notebooks ``make notebooks`` executes: the teaching track and the model answers.
EXECUTED = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")) + sorted(
    (ROOT / "notebooks" / "exercises" / "solutions").glob("[0-9][0-9]-*.ipynb")
)


def write_package(folder: Path, files: dict[str, bytes]) -> Path:
    """Write a small package of ``files`` (relative path -> bytes) under ``folder``."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return folder


class TestPackageDigest:
    """The digest names the package source exactly: every path and every byte of code."""

    def test_the_same_source_gives_the_same_digest(self, tmp_path: Path) -> None:
        """Two copies of one source, written in another order, share their digest."""
        files = {"a.py": b"x = 1\n", "sub/b.py": b"y = 2\n"}
        first = write_package(tmp_path / "one", files)
        second = write_package(tmp_path / "two", dict(reversed(files.items())))
        assert package_digest(first) == package_digest(second)
        assert package_digest(first).startswith("sha256:")

    def test_a_changed_line_changes_it(self, tmp_path: Path) -> None:
        """Editing one module's content gives another digest."""
        package = write_package(tmp_path, {"a.py": b"x = 1\n"})
        before = package_digest(package)
        (package / "a.py").write_bytes(b"x = 2\n")
        assert package_digest(package) != before

    def test_a_moved_module_changes_it(self, tmp_path: Path) -> None:
        """The same content under another path gives another digest."""
        package = write_package(tmp_path, {"a.py": b"x = 1\n"})
        before = package_digest(package)
        (package / "a.py").rename(package / "b.py")
        assert package_digest(package) != before

    def test_line_endings_and_other_files_do_not_count(self, tmp_path: Path) -> None:
        """A Windows checkout and non-Python files leave the digest as it was."""
        package = write_package(tmp_path, {"a.py": b"x = 1\ny = 2\n"})
        before = package_digest(package)
        write_package(package, {"a.py": b"x = 1\r\ny = 2\r\n", "data.json": b"{}"})
        assert package_digest(package) == before


class TestStamp:
    """A stamped notebook records what it ran against; an unstamped one is stale."""

    def test_stamp_records_digest_run_and_date(self) -> None:
        """The stamp goes to metadata.workbench, beside what is already there."""
        notebook = {"metadata": {"workbench": {"quick_parameters": {}}}, "cells": []}
        stamp(notebook, "sha256:abc", "run1", "2026-01-02")
        workbench = notebook["metadata"]["workbench"]
        assert workbench[FRESHNESS_KEY] == {
            "package_digest": "sha256:abc",
            "run_id": "run1",
            "date": "2026-01-02",
        }
        assert "quick_parameters" in workbench and recorded(notebook) == "sha256:abc"

    def test_stale_lists_the_unstamped_and_the_other_digests(self, tmp_path: Path) -> None:
        """Only a notebook stamped with the current digest counts as fresh."""
        paths = {}
        for name in ("00-fresh", "01-old", "02-never"):
            notebook = nbformat.v4.new_notebook()
            paths[name] = tmp_path / f"{name}.ipynb"
            nbformat.write(notebook, paths[name])
        stamp_file(paths["00-fresh"], "sha256:now", "run2")
        stamp_file(paths["01-old"], "sha256:before", "run1")
        assert stale(paths.values(), "sha256:now") == [paths["01-old"], paths["02-never"]]
        stamped = json.loads(paths["00-fresh"].read_text())["metadata"]["workbench"]
        assert stamped[FRESHNESS_KEY]["run_id"] == "run2"

    def test_the_command_reruns_each_folder_by_number(self, tmp_path: Path) -> None:
        """The message names the notebooks_run command for each folder, numbers in order."""
        paths = [
            tmp_path / "notebooks" / "09-B.ipynb",
            tmp_path / "notebooks" / "03-A.ipynb",
            tmp_path / "notebooks" / "sol" / "01-C.ipynb",
        ]
        assert rerun_command(paths, tmp_path) == (
            ".venv/bin/python -m workbench.notebooks_run notebooks/ 03 09"
            " && .venv/bin/python -m workbench.notebooks_run notebooks/sol/ 01"
        )


def test_every_executed_notebook_ran_against_this_package() -> None:
    """Each committed notebook's outputs came from the package source now on disk."""
    assert EXECUTED
    behind = stale(EXECUTED, package_digest())
    if behind:
        names = ", ".join(path.name for path in behind)
        pytest.fail(
            f"{len(behind)} notebook(s) ran against other workbench source than is on disk "
            f"(or were never executed by make notebooks): {names}. With the services up, "
            f"re-execute them: {rerun_command(behind, ROOT)} (make notebooks re-executes all)",
            pytrace=False,
        )
