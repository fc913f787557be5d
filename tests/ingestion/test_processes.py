"""Process pools: warm workers from a fork server, set up like their parent."""

from __future__ import annotations

import importlib
import multiprocessing

import pytest

from workbench.ingestion.processes import PRELOAD, worker_context


class TestWorkerContext:
    """Where worker processes come from."""

    @pytest.mark.skipif(
        "forkserver" not in multiprocessing.get_all_start_methods(), reason="no fork server here"
    )
    def test_fork_server_preloading_what_workers_need(self) -> None:
        """Workers are forked from a fork server that has imported the worker's modules."""
        context = worker_context()
        assert context.get_start_method() == "forkserver"
        assert "workbench.ingestion.processes" in PRELOAD

    def test_preloaded_modules_exist(self) -> None:
        """Every preloaded module imports, so the fork server starts."""
        for name in PRELOAD:
            assert importlib.import_module(name) is not None
