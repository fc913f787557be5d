"""Process pools: warm workers from a fork server, set up like their parent."""

from __future__ import annotations

import importlib
import multiprocessing
from typing import Any

import pytest

from workbench.ingestion import processes
from workbench.ingestion.processes import PRELOAD, process_pool, worker_context
from workbench.local_api import ServerHandle
from workbench.sources.http_api import HttpApiSource
from workbench.sources.source import Payload, WorkUnit


def processor_in_worker(resource: str) -> str:
    """Name the class of the processor a pool worker builds for ``resource`` (runs there)."""
    assert processes._process_state is not None
    ingestor, worker = processes._process_state
    return type(worker.processor(resource, ingestor.cpu_cost, ingestor.processor)).__name__


class BuggySource(HttpApiSource):
    """The local API, but page 3 of posts meets a bug, an error outside workbench's tree."""

    def fetch(self, unit: WorkUnit, session: Any = None) -> Payload:
        """Fetch the page, except page 3 of posts: a KeyError, as from a bug (runs there)."""
        if (unit.resource, unit.page) == ("posts", 3):
            raise KeyError("a bug in the worker")
        return super().fetch(unit, session)


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


class TestWorkerErrors:
    """What a worker process does with an error no part of workbench raises."""

    def test_an_unexpected_error_fails_its_page_and_only_it(
        self, api: ServerHandle, build: Any, expected: Any
    ) -> None:
        """A KeyError in a worker fails that page, named with its error; the rest are saved."""
        ingestor = build("multiprocess", api.url, cache=False, workers=2)
        ingestor.source = BuggySource(api.url, name="local", page_size=10, timeout_s=2)
        report = ingestor.run()
        assert [(f["resource"], f["page"]) for f in report.failed_pages] == [("posts", 3)]
        assert report.failed_pages[0]["reason"] == "KeyError: 'a bug in the worker'"
        assert report.status == "failed" and not report.ok
        assert ingestor.store.count("local", "posts") == expected.totals["posts"] - 10
        for resource in set(expected.totals) - {"posts"}:
            assert ingestor.store.count("local", resource) == expected.totals[resource]
