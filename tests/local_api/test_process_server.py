"""The source API run as a child process (what benchmarks measure against)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from workbench.local_api import FaultConfig
from workbench.local_api.process_server import serve_command, serve_in_process


class TestServeInProcess:
    """A child-process server answers, counts, resets, and stops on exit."""

    def test_serves_pages_counts_faults_and_stops(self) -> None:
        """Pages come with X-Total-Count, faults are counted on /stats, and the process ends."""
        with serve_in_process(scale=2, faults=FaultConfig(always_fail=("_page=2&",))) as server:
            with urllib.request.urlopen(f"{server.url}/posts?_page=1&_limit=5") as answer:
                assert answer.headers["X-Total-Count"] == "200"
                assert len(json.load(answer)) == 5
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(f"{server.url}/posts?_page=2&_limit=5")
            assert info.value.code == 500
            stats = server.stats()
            assert stats["requests_total"] == 2
            assert stats["faults"]["always_fail"] == 1
            server.reset_stats()
            assert server.stats()["requests_total"] == 0
            process = server.process
        assert process.poll() is not None

    def test_command_carries_every_fault_setting(self) -> None:
        """Each non-default fault setting reaches the child's command line."""
        faults = FaultConfig(seed=7, latency_ms=5, error_rate=0.25, always_fail=("x", "y"))
        command = serve_command(3, 0.5, faults)
        assert float(command[command.index("--latency-ms") + 1]) == 5
        assert command[command.index("--error-rate") + 1] == "0.25"
        assert command[command.index("--fault-seed") + 1] == "7"
        assert command[command.index("--seed") + 1] == "3"
        assert [command[i + 1] for i, a in enumerate(command) if a == "--always-fail"] == ["x", "y"]
