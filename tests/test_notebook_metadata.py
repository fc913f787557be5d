"""Notebooks keep stable metadata: a re-run of an unchanged notebook rewrites nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from workbench.notebook_freshness import FRESHNESS_KEY
from workbench.notebook_metadata import main, stabilise, stabilise_file
from workbench.notebooks_run import run_all
from workbench.services.common import project_root

NOTEBOOK = project_root() / "notebooks" / "00-Overview-and-Setup.ipynb"


def executed() -> dict[str, Any]:
    """A notebook as papermill leaves it: its timings beside what the project reads."""
    return {
        "metadata": {
            "kernelspec": {"name": "python3"},
            "papermill": {"duration": 2.5, "start_time": "2026-11-30T10:29:21"},
            "workbench": {"quick_parameters": {"SCALE": 0.5}},
        },
        "cells": [
            {
                "cell_type": "code",
                "metadata": {
                    "tags": ["parameters"],
                    "papermill": {"status": "completed", "duration": 0.01},
                    "execution": {"iopub.status.busy": "2026-11-30T10:29:22"},
                },
                "outputs": [{"output_type": "stream", "text": ["2\n"]}],
            },
            {"cell_type": "markdown", "metadata": {}, "source": ["# title"]},
        ],
    }


class TestStabilise:
    """What is dropped and what is kept."""

    def test_timings_go_and_what_the_project_reads_stays(self) -> None:
        """The run's timings go; workbench metadata, tags and outputs stay."""
        notebook = executed()
        assert stabilise(notebook) is True
        assert notebook["metadata"] == {
            "kernelspec": {"name": "python3"},
            "workbench": {"quick_parameters": {"SCALE": 0.5}},
        }
        code, markdown = notebook["cells"]
        assert code["metadata"] == {"tags": ["parameters"]}
        assert code["outputs"] == [{"output_type": "stream", "text": ["2\n"]}]
        assert markdown == executed()["cells"][1]

    def test_a_stable_notebook_is_left_alone(self) -> None:
        """A second pass finds nothing to drop."""
        notebook = executed()
        stabilise(notebook)
        assert stabilise(notebook) is False


class TestFiles:
    """Notebook files rewritten as Jupyter writes them."""

    def test_a_committed_notebook_changes_in_its_metadata_only(self, tmp_path: Path) -> None:
        """Every cell's source and outputs are byte-for-byte the same; the layout is Jupyter's."""
        path = tmp_path / NOTEBOOK.name
        shutil.copy(NOTEBOOK, path)
        stabilise_file(path)
        before, after = json.loads(NOTEBOOK.read_text()), json.loads(path.read_text())
        strip = ("metadata",)
        assert [{k: v for k, v in c.items() if k not in strip} for c in after["cells"]] == [
            {k: v for k, v in c.items() if k not in strip} for c in before["cells"]
        ]
        assert after["metadata"]["workbench"] == before["metadata"]["workbench"]
        assert "papermill" not in after["metadata"]
        assert path.read_text().endswith("\n") == NOTEBOOK.read_text().endswith("\n")
        assert stabilise_file(path) is False

    def test_the_hook_fails_once_when_it_changed_a_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Status 1 and the file named when metadata was dropped, then 0 on the clean file."""
        path = tmp_path / "a.ipynb"
        path.write_text(json.dumps(executed()))
        assert main([str(path)]) == 1
        assert f"stabilised the metadata of {path}" in capsys.readouterr().out
        assert main([str(path)]) == 0


@pytest.mark.slow
def test_re_executing_an_unchanged_notebook_rewrites_nothing(tmp_path: Path) -> None:
    """Running a deterministic notebook twice, as make notebooks does, changes only its run id."""
    cell = {"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {},
            "outputs": [], "source": ["print(6 * 7)"]}  # fmt: skip
    notebook = {"cells": [cell], "metadata": {"kernelspec": {"name": "python3",
                "display_name": "Python 3", "language": "python"}, "workbench": {"k": 1}},
                "nbformat": 4, "nbformat_minor": 5}  # fmt: skip
    path = tmp_path / "00-Tiny.ipynb"
    path.write_text(json.dumps(notebook))
    assert run_all(tmp_path) == 0
    first = path.read_text()
    assert run_all(tmp_path) == 0
    second = path.read_text()
    stamps = [
        json.loads(text)["metadata"]["workbench"].pop(FRESHNESS_KEY) for text in (first, second)
    ]
    assert stamps[0]["run_id"] != stamps[1]["run_id"]
    run_id = stamps[0]["run_id"]
    assert second.replace(stamps[1]["run_id"], run_id) == first
    saved = json.loads(first)
    del saved["metadata"]["workbench"][FRESHNESS_KEY]
    assert saved["metadata"]["workbench"] == {"k": 1} and "papermill" not in saved["metadata"]
    assert saved["cells"][0]["outputs"][0]["text"] == ["42\n"]
