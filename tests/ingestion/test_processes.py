"""Process pools: warm workers from a fork server, set up like their parent."""

from __future__ import annotations

import importlib
import multiprocessing
from typing import Any

import pytest

from workbench.ingestion import processes
from workbench.ingestion.processes import PRELOAD, process_pool, worker_context


def processor_in_worker(resource: str) -> str:
    """Name the class of the processor a pool worker builds for ``resource`` (runs there)."""
    assert processes._process_state is not None
    ingestor, worker = processes._process_state
    return type(worker.processor(resource, ingestor.cpu_cost, ingestor.processor)).__name__


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


class TestWorkersProcessLikeTheParent:
    """A worker process rebuilds the ingestor with its settings, the processor included."""

    @pytest.mark.parametrize(
        ("kind", "name"), [("records", "Processor"), ("pandas", "PandasProcessor")]
    )
    def test_workers_use_the_ingestors_processor(self, build: Any, kind: str, name: str) -> None:
        """The processor named to the ingestor is the one its worker processes build."""
        ingestor = build("multiprocess", "http://127.0.0.1:9", processor=kind)
        with process_pool(ingestor, 1) as pool:
            assert pool.submit(processor_in_worker, "posts").result(timeout=60) == name
